# SPDX-License-Identifier: MIT
"""Bursts to one peer (issue 17): ``send_many`` and the file-system outbox post batches, complete,
once each, in order — against a real relay process, also across a relay outage."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.agents import paired_agents
from tests.helpers.relay_process import RelayProcess
from wire_client import WireAgent, WireClientError
from wire_client._home.files import read_jsonl
from wire_client._relay.client import RelayInfo

pytestmark = pytest.mark.timeout(120)


def _batch_posts(relay: RelayProcess) -> float:
    """How many batch POSTs the relay answered (its own /metrics)."""
    with urllib.request.urlopen(f"{relay.url}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("wire_relay_http_requests_total{") and 'route="/v1/events/{slot_id}/batch"' in line
    )


async def _inbox_bodies(alice: WireAgent) -> list[object]:
    await alice.pull()
    return [event.body for event in alice.read_inbox("bob")]  # the readable body (opened when sealed)


async def test_send_many_delivers_a_burst_in_batches_once_and_in_order(own_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, own_relay.url, "alice", "bob")
    async with alice, bob:
        bodies = [f"burst {i}" for i in range(1500)]
        before = _batch_posts(own_relay)
        verdicts = await bob.send_many("alice", bodies)
        assert [v.status for v in verdicts] == ["delivered"] * 1500
        assert len({v.event_id for v in verdicts}) == 1500
        assert _batch_posts(own_relay) - before == 2  # the relay's advertised 1,000 events a post, not one each
        assert await _inbox_bodies(alice) == bodies


@pytest.mark.parametrize(("advertised", "posts"), [(300, 6), (10**9, 2), (None, 8)])
async def test_push_batches_follow_the_relays_advertised_limit_within_our_ceiling(
    own_relay: RelayProcess, tmp_path: Path, advertised: int | None, posts: int
) -> None:
    """300: 1,500 events (chunks of 1,000 + 500) in 4 + 2 posts; an absurd limit is capped at our
    1,000; none stated: 200 a post."""
    alice, bob = await paired_agents(tmp_path, own_relay.url, "alice", "bob")
    async with alice, bob:
        client = bob.sender.pool.client(own_relay.url)
        real = await client.info()
        limits = {**real.raw["limits"], "max_batch_events": advertised} if advertised else {}  # type: ignore[dict-item]
        client._info = RelayInfo(features=real.features, version=real.version, raw={**real.raw, "limits": limits})
        bodies = [f"burst {i}" for i in range(1500)]
        before = _batch_posts(own_relay)
        verdicts = await bob.send_many("alice", bodies)
        assert [v.status for v in verdicts] == ["delivered"] * 1500
        assert _batch_posts(own_relay) - before == posts
        assert await _inbox_bodies(alice) == bodies


async def test_send_many_checks_every_body_before_queuing_any(own_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, own_relay.url, "alice", "bob")
    async with alice, bob:
        bodies: list[object] = [f"fine {i}" for i in range(2500)]
        bodies[2100] = "x" * 70_000  # too large to seal: found although it is past the first chunk
        with pytest.raises(WireClientError, match=r"body 2100 .*nothing was queued"):
            await bob.send_many("alice", bodies)  # type: ignore[arg-type]
        assert not bob.home.outbox_path("alice").exists() or bob.home.outbox_path("alice").read_bytes() == b""
        assert await _inbox_bodies(alice) == []


async def test_send_many_during_an_outage_is_queued_then_delivered_once(
    own_relay: RelayProcess, tmp_path: Path
) -> None:
    alice, bob = await paired_agents(tmp_path, own_relay.url, "alice", "bob")
    async with alice, bob:
        own_relay.kill()
        verdicts = await bob.send_many("alice", [f"queued {i}" for i in range(450)])
        assert {v.status for v in verdicts} == {"queued"}
        assert all(v.reason for v in verdicts)
        own_relay.start()
        pushed = await bob.push("alice")
        assert [r.event_id for r in pushed] == [v.event_id for v in verdicts]
        assert await bob.push("alice") == []  # nothing is posted twice
        assert await _inbox_bodies(alice) == [f"queued {i}" for i in range(450)]


async def test_a_crash_between_post_and_cursor_save_reposts_the_same_ids(
    own_relay: RelayProcess, tmp_path: Path
) -> None:
    """Pre-signed outbox lines keep no in-flight copy: re-reading them after a crash gives the same ids,
    which the relay answers as duplicates — the peer still gets each event once."""
    alice, bob = await paired_agents(tmp_path, own_relay.url, "alice", "bob")
    async with alice, bob:
        verdicts = await bob.send_many("alice", [f"m {i}" for i in range(300)])
        assert {v.status for v in verdicts} == {"delivered"}
        cursor_file = bob.home.outbox_cursors
        cursor_file.write_text(json.dumps({"alice": {"offset": 0}}))  # as if the process died before saving
        again = await bob.push("alice")
        assert [r.status for r in again] == ["duplicate"] * 300
        assert [r.event_id for r in again] == [v.event_id for v in verdicts]
        assert await _inbox_bodies(alice) == [f"m {i}" for i in range(300)]


def test_read_jsonl_stops_after_max_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"a":1}\n\nnot json\n{"a":2}\n{"a":3}\n{"a":4')
    first = read_jsonl(path, max_lines=2)
    assert [r[1] for r in first.records] == [{"a": 1}]
    assert first.bad_lines == [9]
    assert first.end_offset == 18  # the start of the next line
    rest = read_jsonl(path, first.end_offset, max_lines=10)
    assert [r[1] for r in rest.records] == [{"a": 2}, {"a": 3}]
    assert rest.torn_tail
