# SPDX-License-Identifier: MIT
"""Per-client token buckets: 429 JSON + Retry-After, one client cannot lock out another (§7.1)."""

from __future__ import annotations

import pytest

from tests.relay.conftest import FakeClock, MakeRelay
from wire_relay.config import RateSpec


def limits(burst: float, per_second: float) -> dict[str, RateSpec]:
    spec = RateSpec(burst=burst, per_second=per_second)
    return dict.fromkeys(("allocate", "pair", "intro", "invite"), spec)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/slot/allocate", {}),
        ("POST", "/v1/pair", {"code_hash": "h", "msg": "m", "role": "boss"}),
        ("POST", "/v1/pair/abandon", {"code_hash": "h"}),
        ("POST", f"/v1/pair/{'a' * 32}/bootstrap", {"role": "host", "sealed": "s"}),
        ("POST", "/v1/handle/intro/nobody", {"event": {}}),
        ("POST", "/v1/invite/register", {"invite_url": "wire://x"}),
    ],
)
async def test_429_with_retry_after(
    make_relay: MakeRelay, clock: FakeClock, method: str, path: str, body: object
) -> None:
    client = await make_relay(rate_limits_enabled=True, rate_limits=limits(2, 0.5), clock=clock, trusted_proxies=1)
    me = {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(2):
        assert (await client.request(method, path, json=body, headers=me)).status != 429
    resp = await client.request(method, path, json=body, headers=me)
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "2"
    payload = await resp.json()
    assert "error" in payload
    assert payload["retry_after_seconds"] == 2
    # another client is not affected (the reference had one global bucket)
    other = {"X-Forwarded-For": "198.51.100.1, 10.0.0.1"}
    assert (await client.request(method, path, json=body, headers=other)).status != 429
    clock.now += 2
    assert (await client.request(method, path, json=body, headers=me)).status != 429


async def test_forwarded_for_ignored_unless_trusted(make_relay: MakeRelay, clock: FakeClock) -> None:
    client = await make_relay(rate_limits_enabled=True, rate_limits=limits(1, 0.01), clock=clock)
    assert (await client.post("/v1/slot/allocate", json={}, headers={"X-Forwarded-For": "1.1.1.1"})).status == 201
    resp = await client.post("/v1/slot/allocate", json={}, headers={"X-Forwarded-For": "2.2.2.2"})
    assert resp.status == 429  # same peer address; the header is not trusted by default
    assert int(resp.headers["Retry-After"]) == 100


async def test_unlimited_routes_are_not_limited(make_relay: MakeRelay) -> None:
    client = await make_relay(rate_limits_enabled=True, rate_limits=limits(1, 0.001))
    for _ in range(5):
        assert (await client.get("/healthz")).status == 200


def test_buckets_are_bounded_per_group_and_churn_never_refills_another_group() -> None:
    """Issue 18 item 9: O(1) per take, pruning inside the group only (it used to reset every group)."""
    from wire_relay.store.base import MemoryRateBuckets

    buckets = MemoryRateBuckets(max_keys=100)
    now = 1000.0
    assert buckets.take("intro_nick:alice|did", 1, 1 / 300, now) == 0.0
    assert buckets.take("intro_nick:alice|did", 1, 1 / 300, now) > 0  # empty now
    for n in range(5000):  # an attacker churning another group's keys
        buckets.take(f"invite_get:10.0.{n // 256}.{n % 256}", 20, 0.5, now)
    assert len(buckets) <= 100 + 1 + 2
    assert buckets.take("intro_nick:alice|did", 1, 1 / 300, now) > 0  # still empty: not pruned
