# SPDX-License-Identifier: AGPL-3.0-or-later
"""Per-client (and per-nick) token buckets in front of the abuse-prone routes.

The reference (v0.9.3) had one global bucket for all callers (protocol notes §7.1) so one noisy
client could lock everybody out of pairing. Here each client address has its own bucket per route
group; the buckets live behind :meth:`Store.rate_take` (process memory for SQLite, shared table for
PostgreSQL). Exceeding one answers 429 JSON with ``Retry-After`` (whole seconds, at least 1).
"""

from __future__ import annotations

import math

from aiohttp import web

from wire_relay.config import RelayConfig
from wire_relay.errors import ApiError
from wire_relay.store import Store

__all__ = ["check_rate", "client_address"]


def client_address(request: web.Request, config: RelayConfig) -> str:
    """The caller's address: the peer IP, or the first X-Forwarded-For entry behind a trusted proxy."""
    if config.trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For")
        if forwarded:
            return forwarded.split(",", 1)[0].strip()
    return request.remote or "local"


async def check_rate(store: Store, config: RelayConfig, group: str, key: str) -> None:
    """Take one token from ``group``'s bucket for ``key``; raise a 429 :class:`ApiError` if empty."""
    if not config.rate_limits_enabled:
        return
    spec = config.rate_limits.get(group)
    if spec is None:
        return
    wait = await store.rate_take(f"{group}:{key}", spec.burst, spec.per_second, config.clock())
    if wait > 0:
        seconds = max(1, math.ceil(wait)) if math.isfinite(wait) else 3600
        raise ApiError(
            429,
            f"too many requests; retry in {seconds}s",
            headers={"Retry-After": str(seconds)},
            retry_after_seconds=seconds,
        )
