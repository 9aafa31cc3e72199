# SPDX-License-Identifier: MIT
"""A peer whose clock is hours off.

Nothing in wire compares a peer's timestamps with our clock: signatures cover the event id, the relay
orders by arrival, inboxes append in slot order. So a skewed peer's events verify and stay in send order;
its ``time_sensitive_until`` is advisory, kept verbatim (it is signed) and shown, never used to drop the
event; and rotation freshness compares the peer's stamps only with the same peer's earlier stamps.
The skewed agent runs in-process with ``datetime`` shifted in the modules that stamp events.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import pytest

from tests.helpers.agents import paired_agents
from tests.helpers.cli import Wire
from tests.helpers.relay_process import RelayProcess
from wire_client import WireAgent
from wire_protocol import parse_timestamp

pytestmark = pytest.mark.timeout(60)


@contextlib.contextmanager
def clock(monkeypatch: pytest.MonkeyPatch, offset: timedelta) -> Iterator[None]:
    """Every event stamped inside the block (messages, pairing events) is ``offset`` off real time."""

    class Skewed(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Skewed:
            real = datetime.now(tz)
            moved = real + offset
            return cls.fromtimestamp(moved.timestamp(), tz) if tz is not None else cls.fromtimestamp(moved.timestamp())

    with monkeypatch.context() as patch:
        patch.setattr("wire_client._messaging.send.datetime", Skewed)
        patch.setattr("wire_client._pairing.events.datetime", Skewed)
        yield


async def _bodies(agent: WireAgent, peer: str) -> list[object]:
    await agent.pull()
    return [e.body for e in agent.read_inbox(peer) if e.type not in ("pair_drop", "pair_drop_ack", "wire_close")]


async def test_events_from_a_skewed_peer_verify_and_keep_send_order(
    relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await paired_agents(tmp_path, relay.url, "alice", "bob")
    assert alice.home.root is not None
    async with alice, bob:
        for i in range(3):  # interleaved: bob five hours ahead, alice on time
            with clock(monkeypatch, timedelta(hours=5)):
                assert (await bob.send("alice", f"b{i}")).status == "delivered"
            assert (await alice.send("bob", f"a{i}")).status == "delivered"
        with clock(monkeypatch, timedelta(hours=-5)):  # ... and then five hours behind
            assert (await bob.send("alice", "b3")).status == "delivered"
        assert await _bodies(alice, "bob") == ["b0", "b1", "b2", "b3"]
        assert await _bodies(bob, "alice") == ["a0", "a1", "a2"]
        stamps = [parse_timestamp(e.timestamp) for e in alice.read_inbox("bob") if e.type == "claim"]
        now = datetime.now(UTC)
        assert all(s - now > timedelta(hours=4) for s in stamps[:3])
        assert now - stamps[3] > timedelta(hours=4)
        tail = Wire(alice.home.root, tmp_path).ok("tail", "bob", "--offline").jsonl()
        assert all(e["verified"] for e in tail)
        # the operator's view sorts by the sender's clock: per sender that is still send order
        assert [e["body"] for e in tail] == ["b3", "b0", "b1", "b2"]


async def test_deadline_from_a_skewed_clock_is_kept_and_shown(
    relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await paired_agents(tmp_path, relay.url, "alice", "bob")
    assert alice.home.root is not None
    async with alice, bob:
        with clock(monkeypatch, timedelta(hours=-6)):  # "in 30 minutes" by bob's clock = long past for alice
            sent = await bob.send("alice", "answer within 30m", deadline="30m")
        assert sent.status == "delivered"
        [event] = [e for e in (await alice.pull())[0].inboxed if e.type == "claim"]
        deadline = parse_timestamp(event.event["time_sensitive_until"])
        assert datetime.now(UTC) - deadline > timedelta(hours=5)  # expired by our clock, still delivered
        human = Wire(alice.home.root, tmp_path).ok("tail", "bob", "--offline", human=True).out
        assert f"(by {event.event['time_sensitive_until']})" in human
        assert "✓" in human


async def _rotate_and_check(bob: WireAgent, alice: WireAgent, note: str) -> None:
    rotated = await bob.pairing.rotate_slot()
    assert rotated.to_json()["announced_to"] == ["alice"]
    await alice.pull()  # applies bob's refresh drop (and wire_close)
    assert [ep.slot_id for ep in alice.relay_state.peer_endpoints("bob")] == [rotated.to_json()["new_slot_id"]]
    assert (await alice.send("bob", note)).status == "delivered"
    assert note in await _bodies(bob, "alice")


async def test_rotation_by_a_peer_with_a_skewed_clock(
    relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await paired_agents(tmp_path, relay.url, "alice", "bob")
    async with alice, bob:
        with clock(monkeypatch, timedelta(hours=3)):
            await _rotate_and_check(bob, alice, "after the first rotation")
            await _rotate_and_check(bob, alice, "after the second rotation")


async def test_rotation_after_the_peer_clock_was_corrected_backwards(
    relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await paired_agents(tmp_path, relay.url, "alice", "bob")
    async with alice, bob:
        with clock(monkeypatch, timedelta(hours=3)):
            await _rotate_and_check(bob, alice, "while bob's clock ran ahead")
        await _rotate_and_check(bob, alice, "after bob's clock was corrected")
