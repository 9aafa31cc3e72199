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
    # per NICK, not per client: HEAD's 5 intros per 300 s
    "intro_nick": RateSpec(burst=5, per_second=5 / 300),
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
    sse_keepalive_seconds: float = 30.0
    stats_sample_seconds: float = 30.0
    sweep_seconds: float = 60.0
    rate_limits: dict[str, RateSpec] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    #: disable every rate limit (tests, benchmarks, private deployments)
    rate_limits_enabled: bool = True
    #: take the client address from the first X-Forwarded-For entry (only behind a trusted proxy)
    trust_forwarded_for: bool = False
    clock: Callable[[], float] = time.time

    @property
    def public_routes(self) -> bool:
        """Public mode serves pages, the directory reads and invites; local-only/UDS do not."""
        return self.mode == "public"
