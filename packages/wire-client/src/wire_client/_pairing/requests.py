# SPDX-License-Identifier: MIT
"""Pairing state on disk: pending inbound requests, remembered rejections, coordinate freshness.

* ``pending-inbound-pairs/<handle>.json`` — the reference's record shape (features notes §3),
  mode 0600 because it holds the requester's slot token. Front-ends get :class:`PendingRequest`
  views without the token.
* ``pair-rejections.json`` — event ids and DIDs the operator rejected, so a replayed or re-pulled
  drop never resurrects a request (fixes notes §7.6); accepting or dialing a DID forgives it.
* ``peer-coords.json`` — per peer, the slot ids it has moved away from. Slot ids are random and
  never come back, so coordinates naming a retired slot can only be a replayed older drop, ack or
  wire_close: they never roll a peer's endpoints back. No peer clock is trusted for this.
* ``pair-rejected.jsonl`` — diagnostics: pairing events we refused and why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wire_client._errors import HomeError
from wire_client._home.endpoints import Endpoint, endpoints_of
from wire_client._home.files import append_lines, atomic_write_json, dump_line, read_json, update_json
from wire_client._home.paths import WireHome
from wire_protocol import JSON, JSONObject, character_for, format_timestamp, parse_timestamp

__all__ = ["InboundStore", "PendingRequest"]

log = logging.getLogger(__name__)

#: slot ids remembered per peer as retired (rotations are rare; this bounds a hostile peer's churn)
MAX_RETIRED_SLOTS = 256

_MAX_REMEMBERED = 5000


def now_stamp() -> str:
    return format_timestamp(datetime.now(UTC))


def _text(record: JSONObject, name: str) -> str:
    value = record.get(name)
    return value if isinstance(value, str) else ""


def later(a: str | None, b: str | None) -> bool:
    """True when timestamp ``a`` is strictly later than ``b`` (unparseable counts as oldest)."""

    def parse(text: str | None) -> datetime | None:
        try:
            return parse_timestamp(text) if text else None
        except Exception:  # noqa: BLE001 - any malformed stamp is simply "unknown"
            return None

    pa, pb = parse(a), parse(b)
    if pa is None:
        return False
    return pb is None or pa > pb


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """One pending inbound pair request, as front-ends show it (no slot token)."""

    peer_handle: str
    peer_did: str
    fingerprint: str
    received_at: str
    event_timestamp: str
    event_id: str
    peer_relay_url: str
    record: JSONObject

    @property
    def endpoints(self) -> list[Endpoint]:
        return endpoints_of({**self.record, "endpoints": self.record.get("peer_endpoints")}) or endpoints_of(
            {
                "relay_url": self.record.get("peer_relay_url"),
                "slot_id": self.record.get("peer_slot_id"),
                "slot_token": self.record.get("peer_slot_token"),
            }
        )

    def to_json(self) -> JSONObject:
        character = character_for(self.peer_did or None)
        return {
            "peer_handle": self.peer_handle,
            "peer_did": self.peer_did,
            "fingerprint": self.fingerprint,
            "character": {"nickname": character.nickname, "emoji": character.emoji},
            "received_at": self.received_at,
            "event_timestamp": self.event_timestamp,
            "event_id": self.event_id,
            "peer_relay_url": self.peer_relay_url,
        }

    @classmethod
    def from_record(cls, record: JSONObject) -> PendingRequest:
        did = _text(record, "peer_did")
        suffix = did.rsplit("-", 1)[-1] if "-" in did else ""
        return cls(
            peer_handle=_text(record, "peer_handle"),
            peer_did=did,
            fingerprint=suffix,
            received_at=_text(record, "received_at"),
            event_timestamp=_text(record, "event_timestamp"),
            event_id=_text(record, "event_id"),
            peer_relay_url=_text(record, "peer_relay_url"),
            record=record,
        )


class InboundStore:
    """Pending requests, rejections and coordinate freshness of one home."""

    def __init__(self, home: WireHome) -> None:
        self.home = home
        self._rejections = home.pair_rejections
        self._coords = home.peer_coords
        self._log = home.pair_rejected_log

    # --- pending requests --------------------------------------------------------------------

    def write(self, record: JSONObject) -> bool:
        """Store a request unless a newer one from the same handle is already there."""
        handle = _text(record, "peer_handle")
        path = self.home.pending_inbound_path(handle)
        existing = read_json(path, None)
        if isinstance(existing, dict) and later(_text(existing, "event_timestamp"), _text(record, "event_timestamp")):
            return False
        atomic_write_json(path, record, mode=0o600)
        return True

    def list(self) -> list[PendingRequest]:
        directory = self.home.pending_inbound_dir
        found: list[PendingRequest] = []
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
            try:
                data = read_json(path, None)
            except HomeError as exc:
                log.warning("skipping unreadable pending request %s: %s", path, exc)
                continue
            if isinstance(data, dict) and _text(data, "peer_handle"):
                found.append(PendingRequest.from_record(data))
        return sorted(found, key=lambda p: (p.received_at, p.peer_handle))

    def find(self, name: str) -> PendingRequest | None:
        """By handle, DID or character nickname, case-insensitively."""
        wanted = name.strip().lower()
        for request in self.list():
            nickname = character_for(request.peer_did or None).nickname
            if wanted in (request.peer_handle.lower(), request.peer_did.lower(), nickname.lower()):
                return request
        return None

    def delete(self, handle: str) -> bool:
        path: Path = self.home.pending_inbound_path(handle)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    # --- rejections --------------------------------------------------------------------------

    def _read_rejections(self) -> tuple[dict[str, JSON], dict[str, JSON]]:
        data = read_json(self._rejections, {})
        data = data if isinstance(data, dict) else {}
        dids, events = data.get("dids"), data.get("event_ids")
        return (dids if isinstance(dids, dict) else {}, events if isinstance(events, dict) else {})

    def is_rejected(self, did: str, event_id: str | None) -> bool:
        dids, events = self._read_rejections()
        return did in dids or (event_id is not None and event_id in events)

    def remember_rejection(self, did: str, event_id: str | None) -> None:
        stamp = now_stamp()

        def modify(current: JSON) -> tuple[JSON, None]:
            data: JSONObject = dict(current) if isinstance(current, dict) else {}
            for key, value in (("dids", did), ("event_ids", event_id)):
                table = data.get(key)
                entries: JSONObject = dict(table) if isinstance(table, dict) else {}
                if value:
                    entries[value] = stamp
                data[key] = dict(list(entries.items())[-_MAX_REMEMBERED:])
            return data, None

        update_json(self._rejections, modify, default={})

    def forgive(self, did: str) -> None:
        """We chose to pair with ``did`` after all: its future drops are welcome again."""
        if not self._rejections.exists():
            return

        def modify(current: JSON) -> tuple[JSON, None]:
            data: JSONObject = dict(current) if isinstance(current, dict) else {}
            dids = data.get("dids")
            if isinstance(dids, dict):
                data["dids"] = {k: v for k, v in dids.items() if k != did}
            return data, None

        update_json(self._rejections, modify, default={})

    # --- freshness of applied coordinates ------------------------------------------------------

    def accept_coordinates(self, handle: str, offered: Sequence[str], current: Sequence[str]) -> bool:
        """True, retiring the ``current`` slots that ``offered`` replaces, unless ``offered`` names a retired slot.

        ``offered`` are the slot ids a pairing event asks us to use for ``handle``; ``current`` the
        ones we use now. A refusal means the event is a replay of coordinates the peer already left.
        """

        def modify(existing: JSON) -> tuple[JSON, bool]:
            data: JSONObject = dict(existing) if isinstance(existing, dict) else {}
            entry = data.get(handle)
            listed = entry.get("retired") if isinstance(entry, dict) else None
            retired = [s for s in listed if isinstance(s, str)] if isinstance(listed, list) else []
            if any(slot in retired for slot in offered):
                return data, False
            leaving = [slot for slot in current if slot not in offered and slot not in retired]
            if leaving:
                kept: list[JSON] = []
                kept.extend([*retired, *leaving][-MAX_RETIRED_SLOTS:])
                data[handle] = {"retired": kept}
            return data, True

        return update_json(self._coords, modify, default={})

    def report(self, peer: str, code: str, detail: str) -> None:
        """Record a refused pairing event in ``pair-rejected.jsonl`` (diagnostics, never fatal)."""
        try:
            append_lines(self._log, [dump_line({"ts": now_stamp(), "peer": peer, "code": code, "detail": detail})])
        except OSError as exc:  # pragma: no cover - diagnostics only
            log.warning("could not record pairing rejection: %s", exc)
        log.info("pairing event from %s refused: %s (%s)", peer, code, detail)
