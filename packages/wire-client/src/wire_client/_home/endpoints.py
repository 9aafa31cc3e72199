# SPDX-License-Identifier: MIT
"""Relay-slot state (``relay.json``): our own endpoints, peers' endpoints, priority, pull cursors.

Shapes follow the reference (features notes §3): ``{"self": {relay_url, slot_id, slot_token,
endpoints?}, "peers": {handle: {relay_url, slot_id, slot_token, endpoints?}}}``, where each
endpoint is ``{relay_url, slot_id, slot_token, scope}`` with scope ``federation|local|lan|uds``.
The legacy top-level trio always mirrors the federation endpoint (else LAN, local, UDS), so older
readers keep working; ``endpoints`` is written only when non-empty.
"""

from __future__ import annotations

import copy
import enum
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from wire_client._home.files import read_json, update_json
from wire_client._home.paths import WireHome, safe_peer_name
from wire_protocol import JSON, JSONObject, format_timestamp

__all__ = ["CursorStore", "Endpoint", "RelayStateStore", "Scope", "order_for_sending"]


class Scope(enum.StrEnum):
    FEDERATION = "federation"
    LOCAL = "local"
    LAN = "lan"
    UDS = "uds"


_SEND_RANK = {Scope.UDS: 0, Scope.LOCAL: 1, Scope.LAN: 2, Scope.FEDERATION: 3}
_LEGACY_PREFERENCE = (Scope.FEDERATION, Scope.LAN, Scope.LOCAL, Scope.UDS)
_LEGACY_CURSOR_FIELD = {
    Scope.FEDERATION: "last_pulled_event_id",
    Scope.LOCAL: "last_pulled_event_id_local",
    Scope.LAN: "last_pulled_event_id_lan",
    Scope.UDS: "last_pulled_event_id_uds",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One relay slot: where to POST (or GET) events, with the bearer token that opens it."""

    relay_url: str
    slot_id: str
    slot_token: str
    scope: Scope = Scope.FEDERATION

    @property
    def is_ready(self) -> bool:
        """False for a peer whose pair ack has not arrived yet (empty token, "PENDING_ACK")."""
        return bool(self.relay_url and self.slot_id and self.slot_token)

    @property
    def key(self) -> str:
        """Stable identity of the slot (used for cursors); never contains the token."""
        return f"{self.scope.value}|{self.relay_url}|{self.slot_id}"

    def to_json(self) -> JSONObject:
        return {
            "relay_url": self.relay_url,
            "slot_id": self.slot_id,
            "slot_token": self.slot_token,
            "scope": self.scope.value,
        }

    def redacted(self) -> JSONObject:
        return {"relay_url": self.relay_url, "slot_id": self.slot_id, "scope": self.scope.value}

    @classmethod
    def from_json(cls, value: JSON, *, default_scope: Scope = Scope.FEDERATION) -> Endpoint | None:
        """Parse an endpoint; ``None`` when it is not one (invalid entries are skipped, as the reference does)."""
        if not isinstance(value, dict):
            return None
        url, slot, token = value.get("relay_url"), value.get("slot_id"), value.get("slot_token", "")
        if not isinstance(url, str) or not url or not isinstance(slot, str) or not slot or not isinstance(token, str):
            return None
        scope_value = value.get("scope", default_scope.value)
        try:
            scope = Scope(str(scope_value))
        except ValueError:
            return None
        return cls(relay_url=url.rstrip("/"), slot_id=slot, slot_token=token, scope=scope)

    def __repr__(self) -> str:  # never show the token
        return f"Endpoint({self.scope.value} {self.relay_url} slot={self.slot_id})"


def endpoints_of(record: JSON) -> list[Endpoint]:
    """The endpoints of a self/peer record: ``endpoints[]`` if present, else one from the legacy trio."""
    if not isinstance(record, dict):
        return []
    raw = record.get("endpoints")
    if isinstance(raw, list):
        return [ep for ep in (Endpoint.from_json(item) for item in raw) if ep is not None]
    legacy = Endpoint.from_json({**record, "scope": "federation"})
    return [legacy] if legacy is not None else []


def record_for(endpoints: list[Endpoint], base: JSONObject | None = None) -> JSONObject:
    """A self/peer record for ``endpoints``: legacy trio from the best legacy candidate + ``endpoints``."""
    record: JSONObject = dict(base or {})
    for stale in ("relay_url", "slot_id", "slot_token", "endpoints"):
        record.pop(stale, None)
    primary = next((ep for scope in _LEGACY_PREFERENCE for ep in endpoints if ep.scope is scope), None)
    if primary is not None:
        record.update({"relay_url": primary.relay_url, "slot_id": primary.slot_id, "slot_token": primary.slot_token})
    if endpoints:
        record["endpoints"] = [ep.to_json() for ep in endpoints]
    return record


def order_for_sending(peer: Iterable[Endpoint], own: Iterable[Endpoint]) -> list[Endpoint]:
    """UDS → local (only when we have a local endpoint on the same relay URL) → LAN → federation."""
    own_local_urls = {ep.relay_url for ep in own if ep.scope is Scope.LOCAL}
    usable = [ep for ep in peer if ep.is_ready and (ep.scope is not Scope.LOCAL or ep.relay_url in own_local_urls)]
    return sorted(usable, key=lambda ep: _SEND_RANK[ep.scope])


class RelayStateStore:
    """``relay.json`` (mode 0600: it holds slot tokens). Every change is a locked, atomic read-modify-write."""

    def __init__(self, home: WireHome) -> None:
        self._home = home
        self._path = home.relay_state
        self._cache: JSONObject = {}
        self._cache_key: tuple[int, int, int] | None = None

    def read(self) -> JSONObject:
        """The whole file (a fresh copy); re-parsed only when the file changed on disk."""
        try:
            st = os.stat(self._path)
            key: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = None
        if key is None or key != self._cache_key:
            data = read_json(self._path, {})
            self._cache = data if isinstance(data, dict) else {}
            self._cache_key = key
        return copy.deepcopy(self._cache)

    def _update(self, modify: Callable[[JSONObject], None]) -> None:
        def wrapped(current: JSON) -> tuple[JSON, None]:
            data: JSONObject = dict(current) if isinstance(current, dict) else {}
            if not isinstance(data.get("peers"), dict):
                data["peers"] = {}
            modify(data)
            return data, None

        update_json(self._path, wrapped, default={}, mode=0o600)

    # --- self ----------------------------------------------------------------------------------

    def self_endpoints(self) -> list[Endpoint]:
        """Our own slots in stored order (the first is the primary)."""
        return endpoints_of(self.read().get("self"))

    def add_self_endpoint(self, endpoint: Endpoint) -> None:
        """Add (or replace, by scope + relay URL) one of our endpoints; the others stay valid (additive)."""

        def modify(data: JSONObject) -> None:
            current = endpoints_of(data.get("self"))
            kept = [ep for ep in current if not (ep.scope is endpoint.scope and ep.relay_url == endpoint.relay_url)]
            base = data.get("self")
            data["self"] = record_for([*kept, endpoint], base if isinstance(base, dict) else None)

        self._update(modify)

    def remove_self_endpoint(self, endpoint: Endpoint) -> None:
        def modify(data: JSONObject) -> None:
            kept = [ep for ep in endpoints_of(data.get("self")) if ep.key != endpoint.key]
            base = data.get("self")
            data["self"] = record_for(kept, base if isinstance(base, dict) else None)

        self._update(modify)

    # --- peers ---------------------------------------------------------------------------------

    def peers(self) -> dict[str, list[Endpoint]]:
        raw = self.read().get("peers")
        return {h: endpoints_of(r) for h, r in raw.items()} if isinstance(raw, dict) else {}

    def peer_endpoints(self, handle: str) -> list[Endpoint]:
        raw = self.read().get("peers")
        return endpoints_of(raw.get(handle)) if isinstance(raw, dict) else []

    def pin_peer_endpoints(self, handle: str, endpoints: list[Endpoint]) -> None:
        """Record where ``handle`` can be reached (replaces what we had)."""
        safe_peer_name(handle)

        def modify(data: JSONObject) -> None:
            peers = data["peers"]
            assert isinstance(peers, dict)  # noqa: S101
            old = peers.get(handle)
            peers[handle] = record_for(endpoints, old if isinstance(old, dict) else None)

        self._update(modify)

    def forget_peer(self, handle: str) -> bool:
        removed: list[bool] = []

        def modify(data: JSONObject) -> None:
            peers = data["peers"]
            assert isinstance(peers, dict)  # noqa: S101
            removed.append(peers.pop(handle, None) is not None)

        self._update(modify)
        return bool(removed and removed[0])


class CursorStore:
    """Per-endpoint pull cursors in ``cursors.json`` (falls back to the legacy relay.json fields).

    A cursor is the id of the last event of the contiguous processed prefix of a slot. Writes are
    atomic but not fsynced: a cursor that goes back after a power cut only makes us re-read events,
    which the inbox de-duplicates.
    """

    def __init__(self, home: WireHome) -> None:
        self._home = home
        self._path = home.cursors
        self._memory: dict[str, str] = {}

    def get(self, endpoint: Endpoint) -> str | None:
        data = read_json(self._path, {})
        entry = data.get(endpoint.key) if isinstance(data, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("event_id"), str):
            return str(entry["event_id"])
        own = RelayStateStore(self._home).read().get("self")
        if isinstance(own, dict):
            legacy = own.get(_LEGACY_CURSOR_FIELD[endpoint.scope])
            primary = endpoints_of(own)
            if isinstance(legacy, str) and legacy and any(ep.key == endpoint.key for ep in primary):
                return legacy
        return None

    def set(self, endpoint: Endpoint, event_id: str) -> None:
        if self._memory.get(endpoint.key) == event_id:
            return
        stamp = format_timestamp(datetime.now(UTC))

        def modify(current: JSON) -> tuple[JSON, None]:
            data: JSONObject = dict(current) if isinstance(current, dict) else {}
            data[endpoint.key] = {"event_id": event_id, "updated_at": stamp}
            return data, None

        update_json(self._path, modify, default={}, fsync=False)
        self._memory[endpoint.key] = event_id
