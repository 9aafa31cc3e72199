# SPDX-License-Identifier: AGPL-3.0-or-later
"""Per-client (and per-nick) token buckets in front of the abuse-prone routes, and who the client is.

The reference (v0.9.3) had one global bucket for all callers (protocol notes §7.1) so one noisy
client could lock everybody out of pairing. Here each client address has its own bucket per route
group; the buckets live behind :meth:`Store.rate_take` (process memory for SQLite, shared table for
PostgreSQL). Exceeding one answers 429 JSON with ``Retry-After`` (whole seconds, at least 1).

Behind ``N`` trusted reverse proxies the client is the ``N``-th ``X-Forwarded-For`` entry from the
right: every entry left of it was written by the client itself and proves nothing. A value that is
not an IP address falls back to the TCP peer, so a bucket key is always short.
"""

from __future__ import annotations

import ipaddress
import math

from aiohttp import web

from wire_relay.config import RelayConfig
from wire_relay.errors import ApiError
from wire_relay.store import Store

__all__ = ["check_rate", "client_address", "request_scheme"]

#: longest X-Forwarded-For header examined (a longer one is not split at all)
MAX_FORWARDED_CHARS = 2048


def client_address(request: web.Request, config: RelayConfig) -> str:
    """The caller's address: the TCP peer, or the right-most untrusted X-Forwarded-For hop."""
    peer = request.remote or "local"
    hops = config.trusted_proxies
    if hops <= 0:
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")
    if not forwarded or len(forwarded) > MAX_FORWARDED_CHARS:
        return peer
    entries = forwarded.split(",")
    if len(entries) < hops:
        return peer
    candidate = entries[-hops].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer


def request_scheme(request: web.Request, config: RelayConfig) -> str:
    """``http`` or ``https``: the connection's, or the proxy's ``X-Forwarded-Proto`` behind trusted proxies."""
    if config.trusted_proxies > 0:
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            return proto
    return request.scheme


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
