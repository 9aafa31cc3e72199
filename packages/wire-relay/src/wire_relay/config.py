# SPDX-License-Identifier: AGPL-3.0-or-later
"""Relay configuration: one frozen dataclass, built by ``__main__`` from the command line or by tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from wire_protocol import MAX_EVENT_BYTES, SLOT_QUOTA_BYTES

__all__ = ["DEFAULT_RATE_LIMITS", "Mode", "RateSpec", "RelayConfig"]

Mode = Literal["public", "local-only", "uds"]


@dataclass(frozen=True, slots=True)
class RateSpec:
    """A token bucket: ``burst`` requests at once, then ``per_second`` requests per second."""

    burst: float
    per_second: float


#: per client address, by route group (the reference had ONE global bucket for everybody, §7.1)
DEFAULT_RATE_LIMITS: dict[str, RateSpec] = {
    "allocate": RateSpec(burst=120, per_second=5),
    "pair": RateSpec(burst=120, per_second=5),
    "intro": RateSpec(burst=60, per_second=2),
    "invite": RateSpec(burst=30, per_second=1),
    # GET /i/<token>, hits and misses alike (enumeration damping on top of 128-bit tokens)
    "invite_get": RateSpec(burst=20, per_second=0.5),
    # per (nick, sender DID), charged only once the drop verified: HEAD's 5 intros per 300 s
    "intro_nick": RateSpec(burst=5, per_second=5 / 300),
    # per sender DID across every nick
    "intro_sender": RateSpec(burst=20, per_second=20 / 300),
}


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """Everything ``create_app`` needs. Defaults are the production values."""

    store_url: str = "sqlite://:memory:"
    mode: Mode = "public"
    #: the relay's public base URL (landing page, A2A endpoints); None = derived from the request
    public_url: str | None = None
    max_body_bytes: int = 2 * 1024 * 1024
    max_batch_body_bytes: int = 16 * 1024 * 1024
    max_batch_events: int = 1000
    #: batches parsed at the same time (bounds memory: a 1000-event batch is ~3 MB of Python objects;
    #: the event loop is single-threaded anyway, so more concurrency would not add throughput)
    max_concurrent_batches: int = 4
    max_event_bytes: int = MAX_EVENT_BYTES
    slot_quota_bytes: int = SLOT_QUOTA_BYTES
    max_streams_per_slot: int = 256
    #: SSE streams open at once, relay-wide and per client address
    max_streams: int = 2048
    max_streams_per_client: int = 32
    #: TCP connections open at once, relay-wide (lowered at start-up to fit the open-file limit) and per
    #: peer address (not applied behind trusted proxies: every connection then comes from the proxy)
    max_connections: int = 4096
    max_connections_per_client: int = 64
    #: a new connection must deliver its first request's headers within this time
    header_timeout_seconds: float = 10.0
    #: a request body must arrive completely within this time (408 otherwise)
    body_timeout_seconds: float = 30.0
    #: an idle keep-alive connection (between requests) is closed after this time
    idle_timeout_seconds: float = 30.0
    #: open SPAKE2 pair slots, relay-wide (503 beyond)
    max_pair_slots: int = 10_000
    #: a claimed agent-card's size (serialised), and an intro event's size
    max_card_bytes: int = 16 * 1024
    max_intro_bytes: int = 64 * 1024
    sse_keepalive_seconds: float = 30.0
    stats_sample_seconds: float = 30.0
    sweep_seconds: float = 60.0
    rate_limits: dict[str, RateSpec] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    #: disable every rate limit (tests, benchmarks, private deployments)
    rate_limits_enabled: bool = True
    #: reverse proxies in front of the relay: 0 = use the TCP peer address; N = the client is the N-th
    #: X-Forwarded-For entry from the right (the right-most untrusted hop) and X-Forwarded-Proto is honoured
    trusted_proxies: int = 0
    #: let claims without a proof of key possession through, recorded as unproven (reference clients)
    accept_unproven_claims: bool = False
    #: acknowledged events are deleted this long after the owner's acknowledgement
    acked_retention_seconds: float = 86_400.0
    #: unacknowledged events older than this are deleted (None: kept until acknowledged, as the reference)
    event_retention_seconds: float | None = None
    clock: Callable[[], float] = time.time

    @property
    def public_routes(self) -> bool:
        """Public mode serves pages, the directory reads and invites; local-only/UDS do not."""
        return self.mode == "public"
