# SPDX-License-Identifier: MIT
"""Attack 7: bearer secrets leaking through the library and the CLI's JSON (issue 12)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import wire_client
from tests.helpers.hostile_peer import HostilePeer
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import pair_with_victim, unique, whoami
from tests.hostile.runner import CLI


async def test_events_yields_messages_not_handshakes(tmp_path: Path, relay: RelayProcess) -> None:
    """Bob dials alice; alice accepts; bob's ``events()`` yields alice's message, never her ack (it holds a token)."""
    host = relay.url.removeprefix("http://")
    alice_name, bob_name = unique("alice"), unique("bob")
    async with (
        await wire_client.open_home(tmp_path / "alice", handle=alice_name) as alice,
        await wire_client.open_home(tmp_path / "bob", handle=bob_name) as bob,
    ):
        await alice.attach_relay(relay.url)
        await bob.attach_relay(relay.url)
        await bob.pairing.dial(f"{alice_name}@{host}")
        await alice.pull()
        [request] = alice.pairing.pending()
        assert "slot_token" not in repr(request)
        token = str(request.record["peer_slot_token"])
        assert token not in repr(request)
        assert token not in str(request.to_json())
        await alice.pairing.accept(request.peer_did)
        await alice.send(bob_name, "first real message")

        async def first_event() -> wire_client.InboxEvent:
            async for event in bob.events(from_start=True):
                return event
            raise AssertionError("events() ended")

        event = await asyncio.wait_for(first_event(), timeout=20)
        assert event.type not in ("pair_drop", "pair_drop_ack")
        assert event.body == "first real message"


async def test_no_token_in_cli_json(victim: CLI, relay: RelayProcess) -> None:
    """After pairing, no ``--json`` output of the everyday verbs carries a slot token."""
    peer = await HostilePeer(unique("mallory"), relay.url).allocate()
    ack = await pair_with_victim(peer, victim)
    me = whoami(victim)
    status, _ = await peer.post(relay.url, ack["slot_id"], ack["slot_token"], peer.sign(me.did, "claim", 1001, "hi"))
    assert status == 201
    tokens = [ack["slot_token"], peer.slot_token]
    for args in (
        ("pull", "--json"),
        ("pending", "--json"),
        ("peers", "--json"),
        ("status", "--json"),
        ("tail", "--json", "--include-handshake"),
        ("whois", peer.handle, "--json"),
    ):
        result = victim(*args)
        for token in tokens:
            assert token not in result.out, args
            assert token not in result.err, args
