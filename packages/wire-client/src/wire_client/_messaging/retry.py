# SPDX-License-Identifier: MIT
"""Exact retries (docs/PROTOCOL.md §6.6): the same peer, type, kind, body and deadline option sent again
within ``RETRY_WINDOW`` seconds is not signed again; the earlier event's id is reported as a duplicate.

Every event carries its own timestamp, so two sends of one body get different event ids and the relay
cannot tell a retry from a second message; this index, kept in the sending home, can. It lives in
``state/sent/retry-index.json``, holds at most ``MAX_ENTRIES`` keys younger than the window, and is
updated under a file lock so two concurrent identical sends produce one event."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from wire_client._home.files import update_json
from wire_client._home.paths import WireHome
from wire_protocol import JSON, canonical_bytes

__all__ = ["MAX_ENTRIES", "RETRY_WINDOW", "EarlierSend", "RetryIndex", "retry_key"]

#: seconds during which an identical send is an exact retry
RETRY_WINDOW = 600
#: bound on the index (oldest keys go first)
MAX_ENTRIES = 1024


def retry_key(peer: str, type: str, kind: int | None, body: JSON, deadline: object) -> str:
    """SHA-256 over the canonical JSON of what the operator asked for (never the timestamp or the id)."""
    request: JSON = {
        "peer": peer,
        "type": type,
        "kind": kind,
        "body": body,
        "deadline": None if deadline is None else str(deadline),
    }
    return hashlib.sha256(canonical_bytes(request, strict=False, allow_floats=True)).hexdigest()


@dataclass(frozen=True, slots=True)
class EarlierSend:
    event_id: str
    age_seconds: float


class RetryIndex:
    """Which retry key produced which event id, and when (this home only)."""

    def __init__(self, home: WireHome, *, window: float = RETRY_WINDOW) -> None:
        self.path = home.sent_dir / "retry-index.json"
        self.window = window

    def claim(self, key: str, event_id: str) -> EarlierSend | None:
        """The earlier send for ``key`` inside the window; else record ``event_id`` under it and ``None``."""
        now = time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def modify(current: JSON) -> tuple[JSON, EarlierSend | None]:
            entries = self._live(current, now)
            if key in entries:
                earlier_id, at = entries[key]
                return _dump(entries), EarlierSend(earlier_id, now - at)
            entries[key] = (event_id, now)
            for stale in sorted(entries, key=lambda k: entries[k][1])[: max(0, len(entries) - MAX_ENTRIES)]:
                del entries[stale]
            return _dump(entries), None

        return update_json(self.path, modify, default={}, mode=0o600, fsync=False)

    def release(self, key: str, event_id: str) -> None:
        """Forget ``key`` when ``event_id`` never left (refused, or the send failed): a retry then sends."""

        def modify(current: JSON) -> tuple[JSON, None]:
            entries = dict(current) if isinstance(current, dict) else {}
            entry = entries.get(key)
            if isinstance(entry, dict) and entry.get("event_id") == event_id:
                del entries[key]
            return entries, None

        update_json(self.path, modify, default={}, mode=0o600, fsync=False)

    def _live(self, current: JSON, now: float) -> dict[str, tuple[str, float]]:
        """The entries still inside the window (malformed ones dropped: the file is ours, but be strict)."""
        if not isinstance(current, dict):
            return {}
        live: dict[str, tuple[str, float]] = {}
        for key, entry in current.items():
            if not isinstance(entry, dict):
                continue
            at, event_id = entry.get("at"), entry.get("event_id")
            if isinstance(at, int | float) and isinstance(event_id, str) and 0 <= now - at < self.window:
                live[key] = (event_id, float(at))
        return live


def _dump(entries: dict[str, tuple[str, float]]) -> JSON:
    return {key: {"event_id": event_id, "at": at} for key, (event_id, at) in entries.items()}
