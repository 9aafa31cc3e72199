# SPDX-License-Identifier: MIT
"""Pairing state on disk: pending inbound requests, remembered rejections, coordinate freshness.

* ``pending-inbound-pairs/<handle>-<fingerprint>.json`` — one file per requesting DID (the handle
  is only an alias: a stranger with the same handle never replaces a request), the reference's
  record shape (features notes §3), mode 0600 because it holds the requester's slot token.
  Front-ends get :class:`PendingRequest` views without the token.
* ``pair-rejections.json`` — event ids and DIDs the operator rejected, so a replayed or re-pulled
  drop never resurrects a request (fixes notes §7.6); accepting or dialing a DID forgives it.
* ``peer-coords.json`` — per peer, the slot ids it has moved away from. Slot ids are random and
  never come back, so coordinates naming a retired slot can only be a replayed older drop, ack or
  wire_close: they never roll a peer's endpoints back. No peer clock is trusted for this.
* ``pair-rejected.jsonl`` — diagnostics: pairing events we refused and why.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from wire_client._errors import AmbiguousNameError, HomeError
from wire_client._home.endpoints import Endpoint
from wire_client._home.files import (
    LOG_MAX_BYTES,
    append_bounded,
    atomic_write_json,
    dump_line,
    locked,
    read_json,
    update_json,
)
from wire_client._home.paths import WireHome, safe_peer_name
from wire_client._pairing.coordinates import loopback_allowed, peer_coords
from wire_protocol import (
    DID_PREFIX,
    JSON,
    AgentCard,
    CardError,
    JSONObject,
    character_for,
    display_handle_from_did,
    format_timestamp,
    verify_card,
)

__all__ = ["InboundStore", "PendingRequest", "pending_record"]

log = logging.getLogger(__name__)

#: slot ids remembered per peer as retired (rotations are rare; this bounds a hostile peer's churn)
MAX_RETIRED_SLOTS = 256

_MAX_REMEMBERED = 5000


def now_stamp() -> str:
    return format_timestamp(datetime.now(UTC))


def _text(record: JSONObject, name: str) -> str:
    value = record.get(name)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """One pending inbound pair request, as front-ends show it (``repr`` and ``to_json`` carry no token)."""

    peer_handle: str
    peer_did: str
    fingerprint: str
    received_at: str
    event_timestamp: str
    event_id: str
    peer_relay_url: str
    record: JSONObject = field(repr=False)

    @property
    def endpoints(self) -> list[Endpoint]:
        """The request's coordinates, checked again (a record written by an older version may hold anything)."""
        body: JSONObject = {
            "relay_url": self.record.get("peer_relay_url"),
            "slot_id": self.record.get("peer_slot_id"),
            "slot_token": self.record.get("peer_slot_token"),
        }
        listed = self.record.get("peer_endpoints")
        if isinstance(listed, list):
            body["endpoints"] = listed
        return list(peer_coords(body, allow_loopback=self.record.get("loopback_ok") is True).endpoints)

    @property
    def key_fingerprint(self) -> str:
        """SHA-256 of the requester's public key (all 64 hex digits: what the operator compares)."""
        try:
            return hashlib.sha256(verify_card(self.record.get("peer_card")).public_key).hexdigest()
        except CardError:
            return ""

    @property
    def nickname(self) -> str:
        return character_for(self.peer_did or None).nickname

    def describe(self) -> str:
        """One line naming the request unambiguously: handle, full DID, key fingerprint, character."""
        character = character_for(self.peer_did or None)
        return (
            f"{self.peer_handle} — {self.peer_did}, key sha256 {self.key_fingerprint or '?'}, "
            f"{character.emoji} {character.nickname}, received {self.received_at}"
        )

    def to_json(self) -> JSONObject:
        character = character_for(self.peer_did or None)
        return {
            "peer_handle": self.peer_handle,
            "peer_did": self.peer_did,
            "fingerprint": self.fingerprint,
            "key_fingerprint": self.key_fingerprint,
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


def pending_record(
    event: JSONObject, card: AgentCard, own: Sequence[Endpoint], inbound: InboundStore
) -> JSONObject | None:
    """The pending-request record of a verified ``pair_drop``; ``None`` (reported) when it gives nowhere safe to answer.

    Only checked federation endpoints are kept (see :mod:`wire_client._pairing.coordinates`).
    """
    allow_loopback = loopback_allowed(own)
    coords = peer_coords(event.get("body"), allow_loopback=allow_loopback)
    handle = display_handle_from_did(card.did)
    if coords.refused:
        inbound.report(handle, "pair_drop_endpoints_refused", "; ".join(coords.refused))
    if not coords.endpoints:
        return None
    primary = coords.endpoints[0]
    return {
        "peer_handle": handle,
        "peer_did": card.did,
        "peer_card": card.to_json(),
        "peer_relay_url": primary.relay_url,
        "peer_slot_id": primary.slot_id,
        "peer_slot_token": primary.slot_token,
        "peer_endpoints": [ep.to_json() for ep in coords.endpoints],
        "loopback_ok": allow_loopback,
        "event_id": event.get("event_id"),
        "event_timestamp": event.get("timestamp"),
        "received_at": now_stamp(),
    }


def _file_name_for(did: str) -> str:
    """The pending-request file of a DID (``did:wire:alice-0a1b2c3d`` → ``alice-0a1b2c3d``)."""
    return safe_peer_name(did.removeprefix(DID_PREFIX))


class InboundStore:
    """Pending requests (keyed by DID), rejections and coordinate freshness of one home."""

    def __init__(self, home: WireHome) -> None:
        self.home = home
        self._rejections = home.pair_rejections
        self._coords = home.peer_coords
        self._log = home.pair_rejected_log

    # --- pending requests --------------------------------------------------------------------

    def write(self, record: JSONObject) -> bool:
        """Store a request unless one from the same DID is already waiting (the first one stays).

        Requests are keyed by DID: a request from another DID with the same handle is stored
        beside it, never over it. Order is the local receive time, not the sender's timestamp.
        """
        path = self.home.pending_inbound_path(_file_name_for(_text(record, "peer_did")))
        with locked(path):
            if isinstance(read_json(path, None), dict):
                return False
            atomic_write_json(path, record, mode=0o600)
        return True

    def list(self) -> list[PendingRequest]:
        directory = self.home.pending_inbound_dir
        found: dict[str, PendingRequest] = {}
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
            try:
                data = read_json(path, None)
            except HomeError as exc:
                log.warning("skipping unreadable pending request %s: %s", path, exc)
                continue
            if isinstance(data, dict) and _text(data, "peer_handle") and _text(data, "peer_did"):
                request = PendingRequest.from_record(data)
                found.setdefault(request.peer_did, request)
        return sorted(found.values(), key=lambda p: (p.received_at, p.peer_did))

    def matching(self, name: str) -> builtins.list[PendingRequest]:
        """Requests whose handle, DID or character nickname is exactly ``name`` (consent names one exactly)."""
        return [r for r in self.list() if name in (r.peer_handle, r.peer_did, r.nickname)]

    def find(self, name: str) -> PendingRequest | None:
        """The one request ``name`` names; ``None`` if none; :class:`AmbiguousNameError` if several DIDs match."""
        matches = self.matching(name)
        if len(matches) > 1:
            listed = "\n".join(f"  {r.describe()}" for r in matches)
            raise AmbiguousNameError(
                f"{name!r} matches {len(matches)} pending requests from different identities:\n{listed}\n"
                "Accept or reject one by its full DID.",
                candidates=tuple(r.peer_did for r in matches),
            )
        return matches[0] if matches else None

    def delete(self, did: str) -> bool:
        """Remove the pending request of ``did`` (also a legacy record stored under its handle)."""
        removed = False
        for name in {_file_name_for(did), display_handle_from_did(did)}:
            try:
                path: Path = self.home.pending_inbound_path(name)
            except HomeError:
                continue
            data = read_json(path, None) if path.exists() else None
            if isinstance(data, dict) and _text(data, "peer_did") == did:
                path.unlink(missing_ok=True)
                removed = True
        return removed

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
            line = dump_line({"ts": now_stamp(), "peer": peer, "code": code, "detail": detail[:1000]})
            append_bounded(self._log, [line], max_bytes=LOG_MAX_BYTES)
        except OSError as exc:  # pragma: no cover - diagnostics only
            log.warning("could not record pairing rejection: %s", exc)
        log.info("pairing event from %s refused: %s (%s)", peer, code, detail)
