# SPDX-License-Identifier: MIT
"""The hook between receiving and pairing: what a pairing handler sees and may answer.

Lives apart from :mod:`wire_client._pull` so the pairing modules can implement it without
importing the receive pipeline (which in turn uses them as its default handler).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from wire_client._endpoints import Endpoint, RelayStateStore
from wire_client._home import WireHome
from wire_client._identity import Identity
from wire_client._relay import RelayPool
from wire_client._trust import TrustStore
from wire_protocol import JSONObject

__all__ = ["PairingContext", "PairingDecision", "PairingHandler"]


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
