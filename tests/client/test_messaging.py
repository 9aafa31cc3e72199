# SPDX-License-Identifier: MIT
"""Send and pull between two manually paired agents through a real relay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.agents import inbox_lines, make_agent, paired_agents, unused_port
from tests.helpers.relay_process import RelayProcess
from wire_client import CapabilityError, CursorStore, Endpoint, PeerNotFoundError, RelayClient, Scope
from wire_protocol import parse_timestamp


async def test_send_then_pull_inboxes_once(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    async with alice, bob:
        result = await bob.send("alice", "hi alice")
        assert result.status == "delivered"
        assert result.delivered
        assert result.endpoint == f"federation {shared_relay.url}"
        again = await bob.sender.send_signed("alice", bob.sender.build("alice", {"n": 1}))
        assert again.status == "delivered"
        reports = await alice.pull()
        assert [e.text for e in reports[0].inboxed] == ["hi alice", '{"n":1}']
        assert (await alice.pull())[0].inboxed == []
        assert len(inbox_lines(alice, "bob")) == 2
        assert CursorStore(alice.home).get(alice.endpoints()[0]) == reports[0].inboxed[-1].event_id


async def test_retrying_the_same_event_is_idempotent(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    async with alice, bob:
        event = bob.sender.build("alice", "once")
        assert (await bob.sender.send_signed("alice", event)).status == "delivered"
        assert (await bob.sender.send_signed("alice", event)).status == "duplicate"
        await alice.pull()
        assert len(inbox_lines(alice, "bob")) == 1


async def test_unreachable_relay_queues_then_delivers(own_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, own_relay.url, "alice", "bob")
    async with alice, bob:
        own_relay.kill()
        first = await bob.send("alice", "while down 1")
        second = await bob.send("alice", "while down 2")
        assert first.status == second.status == "queued"
        assert first.reason is not None
        assert "connect error" in first.reason
        assert "still queued" in (second.reason or "")
        assert len(bob.home.outbox_path("alice").read_text().splitlines()) == 2
        verdicts = [json.loads(line) for line in bob.home.sent_path("alice").read_text().splitlines()]
        assert [v["status"] for v in verdicts] == ["queued", "queued"]
        assert verdicts[0]["reason"] == first.reason
        assert await bob.push() == []  # still down: nothing delivered, nothing lost
        own_relay.restart()
        third = await bob.send("alice", "after")  # flushes the backlog first, in order
        assert third.status == "delivered"
        assert await bob.push() == []  # nothing re-posted: the outbox cursor moved past everything
        await alice.pull()
        assert [line["body"] for line in inbox_lines(alice, "bob")] == ["while down 1", "while down 2", "after"]


async def test_falls_back_to_the_next_endpoint(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    async with alice, bob:
        dead_lan = Endpoint(f"http://127.0.0.1:{unused_port()}", "d" * 32, "e" * 64, Scope.LAN)
        bob.relay_state.pin_peer_endpoints("alice", [dead_lan, *alice.endpoints()])
        result = await bob.send("alice", "via federation")
        assert result.status == "delivered"
        assert result.endpoint == f"federation {shared_relay.url}"
        relay_json = json.loads(bob.home.relay_state.read_text())
        assert relay_json["peers"]["alice"]["relay_url"] == shared_relay.url  # legacy trio = federation


async def test_capabilities_deadlines_and_json_bodies(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    async with alice, bob:
        assert (await bob.send("alice", {"q": [1, 2]}, type="question", check_cap="wire/v3.1")).delivered
        with pytest.raises(CapabilityError, match="wire/v9"):
            await bob.send("alice", "x", check_cap="wire/v9")
        warned = await bob.send("alice", "y", check_cap="wire/v9", cap_policy="warn", deadline="30m")
        assert warned.delivered
        assert warned.warnings
        with pytest.raises(PeerNotFoundError):
            await bob.send("nobody", "z")
        await alice.pull()
        question, deadline = inbox_lines(alice, "bob")
        assert question["type"] == "question"
        assert question["kind"] == 1
        assert question["body"] == {"q": [1, 2]}
        assert parse_timestamp(deadline["time_sensitive_until"]) > parse_timestamp(deadline["timestamp"])


async def test_tampered_and_unknown_key_events_never_inboxed(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    mallory = make_agent(tmp_path, "mallory")
    async with alice, bob, mallory:
        tampered = bob.sender.build("alice", "pay 10")
        tampered["body"] = "pay 1000"
        stranger = mallory.sender.build("alice", "let me in")
        async with RelayClient(shared_relay.url) as relay:
            for event in (tampered, stranger):
                await relay.post_event(alice.endpoints()[0], event)
        report = (await alice.pull())[0]
        assert report.inboxed == []
        assert [r.code for r in report.rejected] == ["event_id_mismatch"]
        assert report.held == [stranger["event_id"]]
        assert inbox_lines(alice, "bob") == []
        assert inbox_lines(alice, "mallory") == []
        rejected = [json.loads(line) for line in alice.home.rejected_log.read_text().splitlines()]
        assert rejected[0]["event_id"] == tampered["event_id"]


async def test_held_events_released_on_pin(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, carol = make_agent(tmp_path, "alice"), make_agent(tmp_path, "carol")
    async with alice, carol:
        await alice.bind_relay(shared_relay.url)
        await carol.bind_relay(shared_relay.url)
        carol.add_peer(alice.card, alice.endpoints())  # one-sided: alice has not pinned carol yet
        assert (await carol.send("alice", "knock knock")).delivered
        report = (await alice.pull())[0]
        assert report.held
        assert not report.inboxed
        assert not report.blocked
        assert CursorStore(alice.home).get(alice.endpoints()[0]) == report.held[0]  # not stuck
        alice.pin(carol.card)
        assert [line["body"] for line in inbox_lines(alice, "carol")] == ["knock knock"]
