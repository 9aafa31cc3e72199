# SPDX-License-Identifier: MIT
"""Three agents, two relays, CLI and MCP: the whole product path, step by step.

alice (CLI, relay A = SQLite) · bob (CLI, relay B1) · carol (MCP stdio, relay B2); B1 and B2 are two
relay processes on one PostgreSQL database. The tests run in file order on one module-scoped world:

1. handle pairing across domains: alice dials ``carol@<B1>`` (carol lives on B2), carol accepts via MCP;
2. SAS pairing bob ↔ carol, rendezvous split across B1 and B2 (CLI join + confirm, MCP host + confirm);
3. invite pairing alice ↔ bob (CLI both sides);
4. messages both ways on every pair, each in the right inbox exactly once;
5. a reference-style client that POLLS (raw HTTP, wire_protocol only) pairs by handle and talks to alice;
6. relay restarts mid-conversation (A killed; then B1 killed while B2 keeps serving): queued → delivered,
   the operator told by the send verdict and ``wire status``;
7. slot rotation: alice rotates, peers keep reaching her.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.refclient import PollingPeer
from tests.e2e.support import HANDSHAKE_TYPES, messages, once_each, until, until_async
from tests.helpers.cli import parallel
from tests.helpers.e2e import Mcp, World, carol_session
from wire_client import open_home
from wire_mcp.views import unframe

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

WAIT = 20.0


def _cli_peer(world: World, who: str, peer: str) -> dict[str, Any] | None:
    wire = world.alice if who == "alice" else world.bob
    return next((p for p in wire.ok("peers").json() if p["handle"] == peer), None)


def _cli_reachable(world: World, who: str, peer: str) -> bool:
    record = _cli_peer(world, who, peer)
    return record is not None and bool(record["reachable"])


async def _mcp_reachable(carol: Mcp, peer: str) -> bool:
    return any(p["handle"] == peer and p["reachable"] for p in (await carol("wire_peers"))["peers"])


# ------------------------------------------------------------------------------------------------ pairing


async def test_pair_by_handle_across_domains(world: World) -> None:
    async with carol_session(world) as carol:
        init = await carol("wire_init", handle="carol", relay_url=world.relay_b2.url)
        assert init["status"] == "created"
        world.dids["carol"] = init["did"]
        # carol claimed her handle through B2; alice resolves it through B1: one relay, two processes
        dial = await asyncio.to_thread(world.alice.ok, "dial", f"carol@{world.host(world.relay_b1)}", "hello carol")
        assert dial.json()["status"] == "drop_sent", str(dial)

        async def asked() -> bool:
            return [p["peer_handle"] for p in (await carol("wire_pending"))["pending"]] == ["alice"]

        await until_async(asked, WAIT, "alice's pair request at carol")
        refused = await carol.raw("wire_accept", name="alice", operator_approved=False)
        assert refused.is_error  # an agent alone can never accept
        accepted = await carol("wire_accept", name="alice", operator_approved=True)
        assert accepted["status"] == "bilateral_accepted"
        assert await _mcp_reachable(carol, "alice")
        await asyncio.to_thread(until, lambda: _cli_reachable(world, "alice", "carol"), WAIT, "carol's ack at alice")
        # the message that rode along with the dial was queued until the ack, then delivered
        await until_async(
            lambda: [e["body"] for e in messages(world.carol_root, "alice")] == ["hello carol"],
            WAIT,
            "the dial's message in carol's inbox",
        )


async def test_pair_by_sas_across_relay_processes(world: World) -> None:
    async with carol_session(world) as carol:
        hosted = await carol("wire_pair_initiate", relay_url=world.relay_b2.url)
        assert hosted["state"] == "waiting"
        joined = (
            await asyncio.to_thread(
                world.bob.ok, "pair-join", hosted["code_phrase"], "--relay", world.relay_b1.url, "--wait", "15"
            )
        ).json()
        assert joined["state"] == "sas_ready", joined
        host_view = await carol("wire_pair_check", session_id=hosted["session_id"], max_wait_secs=15)
        assert host_view["state"] == "sas_ready"
        assert host_view["sas"] == joined["sas"]  # both operators see the same six digits
        confirm_bob = asyncio.create_task(
            asyncio.to_thread(world.bob, "pair-confirm", joined["session_id"], joined["sas"], "--wait", "30")
        )
        done = await carol(
            "wire_pair_confirm", session_id=hosted["session_id"], user_typed_digits=joined["sas"], max_wait_secs=30
        )
        bob_done = await confirm_bob
        assert bob_done.code == 0, str(bob_done)
        assert done["state"] in ("paired", "finalizing")
        assert bob_done.json()["state"] in ("paired", "finalizing")
        await until_async(lambda: _mcp_reachable(carol, "bob"), WAIT, "bob pinned at carol")
        await asyncio.to_thread(until, lambda: _cli_reachable(world, "bob", "carol"), WAIT, "carol pinned at bob")


def test_pair_by_invite(world: World) -> None:
    invite = world.alice.ok("invite", "--ttl", "600").json()
    assert invite["invite_url"].startswith("wire://pair?")
    accepted = world.bob.ok("accept-invite", invite["invite_url"]).json()
    assert accepted["peer_handle"] == "alice"
    assert accepted["status"] == "drop_sent"
    until(lambda: _cli_reachable(world, "alice", "bob"), WAIT, "bob pinned at alice (invite consumed)")
    assert _cli_reachable(world, "bob", "alice")


# ------------------------------------------------------------------------------------------------ messages


async def test_messages_both_ways_exactly_once(world: World) -> None:
    async with carol_session(world) as carol:
        a2b, b2a, a2c, b2c = await asyncio.to_thread(
            parallel,
            lambda: world.alice("send", "bob", "alice to bob"),
            lambda: world.bob("send", "alice", "claim", '{"bob": "to alice"}'),
            lambda: world.alice("send", "carol", "alice to carol"),
            lambda: world.bob("send", "carol", "bob to carol"),
        )
        c2a = await carol("wire_send", peer="alice", body="carol to alice")
        c2b = await carol("wire_send", peer="bob", body={"carol": "to bob"})
        verdicts = [r.json() for r in (a2b, b2a, a2c, b2c)] + [c2a, c2b]
        assert [v["status"] for v in verdicts] == ["delivered"] * 6, verdicts

        expected = {
            (world.bob.home, "alice"): [a2b.json()["event_id"]],
            (world.alice.home, "bob"): [b2a.json()["event_id"]],
            (world.alice.home, "carol"): [c2a["event_id"]],
            (world.bob.home, "carol"): [c2b["event_id"]],
            (world.carol_root, "alice"): [a2c.json()["event_id"]],
            (world.carol_root, "bob"): [b2c.json()["event_id"]],
        }
        for (root, peer), ids in expected.items():

            def landed(r: Path | None = root, p: str = peer, i: list[str] = ids) -> bool:
                return once_each(r, p, i)

            await until_async(landed, WAIT, f"{ids} once in {root}/{peer}")

        # each side's own view: the CLI re-verifies every line, MCP returns what carol's inbox holds
        tail = world.bob.ok("tail", "carol", "--offline").jsonl()
        assert [(e["body"], e["verified"]) for e in tail] == [({"carol": "to bob"}, True)]
        got = [e for e in (await carol("wire_tail", peer="bob"))["events"] if e["type"] not in HANDSHAKE_TYPES]
        assert [(unframe(e["body"], e["body_type"]), e["verified"]) for e in got] == [("bob to carol", True)]


async def test_reference_style_polling_client(world: World) -> None:
    """dave speaks raw HTTP from relay B2 and only ever polls ``GET /v1/events/<slot>?since=``."""
    dave = PollingPeer("dave", world.relay_b2.url)
    await dave.allocate()
    dropped = await dave.dial("alice", world.relay_a.url)
    assert dropped["status"] == "dropped"
    pending = (await asyncio.to_thread(world.alice.ok, "pending")).json()
    assert [p["peer_handle"] for p in pending] == ["dave"]
    accepted = (await asyncio.to_thread(world.alice.ok, "accept", "dave")).json()
    assert accepted["status"] == "bilateral_accepted"
    await dave.poll_until(lambda: bool(dave.peers["alice"].slot_token), within=WAIT)  # the ack carries the token
    alice_slot = dave.peers["alice"]  # alice's relay mints dave a write-only deposit token: it cannot list
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.get(
            f"{alice_slot.relay_url}/v1/events/{alice_slot.slot_id}",
            headers={"Authorization": f"Bearer {alice_slot.slot_token}"},
        ) as listing,
    ):
        assert listing.status == 403

    status, answer = await dave.send("alice", "polled hello")
    assert status == 201, answer
    await until_async(lambda: once_each(world.alice.home, "dave", [answer["event_id"]]), WAIT, "dave's event at alice")
    sent = (await asyncio.to_thread(world.alice.ok, "send", "dave", "streamed reply")).json()
    assert sent["status"] == "delivered"
    await dave.poll_until(lambda: any(e["event_id"] == sent["event_id"] for e in dave.inbox), within=WAIT)
    assert [e["body"] for e in dave.inbox] == ["streamed reply"]
    assert not dave.rejected  # every event in dave's slot verified against alice's card
    await dave.poll_once()
    assert [e["body"] for e in dave.inbox] == ["streamed reply"]  # polling again from the cursor: nothing twice
    world_tail = (await asyncio.to_thread(world.alice.ok, "tail", "dave", "--offline")).jsonl()
    assert [(e["body"], e["verified"]) for e in world_tail] == [("polled hello", True)]


async def test_reference_v016_style_client_exchanges_sealed_messages(world: World) -> None:
    """erin seals and opens like the reference v0.16 (vector-checked primitives); alice stays readable."""
    erin = PollingPeer("erin", world.relay_b2.url, sealing=True)
    await erin.allocate()
    assert (await erin.dial("alice", world.relay_a.url))["status"] == "dropped"
    await asyncio.to_thread(world.alice.ok, "pending")
    assert (await asyncio.to_thread(world.alice.ok, "accept", "erin")).json()["status"] == "bilateral_accepted"
    await erin.poll_until(lambda: bool(erin.peers["alice"].slot_token), within=WAIT)

    status, answer = await erin.send("alice", "MARKER-erin sealed hello")
    assert status == 201, answer
    await until_async(lambda: once_each(world.alice.home, "erin", [answer["event_id"]]), WAIT, "erin's event")
    [row] = (await asyncio.to_thread(world.alice.ok, "tail", "erin", "--offline")).jsonl()
    assert (row["body"], row["verified"], row["sealed"], row["downgraded"]) == (
        "MARKER-erin sealed hello",
        True,
        True,
        False,
    )
    sent = (await asyncio.to_thread(world.alice.ok, "send", "erin", "MARKER-alice sealed reply")).json()
    assert sent["status"] == "delivered"
    await erin.poll_until(lambda: any(e["event_id"] == sent["event_id"] for e in erin.inbox), within=WAIT)
    [reply] = erin.inbox
    assert (reply["body"], reply["dec"], reply["enc"]) == ("MARKER-alice sealed reply", True, "wire-x25519.v1")
    assert not erin.rejected
    for relay in (world.relay_a, world.relay_b2):  # B2 shares PostgreSQL; A is SQLite: grep its files
        if relay.store_url.startswith("sqlite:///"):
            db = Path(relay.store_url.removeprefix("sqlite:///"))
            stored = b"".join(f.read_bytes() for f in db.parent.glob(db.name + "*"))
            assert b"MARKER-" not in stored


# ------------------------------------------------------------------------------------------------ faults


async def test_relay_restart_mid_conversation(world: World) -> None:
    async with carol_session(world) as carol:
        before = len(messages(world.alice.home, "bob"))
        await asyncio.to_thread(world.relay_a.kill)  # alice's relay dies mid-conversation
        queued = (await asyncio.to_thread(world.bob.ok, "send", "alice", "while A is down")).json()
        assert queued["status"] == "queued"
        assert world.relay_a.url in queued["reason"]
        human = await asyncio.to_thread(world.bob.ok, "send", "alice", "still down", human=True)
        assert "queued for" in human.out
        assert "the daemon delivers it when the relay answers" in human.out
        status = (await asyncio.to_thread(world.bob.ok, "status")).json()
        assert status["outbox"]["peers_with_backlog"] == ["alice"]
        from_carol = await carol("wire_send", peer="alice", body="carol during the outage")
        assert from_carol["status"] == "queued"
        assert from_carol["reason"]

        await asyncio.to_thread(world.relay_a.start)  # same port, same SQLite file
        await until_async(
            lambda: (
                len(messages(world.alice.home, "bob")) == before + 2
                and once_each(world.alice.home, "carol", [from_carol["event_id"]])
            ),
            45,
            "the queued events at alice after the restart",
        )
        assert [e["body"] for e in messages(world.alice.home, "bob")[-2:]] == ["while A is down", "still down"]
        assert once_each(world.alice.home, "bob", [queued["event_id"]])
        drained = (await asyncio.to_thread(world.bob.ok, "status")).json()
        assert drained["outbox"]["peers_with_backlog"] == []

        # relay B loses one of its two processes: carol (on B2) keeps receiving, bob (on B1) gets his later
        await asyncio.to_thread(world.relay_b1.kill)
        to_carol, to_bob = await asyncio.to_thread(
            parallel,
            lambda: world.alice("send", "carol", "B2 still up"),
            lambda: world.alice("send", "bob", "B1 is down"),
        )
        assert to_carol.json()["status"] == "delivered", str(to_carol)
        assert to_bob.json()["status"] == "queued", str(to_bob)
        await until_async(
            lambda: once_each(world.carol_root, "alice", [to_carol.json()["event_id"]]), WAIT, "carol's event"
        )
        await asyncio.to_thread(world.relay_b1.start)
        await until_async(
            lambda: once_each(world.bob.home, "alice", [to_bob.json()["event_id"]]), 45, "bob's event after B1 restart"
        )


async def test_slot_rotation_peers_keep_reaching_us(world: World) -> None:
    assert world.alice.home is not None
    async with carol_session(world) as carol:
        async with await open_home(world.alice.home) as alice:
            rotated = await alice.pairing.rotate_slot()
        data: dict[str, Any] = dict(rotated.to_json())
        assert data["old_slot_id"] != data["new_slot_id"]
        assert sorted(data["announced_to"]) == ["bob", "carol", "dave", "erin"]
        assert data["failed"] == []

        def bob_sees_new_slot() -> bool:
            record = _cli_peer(world, "bob", "alice")
            return record is not None and [e["slot_id"] for e in record["endpoints"]] == [data["new_slot_id"]]

        async def carol_sees_new_slot() -> bool:
            peers = (await carol("wire_peers"))["peers"]
            return any(
                p["handle"] == "alice" and [e["slot_id"] for e in p["endpoints"]] == [data["new_slot_id"]]
                for p in peers
            )

        await asyncio.to_thread(until, bob_sees_new_slot, WAIT, "bob to apply alice's refresh drop", 0.2)
        await until_async(carol_sees_new_slot, WAIT, "carol to apply alice's refresh drop", 0.2)
        from_bob = (await asyncio.to_thread(world.bob.ok, "send", "alice", "to the new slot")).json()
        from_carol = await carol("wire_send", peer="alice", body="carol to the new slot")
        assert from_bob["status"] == from_carol["status"] == "delivered"
        await until_async(
            lambda: (
                once_each(world.alice.home, "bob", [from_bob["event_id"]])
                and once_each(world.alice.home, "carol", [from_carol["event_id"]])
            ),
            WAIT,
            "both events at alice through her new slot",
        )
        own = (await asyncio.to_thread(world.alice.ok, "status")).json()["self_endpoints"]
        assert [e["slot_id"] for e in own] == [data["new_slot_id"]]
