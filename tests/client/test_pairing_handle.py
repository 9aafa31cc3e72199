# SPDX-License-Identifier: MIT
"""Federation resolution and the handle path (dial → pending → accept/reject) over real relays."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.helpers.agents import address_of, claimed_agent, inbox_lines, make_agent, uniq
from tests.helpers.relay_process import RelayProcess
from wire_client import Endpoint, PairingFailedError, RelayError, RelayStateStore, RelayUnreachable, WireAgent
from wire_protocol import a2a_card_for_claim, sign_event


def _no_token(data: object) -> None:
    text = json.dumps(data)
    assert "slot_token" not in text


async def _both_ways_work(a: WireAgent, b: WireAgent) -> None:
    """A message each way proves both sides hold working tokens."""
    assert (await a.send(b.handle, "ping")).delivered
    assert (await b.send(a.handle, "pong")).delivered
    await a.pull()
    await b.pull()
    assert [e["body"] for e in inbox_lines(b, a.handle) if e["type"] == "claim"][-1:] == ["ping"]
    assert [e["body"] for e in inbox_lines(a, b.handle) if e["type"] == "claim"][-1:] == ["pong"]


# --- resolution ------------------------------------------------------------------------------------


async def test_resolve_wire_native_over_loopback(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    bob = make_agent(tmp_path, "bob")
    async with alice, bob:
        resolved = await bob.pairing.resolve(address_of(alice, shared_relay))
        assert resolved.via == "wire"
        assert resolved.did == alice.did
        assert resolved.relay_url == shared_relay.url  # loopback authority → http://
        assert resolved.slot_id == alice.endpoints()[0].slot_id
        _no_token(resolved.to_json())
        with pytest.raises(PairingFailedError) as missing:
            await bob.pairing.resolve(f"nobody-{alice.handle}@127.0.0.1:{shared_relay.port}")
        assert missing.value.reason == "not_found"


@pytest.fixture
async def fake_directory() -> AsyncIterator[tuple[dict[str, object], int]]:
    """A directory server whose two well-known documents the test controls (None → 404)."""
    docs: dict[str, object] = {"wire": None, "a2a": None}

    async def serve(request: web.Request) -> web.Response:
        key = "wire" if request.path == "/.well-known/wire/agent" else "a2a"
        doc = docs[key]
        if doc is None:
            return web.json_response({"error": "nick not claimed"}, status=404)
        return web.json_response(doc)

    app = web.Application()
    app.router.add_get("/.well-known/wire/agent", serve)
    app.router.add_get("/.well-known/agent-card.json", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield docs, port
    await runner.cleanup()


async def test_resolve_falls_back_to_a2a_only_when_request_one_failed(
    fake_directory: tuple[dict[str, object], int], tmp_path: Path
) -> None:
    docs, port = fake_directory
    alice, bob = make_agent(tmp_path, "alice"), make_agent(tmp_path, "bob")
    card = alice.card.to_json()
    record = {"nick": "alice", "did": alice.did, "card": card, "slot_id": "a" * 32,
              "relay_url": "http://127.0.0.1:9", "claimed_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    docs["a2a"] = a2a_card_for_claim(nick="alice", did=alice.did, card=card, slot_id="a" * 32,
                                     relay_url="http://127.0.0.1:9", claimed_at=None)  # fmt: skip
    async with bob:
        resolved = await bob.pairing.resolve(f"alice@127.0.0.1:{port}")
        assert (resolved.via, resolved.did, resolved.slot_id) == ("a2a", alice.did, "a" * 32)
        # a 2xx whose card does not verify is final: no fallback to the (valid) A2A card
        docs["wire"] = {**record, "card": {**card, "name": "Mallory"}}
        with pytest.raises(PairingFailedError) as bad:
            await bob.pairing.resolve(f"alice@127.0.0.1:{port}")
        assert bad.value.reason == "directory_record_invalid"
        docs["wire"] = record
        assert (await bob.pairing.resolve(f"alice@127.0.0.1:{port}")).via == "wire"


async def test_claim_first_come_first_served(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    impostor = make_agent(tmp_path / "other", alice.handle)
    async with alice, impostor:
        assert (await alice.claim())["status"] == "re-claimed"
        await impostor.bind_relay(shared_relay.url)
        with pytest.raises(RelayError) as taken:
            await impostor.claim()
        assert taken.value.status == 409


# --- the handle path ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dialer", ["first", "second"])
async def test_dial_accept_across_two_relays_both_ways(
    dialer: str, shared_relay: RelayProcess, second_relay: RelayProcess, tmp_path: Path
) -> None:
    one = await claimed_agent(tmp_path, "alice", shared_relay)
    two = await claimed_agent(tmp_path, "bob", second_relay)
    caller, callee, callee_relay = (two, one, shared_relay) if dialer == "first" else (one, two, second_relay)
    async with one, two:
        dialed = await caller.pairing.dial(address_of(callee, callee_relay), "hello")
        assert dialed.status == "drop_sent"
        assert dialed.to_json()["steps"][-1]["status"] == "queued"  # no token until the ack
        _no_token(dialed.to_json())
        await callee.pull()
        [request] = callee.pairing.pending()
        assert (request.peer_handle, request.peer_did) == (caller.handle, caller.did)
        shown = request.to_json()
        assert shown["character"]["nickname"]
        assert shown["received_at"]
        _no_token(shown)
        assert callee.trust.get(caller.handle) is None  # nothing pinned before the operator says so
        accepted = await callee.pairing.accept(caller.handle)
        assert accepted.ack_status == "delivered"
        _no_token(accepted.to_json())
        assert callee.pairing.pending() == []
        await caller.pull()  # the ack brings the token
        assert all(ep.is_ready for ep in caller.relay_state.peer_endpoints(callee.handle))
        assert [r.tier.name for r in caller.peers()] == ["VERIFIED"]
        assert [r.tier.name for r in callee.peers()] == ["VERIFIED"]
        await caller.push()  # the queued "hello"
        await callee.pull()
        assert [e["body"] for e in inbox_lines(callee, caller.handle) if e["type"] == "claim"] == ["hello"]
        assert [e["type"] for e in inbox_lines(callee, caller.handle)].count("pair_drop") == 1  # released once
        await callee.pull()
        assert callee.pairing.pending() == []  # accepted drops never come back
        await _both_ways_work(caller, callee)


async def test_mutual_dial_pairs_without_pending(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    bob = await claimed_agent(tmp_path, "bob", shared_relay)
    async with alice, bob:
        await alice.pairing.dial(address_of(bob, shared_relay))
        await bob.pull()
        dialed = await bob.pairing.dial(address_of(alice, shared_relay))  # bob's operator says yes by dialing
        assert dialed.status == "accepted"
        await alice.pull()
        await _both_ways_work(alice, bob)


async def test_rejected_drop_stays_rejected(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    mallory = await claimed_agent(tmp_path, "mallory", shared_relay)
    async with alice, mallory:
        await mallory.pairing.dial(address_of(alice, shared_relay), "buy my stuff")
        await alice.pull()
        assert [p.peer_handle for p in alice.pairing.pending()] == [mallory.handle]
        rejected = await alice.pairing.reject(mallory.handle)
        assert rejected.to_json() == {"peer": mallory.handle, "rejected": True, "had_pending": True, "notified": True}
        await mallory.pull()
        assert [p.state for p in mallory.peers()] == ["REFUSED"]  # the dialer was told
        assert (await alice.pairing.reject(mallory.handle)).had_pending is False  # idempotent
        alice.home.cursors.unlink()  # full replay of the slot: the same drop is seen again
        await alice.pull()
        assert alice.pairing.pending() == []
        await mallory.pairing.dial(address_of(alice, shared_relay))  # and a fresh drop from that DID
        await alice.pull()
        assert alice.pairing.pending() == []
        assert alice.trust.get(mallory.handle) is None
        assert alice.puller.held.read(mallory.handle) == []  # nothing of theirs is parked either


async def test_forged_ack_changes_nothing(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    bob = await claimed_agent(tmp_path, "bob", shared_relay)
    eve = make_agent(tmp_path, "eve")
    async with alice, bob, eve:
        await bob.pairing.dial(address_of(alice, shared_relay))
        await alice.pull()
        await alice.pairing.accept(bob.handle)
        await bob.pull()
        before = bob.relay_state.peer_endpoints(alice.handle)
        evil = Endpoint(shared_relay.url, "e" * 32, "f" * 64)
        body = {"relay_url": evil.relay_url, "slot_id": evil.slot_id, "slot_token": evil.slot_token}
        base = {"schema_version": "v3.1", "timestamp": "2099-01-01T00:00:00Z", "from": alice.did, "to": bob.did,
                "type": "pair_drop_ack", "kind": 1101, "body": body}  # fmt: skip
        forged_key = sign_event(base, eve.identity.key, alice.did)  # claims alice, signed by eve
        genuine = sign_event(base, alice.identity.key, alice.did)
        tampered = {**genuine, "body": {**body, "slot_id": "d" * 32}}  # signature no longer matches
        bob_slot = bob.endpoints()[0]
        for event in (forged_key, tampered):
            await bob.relay(shared_relay.url).post_event(bob_slot, event)
        report = (await bob.pull())[0]
        assert not report.inboxed
        assert bob.relay_state.peer_endpoints(alice.handle) == before
        await _both_ways_work(alice, bob)


async def test_rotation_refreshes_peers_without_a_new_request(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    bob = await claimed_agent(tmp_path, "bob", shared_relay)
    async with alice, bob:
        await bob.pairing.dial(address_of(alice, shared_relay))
        await alice.pull()
        await alice.pairing.accept(bob.handle)
        await bob.pull()
        rotated = await alice.pairing.rotate_slot()
        assert rotated.announced_to == (bob.handle,)
        assert rotated.new_slot_id != rotated.old_slot_id
        assert [ep.slot_id for ep in alice.endpoints()] == [rotated.new_slot_id]
        _no_token(rotated.to_json())
        # the directory follows, so a stranger dialing alice@ later reaches the slot she reads
        assert rotated.handle_moved
        record = await alice.relay(shared_relay.url).resolve_handle(alice.handle)
        assert record["slot_id"] == rotated.new_slot_id
        await bob.pull()
        assert bob.pairing.pending() == []
        assert [ep.slot_id for ep in bob.relay_state.peer_endpoints(alice.handle)] == [rotated.new_slot_id]
        assert [e["type"] for e in inbox_lines(bob, alice.handle)][-2:] == ["pair_drop", "wire_close"]
        await alice.pull()  # bob's re-ack arrives on the new slot
        await _both_ways_work(alice, bob)
        # a replay of the old coordinates never rolls the peer back
        bob.home.cursors.unlink()
        await bob.pull()
        assert [ep.slot_id for ep in bob.relay_state.peer_endpoints(alice.handle)] == [rotated.new_slot_id]


async def test_concurrent_pairings_with_several_peers(shared_relay: RelayProcess, tmp_path: Path) -> None:
    hub = await claimed_agent(tmp_path, "hub", shared_relay)
    peers = [await claimed_agent(tmp_path, f"p{i}", shared_relay) for i in range(4)]
    try:
        await asyncio.gather(*(p.pairing.dial(address_of(hub, shared_relay)) for p in peers))
        await hub.pull()
        assert sorted(p.peer_handle for p in hub.pairing.pending()) == sorted(p.handle for p in peers)
        await asyncio.gather(*(hub.pairing.accept(p.handle) for p in peers))
        await asyncio.gather(*(p.pull() for p in peers))
        results = await asyncio.gather(*(p.send(hub.handle, f"hi from {p.handle}") for p in peers))
        assert all(r.delivered for r in results)
        await hub.pull()
        for p in peers:
            assert inbox_lines(hub, p.handle)[-1]["body"] == f"hi from {p.handle}"
        back = await asyncio.gather(*(hub.send(p.handle, "back") for p in peers))
        assert all(r.delivered for r in back)
    finally:
        for agent in (hub, *peers):
            await agent.close()


async def test_dialing_on_a_slotless_identity_adds_a_slot(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    newcomer = make_agent(tmp_path, uniq("new"))
    async with alice, newcomer:
        assert newcomer.endpoints() == []
        await newcomer.pairing.dial(address_of(alice, shared_relay))
        assert [ep.relay_url for ep in RelayStateStore(newcomer.home).self_endpoints()] == [shared_relay.url]


async def test_failed_intro_leaves_no_pin(fake_directory: tuple[dict[str, object], int], tmp_path: Path) -> None:
    docs, port = fake_directory
    alice, bob = make_agent(tmp_path, "alice"), make_agent(tmp_path, "bob")
    async with bob:
        bob.relay_state.add_self_endpoint(Endpoint("http://127.0.0.1:9", "b" * 32, "c" * 64))
        docs["wire"] = {"nick": "alice", "did": alice.did, "card": alice.card.to_json(), "slot_id": "a" * 32,
                        "relay_url": None, "claimed_at": None}  # fmt: skip
        # our own relay is unreachable (its deposit-token support cannot be asked) or, past that,
        # the fake directory has no intro route: either way nothing is sent
        with pytest.raises((RelayError, RelayUnreachable)):
            await bob.pairing.dial(f"alice@127.0.0.1:{port}", allow_unproven=True)
        assert bob.trust.get("alice") is None
        assert bob.relay_state.peer_endpoints("alice") == []


async def test_wire_close_alone_is_verified_then_applied(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    bob = await claimed_agent(tmp_path, "bob", shared_relay)
    eve = make_agent(tmp_path, "eve")
    async with alice, bob, eve:
        await bob.pairing.dial(address_of(alice, shared_relay))
        await alice.pull()
        await alice.pairing.accept(bob.handle)
        await bob.pull()
        close = {"reason": "slot_rotated", "new_relay_url": shared_relay.url, "new_slot_id": "9" * 32}
        base = {"schema_version": "v3.1", "timestamp": "2099-01-01T00:00:00Z", "from": alice.did, "to": bob.did,
                "type": "wire_close", "kind": 1201}  # fmt: skip
        forged = sign_event({**base, "body": {**close, "new_slot_id": "6" * 32}}, eve.identity.key, alice.did)
        await bob.relay(shared_relay.url).post_event(bob.endpoints()[0], forged)
        await bob.pull()
        assert [ep.slot_id for ep in bob.relay_state.peer_endpoints(alice.handle)] == [alice.endpoints()[0].slot_id]
        genuine = sign_event({**base, "body": close}, alice.identity.key, alice.did)  # a reference peer: no drop
        await bob.relay(shared_relay.url).post_event(bob.endpoints()[0], genuine)
        await bob.pull()
        [moved] = bob.relay_state.peer_endpoints(alice.handle)
        assert moved.slot_id == "9" * 32
        assert not moved.is_ready  # no token yet: sends queue until the peer's refresh drop
