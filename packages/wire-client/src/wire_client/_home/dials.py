# SPDX-License-Identifier: MIT
"""Our outgoing pair requests and the refusals they got (``pair-dials.json``, keyed by peer DID).

A dial records the ``pair_drop`` event id, the Ed25519 key we pinned for that DID and the address
we dialed. A ``pair_reject`` from that DID is applied (by the pairing handler) only when it names
that event id and is signed by that key; it then marks the record refused. While a peer is
refused and has no usable slot, its state is ``REFUSED`` everywhere and sending to it fails at once
with :class:`PeerRefusedError` (queued outbox lines are kept, not pushed). Dialing again replaces
the record and so clears the refusal. This module lives on the lowest floor so the sender can ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wire_client._errors import HomeError, PeerRefusedError
from wire_client._home.endpoints import Endpoint, RelayStateStore
from wire_client._home.files import read_json, update_json
from wire_client._home.paths import WireHome
from wire_protocol import JSON, JSONObject, display_handle_from_did

__all__ = [
    "REFUSED",
    "DialRecord",
    "DialRecords",
    "Refusal",
    "not_refused",
    "peer_state",
    "raise_if_refused",
    "refusal_in_force",
]

#: the state name front-ends show for a peer that declined our pair request
REFUSED = "REFUSED"
#: dial records kept (oldest dropped first): a bound on a file nobody else writes
MAX_DIALS = 1000


@dataclass(frozen=True, slots=True)
class Refusal:
    """A verified refusal of our pair request."""

    peer_handle: str
    peer_did: str
    refused_at: str
    address: str | None

    def text(self) -> str:
        again = f"`wire dial {self.address}`" if self.address else "`wire dial <name>@<relay>`"
        return (
            f"{self.peer_handle} declined your pair request at {self.refused_at}; nothing was sent. "
            f"If they change their mind, ask them to dial you (their client now drops requests from you); "
            f"{again} starts over on your side"
        )

    def to_json(self) -> JSONObject:
        return {"peer": self.peer_handle, "peer_did": self.peer_did, "refused_at": self.refused_at,
                "address": self.address}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DialRecord:
    """One outgoing pair request: what a ``pair_reject`` must match to be believed."""

    peer_did: str
    event_id: str
    public_key: str  # base64 of the key pinned for peer_did when we dialed
    address: str | None
    dialed_at: str
    refused_at: str | None = None

    @classmethod
    def from_json(cls, did: str, data: JSON) -> DialRecord | None:
        if not isinstance(data, dict):
            return None
        fields = {name: data.get(name) for name in ("event_id", "public_key", "dialed_at")}
        if not all(isinstance(value, str) and value for value in fields.values()):
            return None
        address, refused = data.get("address"), data.get("refused_at")
        return cls(
            did,
            str(fields["event_id"]),
            str(fields["public_key"]),
            address if isinstance(address, str) else None,
            str(fields["dialed_at"]),
            refused if isinstance(refused, str) else None,
        )

    def to_json(self) -> JSONObject:
        data: JSONObject = {"event_id": self.event_id, "public_key": self.public_key, "address": self.address,
                            "dialed_at": self.dialed_at}  # fmt: skip
        if self.refused_at is not None:
            data["refused_at"] = self.refused_at
        return data

    def refusal(self) -> Refusal | None:
        if self.refused_at is None:
            return None
        return Refusal(display_handle_from_did(self.peer_did), self.peer_did, self.refused_at, self.address)


class DialRecords:
    """``pair-dials.json`` of one home."""

    def __init__(self, home: WireHome) -> None:
        self.path = home.pair_dials

    def _table(self) -> dict[str, JSON]:
        if not self.path.exists():
            return {}
        try:
            data = read_json(self.path, {})
        except HomeError:
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, did: str) -> DialRecord | None:
        return DialRecord.from_json(did, self._table().get(did))

    def refusal_for(self, handle: str) -> Refusal | None:
        """The refusal recorded for the peer whose handle is ``handle`` (any DID with that handle)."""
        for did, data in self._table().items():
            record = DialRecord.from_json(did, data)
            if record is not None and record.refused_at and display_handle_from_did(did) == handle:
                return record.refusal()
        return None

    def record_dial(self, record: DialRecord) -> None:
        """A new pair request to ``record.peer_did``: replaces the earlier one (and its refusal)."""
        self._modify(record.peer_did, record.to_json())

    def mark_refused(self, did: str, refused_at: str) -> None:
        record = self.get(did)
        if record is not None:
            self._modify(did, {**record.to_json(), "refused_at": refused_at})

    def clear(self, did: str) -> None:
        if self.path.exists():
            self._modify(did, None)

    def _modify(self, did: str, value: JSONObject | None) -> None:
        def modify(current: JSON) -> tuple[JSON, None]:
            table: JSONObject = {k: v for k, v in current.items() if k != did} if isinstance(current, dict) else {}
            if value is not None:
                table[did] = value
            return dict(list(table.items())[-MAX_DIALS:]), None

        update_json(self.path, modify, default={})


def peer_state(tier: str, endpoints: Sequence[Endpoint], refusal: Refusal | None) -> str:
    """The one state name of a pinned peer: ``REFUSED`` (declined us, no usable slot), ``PENDING_ACK``
    (``VERIFIED`` but its ack with a slot token has not arrived), else the trust tier."""
    ready = any(ep.is_ready for ep in endpoints)
    if refusal is not None and not ready:
        return REFUSED
    if tier == "VERIFIED" and not ready:
        return "PENDING_ACK"
    return tier


def refusal_in_force(home: WireHome, handle: str, endpoints: Sequence[Endpoint]) -> Refusal | None:
    """The refusal of ``handle`` when it declined our pair request and gave us no usable slot since."""
    if not home.pair_dials.exists() or any(ep.is_ready for ep in endpoints):
        return None
    return DialRecords(home).refusal_for(handle)


def raise_if_refused(home: WireHome, relay_state: RelayStateStore, handle: str) -> None:
    """Raise :class:`PeerRefusedError` when a refusal of ``handle`` is in force (nothing is signed or queued).

    Costs one ``stat`` when we never dialed anyone (the send path calls it for every event)."""
    if not home.pair_dials.exists():
        return
    refusal = refusal_in_force(home, handle, relay_state.peer_endpoints(handle))
    if refusal is not None:
        raise PeerRefusedError(refusal.text(), peer=handle, refused_at=refusal.refused_at, address=refusal.address)


def not_refused(home: WireHome, relay_state: RelayStateStore, handles: Sequence[str]) -> list[str]:
    """``handles`` without the peers a refusal is in force for (their queued lines stay unpushed)."""
    if not home.pair_dials.exists():
        return list(handles)
    return [h for h in handles if refusal_in_force(home, h, relay_state.peer_endpoints(h)) is None]
