# SPDX-License-Identifier: AGPL-3.0-or-later
"""Rate-limit token buckets in process memory (the SQLite store's; PostgreSQL shares a table)."""

from __future__ import annotations

import collections
import math

__all__ = ["MemoryRateBuckets"]


class MemoryRateBuckets:
    """Token buckets in process memory: ``take`` returns 0.0 (allowed) or seconds until allowed.

    O(1) per call and bounded: each route group (the key up to its first ``:``) keeps its buckets
    in least-recently-used order; every call drops at most two buckets from the old end of its own
    group — full again (so forgetting them changes nothing), or the oldest once the group holds
    more than ``max_keys``. One group's churn never resets another group's buckets.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self._groups: dict[str, collections.OrderedDict[str, tuple[float, float]]] = {}
        self._max_keys = max_keys

    def __len__(self) -> int:
        return sum(len(b) for b in self._groups.values())

    def take(self, key: str, capacity: float, refill_per_second: float, now: float) -> float:
        group = key.partition(":")[0]
        buckets = self._groups.get(group)
        if buckets is None:
            buckets = self._groups[group] = collections.OrderedDict()
        tokens, at = buckets.pop(key, (capacity, now))
        tokens = min(capacity, tokens + max(0.0, now - at) * refill_per_second)
        allowed = tokens >= 1.0
        buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        self._prune(buckets, capacity, refill_per_second, now)
        if allowed:
            return 0.0
        if refill_per_second <= 0:
            return math.inf
        return (1.0 - tokens) / refill_per_second

    def _prune(
        self, buckets: collections.OrderedDict[str, tuple[float, float]], capacity: float, refill: float, now: float
    ) -> None:
        full_after = capacity / refill if refill > 0 else math.inf
        for _ in range(2):
            oldest = next(iter(buckets.values()), None)
            if oldest is None or (now - oldest[1] < full_after and len(buckets) <= self._max_keys):
                return
            buckets.popitem(last=False)
