# SPDX-License-Identifier: MIT
"""The parts a pairing flow works with, handed in by an assembler (never the assembler itself).

Flows pin cards, record endpoints, send through the one :class:`Sender` and release held events
through the one :class:`Puller`: the same objects the assembler uses for everything else, so a pin
made by a flow is seen at once by the receive pipeline and acks queue behind earlier sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wire_client._home.endpoints import Endpoint, RelayStateStore
from wire_client._home.identity import Identity
from wire_client._home.paths import WireHome
from wire_client._home.trust import PinResult, TrustStore
from wire_client._messaging.receive import Puller
from wire_client._messaging.send import Sender
from wire_client._relay.client import RelayPool
from wire_protocol import JSON, AgentCard, Tier

__all__ = ["PairingParts"]


@dataclass(frozen=True, slots=True)
class PairingParts:
    """One identity's home, stores, relay pool, sender and puller."""

    home: WireHome
    identity: Identity
    trust: TrustStore
    relay_state: RelayStateStore
    pool: RelayPool
    sender: Sender
    puller: Puller

    def endpoints(self) -> list[Endpoint]:
        return self.relay_state.self_endpoints()

    def pin(self, card: AgentCard | Mapping[str, JSON], tier: Tier = Tier.VERIFIED) -> PinResult:
        """Pin a peer's card, then release any of its events that were held waiting for the pin."""
        result = self.trust.pin_card(card, tier)
        self.puller.release_held(result.handle)
        return result

    def forget(self, handle: str) -> bool:
        """Drop a peer's pin and its endpoints."""
        removed_trust = self.trust.forget(handle)
        removed_slots = self.relay_state.forget_peer(handle)
        return removed_trust or removed_slots
