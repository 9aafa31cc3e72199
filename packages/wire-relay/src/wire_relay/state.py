# SPDX-License-Identifier: AGPL-3.0-or-later
"""Typed application state (``web.AppKey``s) and the small in-process registries behind them."""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field

from aiohttp import web

from wire_relay.config import RelayConfig
from wire_relay.store import Store, StoreStats, Subscription

__all__ = ["BATCH_GATE", "CONFIG", "HISTORY", "STORE", "STREAMS", "StatsHistory", "StreamRegistry"]


@dataclass(slots=True)
class StreamRegistry:
    """Open SSE streams (for ``streams_active``, the per-slot cap and shutdown)."""

    per_slot: dict[str, set[Subscription]] = field(default_factory=dict)
    per_client: dict[str, int] = field(default_factory=dict)
    total: int = 0
    closing: bool = False

    def add(self, sub: Subscription, client: str = "") -> None:
        self.per_slot.setdefault(sub.slot_id, set()).add(sub)
        self.total += 1
        self.per_client[client] = self.per_client.get(client, 0) + 1

    def remove(self, sub: Subscription, client: str = "") -> None:
        subs = self.per_slot.get(sub.slot_id)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        self.total -= 1
        if not subs:
            del self.per_slot[sub.slot_id]
        left = self.per_client.get(client, 1) - 1
        if left > 0:
            self.per_client[client] = left
        else:
            self.per_client.pop(client, None)

    def client_count(self, client: str) -> int:
        return self.per_client.get(client, 0)

    def count(self, slot_id: str | None = None) -> int:
        if slot_id is not None:
            return len(self.per_slot.get(slot_id, ()))
        return self.total

    def close_all(self) -> None:
        """Ask every stream to finish (graceful shutdown): they wake and see ``closing``."""
        self.closing = True
        for subs in list(self.per_slot.values()):
            for sub in list(subs):
                sub.wake()


HISTORY_FIELDS = (
    "ts",
    "handles_active",
    "slots_active",
    "pair_slots_open",
    "streams_active",
    "handle_claims_total",
    "handle_first_claims_total",
    "slot_allocations_total",
    "pair_opens_total",
    "events_posted_total",
)


class StatsHistory:
    """A bounded in-memory ring of stats samples (one every ``sample_seconds``; 168 h kept).

    Kept in memory per process, not in the store: it is a sparkline, and losing it on restart is
    acceptable. Samples are tuples in :data:`HISTORY_FIELDS` order (~100 bytes each).
    """

    MAX_HOURS = 168

    def __init__(self, sample_seconds: float) -> None:
        size = max(1, int(self.MAX_HOURS * 3600 / max(sample_seconds, 1.0)))
        self._ring: collections.deque[tuple[int, ...]] = collections.deque(maxlen=size)
        self.started = time.time()

    def record(self, now: float, stats: StoreStats, streams: int) -> None:
        c = stats.counters
        self._ring.append(
            (
                int(now),
                stats.handles_active,
                stats.slots_active,
                stats.pair_slots_open,
                streams,
                *(c.get(name, 0) for name in HISTORY_FIELDS[5:]),
            )
        )

    def since(self, cutoff: float) -> list[dict[str, int]]:
        return [dict(zip(HISTORY_FIELDS, row, strict=True)) for row in self._ring if row[0] >= cutoff]


BATCH_GATE = web.AppKey("batch_gate", asyncio.Semaphore)
CONFIG = web.AppKey("config", RelayConfig)
STORE = web.AppKey("store", Store)
STREAMS = web.AppKey("streams", StreamRegistry)
HISTORY = web.AppKey("history", StatsHistory)
