# SPDX-License-Identifier: MIT
"""SAS pairing sessions on disk: ``pending-pair/<session_id>.json`` and the status views.

A record (mode 0600: it holds the SPAKE2 seed and, later, the peer's slot token) carries
``{session_id, code, code_hash, role, relay_url, status, created_at, updated_at, deadline,
spake2_seed_b64, pair_id?, peer_msg?, sas?, our_endpoint?, peer_did?, peer_card?,
peer_endpoints?, ack_event?, late_ok?, reason?, last_error?}``. ``session_id`` is the first 16
hex characters of the code hash, so file names never contain the code phrase.

On disk a record is JSON; in code it is a frozen :class:`SasSession` with a :class:`SasState`.
:data:`TRANSITIONS` is the one table of allowed moves (h11's state table is the model), and every
transition is a compare-and-set on the state inside a locked read-modify-write that checks it, so
the daemon and a foreground command can never move one session two ways or skip a step. The network steps that
lead to a transition run outside that lock, under a separate non-blocking *driver* lock (see
:mod:`wire_client._pairing.sas`).
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wire_client._errors import HomeError, PairingFailedError
from wire_client._home.files import read_json, update_json
from wire_client._home.paths import WireHome
from wire_protocol import JSON, JSONObject, PairingError, code_hash, display_handle_from_did, parse_code_phrase

__all__ = [
    "ACTIVE",
    "TERMINAL",
    "TRANSITIONS",
    "SasRecords",
    "SasSession",
    "SasState",
    "SasStatus",
    "session_id_for",
]


class SasState(enum.StrEnum):
    """Where a SAS session is (see the state machine in :mod:`wire_client._pairing.sas`)."""

    REQUEST_HOST = "request_host"
    REQUEST_GUEST = "request_guest"
    POLLING = "polling"
    SAS_READY = "sas_ready"
    CONFIRMED = "confirmed"
    BOOTSTRAP_SENT = "bootstrap_sent"
    OPENED = "opened"
    ACK_SENT = "ack_sent"
    PAIRED = "paired"
    ABORTED = "aborted"


S = SasState
#: the one transition table: from each state, where a step may move it. ``aborted`` → ``paired``
#: is the late completion of a side that had already stored its ack (``late_ok``).
TRANSITIONS: Mapping[SasState, frozenset[SasState]] = {
    S.REQUEST_HOST: frozenset({S.POLLING, S.ABORTED}),
    S.REQUEST_GUEST: frozenset({S.POLLING, S.ABORTED}),
    S.POLLING: frozenset({S.SAS_READY, S.ABORTED}),
    S.SAS_READY: frozenset({S.CONFIRMED, S.ABORTED}),
    S.CONFIRMED: frozenset({S.BOOTSTRAP_SENT, S.ABORTED}),
    S.BOOTSTRAP_SENT: frozenset({S.OPENED, S.ABORTED}),
    S.OPENED: frozenset({S.ACK_SENT, S.ABORTED}),
    S.ACK_SENT: frozenset({S.PAIRED, S.ABORTED}),
    S.PAIRED: frozenset(),
    S.ABORTED: frozenset({S.PAIRED}),
}
WAITING = (S.REQUEST_HOST, S.REQUEST_GUEST, S.POLLING)
FINALIZING = (S.CONFIRMED, S.BOOTSTRAP_SENT, S.OPENED, S.ACK_SENT)
TERMINAL = (S.PAIRED, S.ABORTED)
ACTIVE = (*WAITING, S.SAS_READY, *FINALIZING)
#: terminal records are kept this long (a timed-out side that already acked keeps it for late completion)
GC_AFTER = 3600.0
GC_AFTER_LATE_OK = 86400.0


def session_id_for(code: str) -> str:
    return code_hash(code)[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class SasSession:
    """One ``pending-pair/<session_id>.json`` record (mode 0600: the SPAKE2 seed, later a slot token)."""

    session_id: str
    code: str
    code_hash: str
    role: str
    relay_url: str
    status: SasState
    created_at: float
    updated_at: float
    deadline: float | None
    spake2_seed_b64: str
    pair_id: str | None = None
    peer_msg: str | None = None
    sas: str | None = None
    our_endpoint: JSONObject | None = None
    peer_did: str | None = None
    peer_card: JSONObject | None = None
    peer_endpoints: tuple[JSONObject, ...] = ()
    ack_event: JSONObject | None = None
    late_ok: bool = False
    reason: str | None = None
    last_error: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def finishes_late(self) -> bool:
        """Our ack is stored in the peer's slot: the peer's ack still completes us (even after a timeout)."""
        return self.status is S.ACK_SENT or (self.status is S.ABORTED and self.late_ok)

    def to_json(self) -> JSONObject:
        data: JSONObject = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if item.name == "peer_endpoints":
                data[item.name] = list(value)
            elif value is not None or item.name == "deadline":
                data[item.name] = value.value if isinstance(value, SasState) else value
        return data

    @classmethod
    def from_json(cls, record: JSON) -> SasSession | None:
        """The session a JSON record describes; ``None`` when it is not a usable record."""
        if not isinstance(record, dict):
            return None

        def text(name: str) -> str | None:
            value = record.get(name)
            return value if isinstance(value, str) else None

        def number(name: str) -> float | None:
            value = record.get(name)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        def obj(name: str) -> JSONObject | None:
            value = record.get(name)
            return value if isinstance(value, dict) else None

        try:
            status = SasState(text("status") or "")
        except ValueError:
            return None
        required = [text(n) for n in ("session_id", "code", "code_hash", "role", "relay_url", "spake2_seed_b64")]
        session_id, code, hashed, role, relay_url, seed = required
        if session_id is None or code is None or hashed is None or role is None or relay_url is None or seed is None:
            return None
        listed = record.get("peer_endpoints")
        return cls(
            session_id=session_id,
            code=code,
            code_hash=hashed,
            role=role,
            relay_url=relay_url,
            status=status,
            created_at=number("created_at") or 0.0,
            updated_at=number("updated_at") or 0.0,
            deadline=number("deadline"),
            spake2_seed_b64=seed,
            pair_id=text("pair_id"),
            peer_msg=text("peer_msg"),
            sas=text("sas"),
            our_endpoint=obj("our_endpoint"),
            peer_did=text("peer_did"),
            peer_card=obj("peer_card"),
            peer_endpoints=tuple(e for e in listed if isinstance(e, dict)) if isinstance(listed, list) else (),
            ack_event=obj("ack_event"),
            late_ok=record.get("late_ok") is True,
            reason=text("reason"),
            last_error=text("last_error"),
        )


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
    def from_session(cls, session: SasSession) -> SasStatus:
        return cls(
            session_id=session.session_id,
            code_phrase=session.code,
            relay_url=session.relay_url,
            role=session.role,
            status=session.status.value,
            sas=session.sas,
            peer_did=session.peer_did,
            reason=session.reason,
            detail=session.last_error,
        )

    @classmethod
    def from_record(cls, record: JSONObject) -> SasStatus:
        """The view of a JSON record (an unreadable one shows as ``aborted``)."""
        session = SasSession.from_json(record)
        if session is not None:
            return cls.from_session(session)
        code = record.get("code")
        return cls(str(record.get("session_id") or ""), code if isinstance(code, str) else "", "", "", "aborted",
                   None, None, "unreadable")  # fmt: skip


Changes = Mapping[str, Any] | Callable[[SasSession], Mapping[str, Any]]


class SasRecords:
    """The ``pending-pair`` directory of one home."""

    def __init__(self, home: WireHome) -> None:
        self.directory = home.sas_sessions_dir

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

    def get(self, session_id: str) -> SasSession:
        session = SasSession.from_json(read_json(self.path(session_id), None))
        if session is None:
            raise PairingFailedError(f"no pairing session {session_id!r}", reason="unknown_session")
        return session

    def create(self, session: SasSession) -> None:
        path = self.path(session.session_id)

        def modify(current: JSON) -> tuple[JSON, None]:
            existing = SasSession.from_json(current)
            if existing is not None and existing.active:
                raise PairingFailedError("a pairing with this code phrase is already in progress", reason="in_progress")
            return session.to_json(), None

        update_json(path, modify, default=None, mode=0o600)

    def transition(self, session_id: str, expected: tuple[SasState, ...], changes: Changes) -> SasSession | None:
        """Apply ``changes`` if the state is one of ``expected``; returns the new session or None.

        A change of ``status`` must be a move :data:`TRANSITIONS` allows (else :class:`PairingFailedError`);
        without one, only the other fields change (e.g. ``last_error``).
        """

        def modify(current: JSON) -> tuple[JSON, SasSession | None]:
            session = SasSession.from_json(current)
            if session is None or session.status not in expected:
                return current, None
            update = dict(changes(session) if callable(changes) else changes)
            target = SasState(update.get("status", session.status))
            if target is not session.status and target not in TRANSITIONS[session.status]:
                raise PairingFailedError(
                    f"pairing {session_id} cannot move from {session.status} to {target}", reason="bad_transition"
                )
            update["status"] = target
            if "peer_endpoints" in update:
                update["peer_endpoints"] = tuple(update["peer_endpoints"])
            new = dataclasses.replace(session, **update, updated_at=time.time())
            return new.to_json(), new

        return update_json(self.path(session_id), modify, default=None, mode=0o600)

    def all(self) -> list[SasSession]:
        found: list[SasSession] = []
        for path in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []:
            try:
                session = SasSession.from_json(read_json(path, None))
            except HomeError:
                continue
            if session is not None:
                found.append(session)
        return found

    def gc(self, now: float | None = None) -> int:
        moment = time.time() if now is None else now
        removed = 0
        for session in self.all():
            if session.status not in TERMINAL:
                continue
            keep = GC_AFTER_LATE_OK if session.late_ok and session.status is S.ABORTED else GC_AFTER
            if moment - session.updated_at > keep:
                self.path(session.session_id).unlink(missing_ok=True)
                removed += 1
        return removed
