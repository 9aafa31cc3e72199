# SPDX-License-Identifier: MIT
"""The hook between receiving and pairing: what a pairing handler sees and may answer.

Lives apart from :mod:`wire_client._messaging.receive` so the pairing modules can implement it without
importing the receive pipeline (which in turn uses them as its default handler).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from wire_client._home.endpoints import Endpoint, RelayStateStore
from wire_client._home.identity import Identity
from wire_client._home.paths import WireHome
from wire_client._home.trust import TrustStore
from wire_client._relay.client import RelayPool
from wire_protocol import PAIRING_KINDS, EventType, JSONObject

__all__ = ["PairingContext", "PairingDecision", "PairingHandler", "PassThrough", "is_hooked"]

#: event types the handler sees first (with a pairing kind); ``agent_card`` travels as a pair_drop's kind
_HOOKED_TYPES = frozenset({*PAIRING_KINDS, EventType.AGENT_CARD})
_HOOKED_KINDS = frozenset(PAIRING_KINDS.values())


class PairingDecision(enum.Enum):
    """What the pairing handler did with an event: let the pipeline ``CONTINUE`` or it ``CONSUMED`` it."""

    CONTINUE = "continue"
    CONSUMED = "consumed"


@dataclass(frozen=True, slots=True)
class PairingContext:
    """What a pairing handler may use: the home, its stores, the endpoint the event came from, the relay pool."""

    home: WireHome
    identity: Identity
    trust: TrustStore
    relay_state: RelayStateStore
    endpoint: Endpoint | None
    pool: RelayPool | None = None


class PairingHandler(Protocol):
    """Hook for pairing flows, called BEFORE normal verification for pair_drop / pair_drop_ack / wire_close."""

    async def handle_pairing_event(self, event: JSONObject, context: PairingContext) -> PairingDecision: ...


class PassThrough:
    """The handler of a puller given none: every pairing event continues to normal verification."""

    async def handle_pairing_event(self, event: JSONObject, context: PairingContext) -> PairingDecision:  # noqa: ARG002
        return PairingDecision.CONTINUE


def is_hooked(event: JSONObject) -> bool:
    """True for events the pairing handler sees before verification (pairing kinds and types)."""
    return event.get("kind") in _HOOKED_KINDS and event.get("type") in _HOOKED_TYPES
