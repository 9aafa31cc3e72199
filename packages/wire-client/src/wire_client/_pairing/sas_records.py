# SPDX-License-Identifier: MIT
"""SAS pairing sessions on disk: ``pending-pair/<session_id>.json`` and the status views.

A record (mode 0600: it holds the SPAKE2 seed and, later, the peer's slot token) carries
``{session_id, code, code_hash, role, relay_url, status, created_at, updated_at, deadline,
spake2_seed_b64, pair_id?, peer_msg?, sas?, our_endpoint?, peer_did?, peer_card?,
peer_endpoints?, ack_event?, late_ok?, reason?, last_error?}``. ``session_id`` is the first 16
hex characters of the code hash, so file names never contain the code phrase.

Every transition is a compare-and-set on ``status`` inside a locked read-modify-write, so the
daemon and a foreground command can never move one session two ways. The network steps that
lead to a transition run outside that lock, under a separate non-blocking *driver* lock (see
:mod:`wire_client._pairing.sas`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wire_client._errors import HomeError, PairingFailedError
from wire_client._home.files import read_json, update_json
from wire_client._home.paths import WireHome
from wire_protocol import JSON, JSONObject, PairingError, code_hash, display_handle_from_did, parse_code_phrase

__all__ = ["ACTIVE", "TERMINAL", "SasRecords", "SasStatus", "session_id_for"]

WAITING = ("request_host", "request_guest", "polling")
FINALIZING = ("confirmed", "bootstrap_sent", "opened", "ack_sent")
TERMINAL = ("paired", "aborted")
ACTIVE = (*WAITING, "sas_ready", *FINALIZING)
#: terminal records are kept this long (a timed-out side that already acked keeps it for late completion)
GC_AFTER = 3600.0
GC_AFTER_LATE_OK = 86400.0


def session_id_for(code: str) -> str:
    return code_hash(code)[:16]


def _coarse(status: str) -> str:
    if status in WAITING:
        return "waiting"
    if status in FINALIZING:
        return "finalizing"
    return status


@dataclass(frozen=True, slots=True)
class SasStatus:
    """A SAS session as front-ends show it (no seed, no token)."""

    session_id: str
    code_phrase: str
    relay_url: str
    role: str
    status: str
    sas: str | None
    peer_did: str | None
    reason: str | None
    detail: str | None = None

    @property
    def state(self) -> str:
        """Coarse state for agents: ``waiting``, ``sas_ready``, ``finalizing``, ``paired`` or ``aborted``."""
        return _coarse(self.status)

    @property
    def peer_handle(self) -> str | None:
        return display_handle_from_did(self.peer_did) if self.peer_did else None

    @property
    def next(self) -> str:
        hints = {
            "waiting": f"share the code phrase {self.code_phrase} with the peer (they join with it); then check again",
            "sas_ready": f"read your digits {self.sas} to the peer out of band and type THEIR digits into pair_confirm",
            "finalizing": "waiting for the peer to confirm and acknowledge; check again",
            "paired": f"paired with {self.peer_handle}; you can send messages now",
            "aborted": "this pairing is over; start again with a new code phrase",
        }
        return hints[self.state]

    def to_json(self) -> JSONObject:
        data: JSONObject = {
            "session_id": self.session_id,
            "code_phrase": self.code_phrase,
            "relay_url": self.relay_url,
            "role": self.role,
            "state": self.state,
            "status": self.status,
            "next": self.next,
        }
        if self.sas is not None:
            data["sas"] = f"{self.sas[:3]}-{self.sas[3:]}"
        if self.peer_did is not None:
            data["peer_did"] = self.peer_did
            data["peer_handle"] = self.peer_handle
        if self.reason is not None:
            data["reason"] = self.reason
        if self.detail is not None and self.status == "aborted":
            data["detail"] = self.detail
        return data

    @classmethod
    def from_record(cls, record: JSONObject) -> SasStatus:
        def text(name: str) -> str | None:
            value = record.get(name)
            return value if isinstance(value, str) else None

        return cls(
            session_id=text("session_id") or "",
            code_phrase=text("code") or "",
            relay_url=text("relay_url") or "",
            role=text("role") or "",
            status=text("status") or "aborted",
            sas=text("sas"),
            peer_did=text("peer_did"),
            reason=text("reason"),
            detail=text("last_error"),
        )


class SasRecords:
    """The ``pending-pair`` directory of one home."""

    def __init__(self, home: WireHome) -> None:
        self.directory = home.state_dir / "pending-pair"

    def path(self, session_id: str) -> Path:
        if len(session_id) != 16 or any(c not in "0123456789abcdef" for c in session_id):
            raise PairingFailedError(f"{session_id!r} is not a pairing session id", reason="unknown_session")
        return self.directory / f"{session_id}.json"

    def resolve_id(self, session_or_code: str) -> str:
        """Accept a session id or the code phrase itself."""
        text = session_or_code.strip()
        try:
            return session_id_for(parse_code_phrase(text))
        except PairingError:
            return text.lower()

    def get(self, session_id: str) -> JSONObject:
        data = read_json(self.path(session_id), None)
        if not isinstance(data, dict):
            raise PairingFailedError(f"no pairing session {session_id!r}", reason="unknown_session")
        return data

    def create(self, record: JSONObject) -> None:
        path = self.path(str(record["session_id"]))

        def modify(current: JSON) -> tuple[JSON, None]:
            if isinstance(current, dict) and current.get("status") in ACTIVE:
                raise PairingFailedError("a pairing with this code phrase is already in progress", reason="in_progress")
            return record, None

        update_json(path, modify, default=None, mode=0o600)

    def transition(
        self, session_id: str, expected: tuple[str, ...], changes: JSONObject | Callable[[JSONObject], JSONObject]
    ) -> JSONObject | None:
        """Apply ``changes`` if the status is one of ``expected``; returns the new record or None."""

        def modify(current: JSON) -> tuple[JSON, JSONObject | None]:
            if not isinstance(current, dict) or current.get("status") not in expected:
                return current, None
            update = changes(current) if callable(changes) else changes
            new: JSONObject = {**current, **update, "updated_at": time.time()}
            return new, new

        return update_json(self.path(session_id), modify, default=None, mode=0o600)

    def all(self) -> list[JSONObject]:
        records: list[JSONObject] = []
        for path in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []:
            try:
                data = read_json(path, None)
            except HomeError:
                continue
            if isinstance(data, dict) and isinstance(data.get("session_id"), str):
                records.append(data)
        return records

    def gc(self, now: float | None = None) -> int:
        moment = time.time() if now is None else now
        removed = 0
        for record in self.all():
            updated = record.get("updated_at")
            if record.get("status") not in TERMINAL or not isinstance(updated, (int, float)):
                continue
            keep = GC_AFTER_LATE_OK if record.get("late_ok") and record.get("status") == "aborted" else GC_AFTER
            if moment - updated > keep:
                self.path(str(record["session_id"])).unlink(missing_ok=True)
                removed += 1
        return removed
