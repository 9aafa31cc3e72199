# SPDX-License-Identifier: MIT
"""Invite URLs: mint, short URL, accept; only a nonce we minted, unexpired, with uses left auto-pins."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.helpers.agents import inbox_lines, make_agent
from tests.helpers.relay_process import RelayProcess
from wire_client import PairingFailedError, WireAgent
from wire_client._pairing.deposits import DeliveryTokens
from wire_protocol import mint_invite, new_invite_nonce


async def _bound(tmp_path: Path, name: str, relay: RelayProcess) -> WireAgent:
    agent = make_agent(tmp_path, name)
    await agent.bind_relay(relay.url)
    return agent


async def test_short_url_invite_pairs_both_ways(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await _bound(tmp_path, "alice", shared_relay), await _bound(tmp_path, "bob", shared_relay)
    async with alice, bob:
        invite = await alice.pairing.mint_invite(share=True)
        shown = invite.to_json()
        assert invite.invite_url.startswith("wire://pair?v=1&inv=")
        assert shown["short_url"].startswith(f"{shared_relay.url}/i/")
        assert shown["ttl_secs"] == 3600
        [nonce_file] = (alice.home.state_dir / "pending-invites").glob("*.json")
        assert json.loads(nonce_file.read_text())["uses_remaining"] == 1
        accepted = await bob.pairing.accept_invite(str(shown["short_url"]))
        assert (accepted.status, accepted.peer_handle) == ("drop_sent", "alice")
        assert "slot_token" not in json.dumps(accepted.to_json())
        await alice.pull()
        assert alice.trust.get("bob") is not None
        assert alice.pairing.pending() == []
        assert (await alice.send("bob", "hi bob")).delivered
        assert (await bob.send("alice", "hi alice")).delivered
        await bob.pull()
        await alice.pull()
        assert inbox_lines(bob, "alice")[-1]["body"] == "hi bob"
        assert inbox_lines(alice, "bob")[-1]["body"] == "hi alice"
        assert json.loads(nonce_file.read_text())["uses_remaining"] == 0
        # the invite carried a deposit token, not alice's slot token; it is filed under bob's DID now
        assert alice.endpoints()[0].slot_token not in invite.invite_url
        assert bob.relay_state.peer_endpoints("alice")[0].slot_token != alice.endpoints()[0].slot_token
        tokens = DeliveryTokens(alice.home, alice.pool)
        assert len(tokens.token_ids(bob.did)) == 1
        assert (len((await alice.revoke_delivery_token(bob.did)).revoked), tokens.token_ids(bob.did)) == (1, [])
        assert not (await bob.send("alice", "after unpairing")).delivered


async def test_replayed_invite_becomes_an_ordinary_request(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await _bound(tmp_path, "alice", shared_relay)
    bob, carol = await _bound(tmp_path, "bob", shared_relay), await _bound(tmp_path, "carol", shared_relay)
    async with alice, bob, carol:
        invite = await alice.pairing.mint_invite(uses=1)
        await bob.pairing.accept_invite(invite.invite_url)
        await alice.pull()
        await carol.pairing.accept_invite(invite.invite_url)  # the same single-use URL again
        await alice.pull()
        assert alice.trust.get("carol") is None  # NOT auto-pinned (fixes reference §7.3)
        assert [p.peer_handle for p in alice.pairing.pending()] == ["carol"]
        assert alice.trust.get("bob") is not None


async def test_unknown_nonce_is_not_an_invite(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, mallory = await _bound(tmp_path, "alice", shared_relay), await _bound(tmp_path, "mallory", shared_relay)
    async with alice, mallory:
        # mallory forges "an invite from alice" she never minted: right slot, made-up nonce
        forged = mint_invite(key=alice.identity.key, card=alice.card, relay_url=shared_relay.url,
                             slot_id=alice.endpoints()[0].slot_id, slot_token=alice.endpoints()[0].slot_token,
                             nonce=new_invite_nonce(), exp=int(time.time()) + 600)  # fmt: skip
        await mallory.pairing.accept_invite(forged)
        await alice.pull()
        assert alice.trust.get("mallory") is None
        assert [p.peer_handle for p in alice.pairing.pending()] == ["mallory"]


async def test_expired_invite_is_refused_on_both_sides(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await _bound(tmp_path, "alice", shared_relay), await _bound(tmp_path, "bob", shared_relay)
    async with alice, bob:
        ep = alice.endpoints()[0]
        stale = mint_invite(key=alice.identity.key, card=alice.card, relay_url=ep.relay_url, slot_id=ep.slot_id,
                            slot_token=ep.slot_token, nonce=new_invite_nonce(), exp=int(time.time()) - 5)  # fmt: skip
        with pytest.raises(PairingFailedError) as expired:
            await bob.pairing.accept_invite(stale)
        assert expired.value.reason == "invite_expired"
        assert "expired" in expired.value.message
        # the issuer side: the nonce expires between the acceptor's send and the issuer's pull
        invite = await alice.pairing.mint_invite(ttl_seconds=600)
        await bob.pairing.accept_invite(invite.invite_url)
        [nonce_file] = (alice.home.state_dir / "pending-invites").glob("*.json")
        record = json.loads(nonce_file.read_text())
        nonce_file.write_text(json.dumps({**record, "exp": int(time.time()) - 1}))
        await alice.pull()
        assert alice.trust.get("bob") is None
        assert alice.pairing.pending() == []
        rejected = (alice.home.state_dir / "pair-rejected.jsonl").read_text()
        assert "invite_expired" in rejected
        await alice.pull()  # and it stays refused (no "unknown nonce" auto-pin on the next pull)
        assert alice.trust.get("bob") is None


async def test_own_and_garbage_invites(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice = await _bound(tmp_path, "alice", shared_relay)
    async with alice:
        invite = await alice.pairing.mint_invite()
        with pytest.raises(PairingFailedError) as own:
            await alice.pairing.accept_invite(invite.invite_url)
        assert own.value.reason == "own_invite"
        with pytest.raises(PairingFailedError) as garbage:
            await alice.pairing.accept_invite("wire://pair?v=1&inv=abc.def")
        assert garbage.value.reason == "invite_invalid"
        with pytest.raises(PairingFailedError) as gone:
            await alice.pairing.accept_invite(f"{shared_relay.url}/i/abcdef")
        assert gone.value.reason == "invite_not_found"


def test_invite_records_are_typed_and_move_only_by_the_table(tmp_path: Path) -> None:
    from wire_client._pairing.invites import InviteState, InviteStore

    store = InviteStore(make_agent(tmp_path, "issuer").home)
    nonce = "ab" * 32
    store.record(nonce, exp=1_000, uses=2)
    assert store.consume(nonce, "did:wire:a-1", now=10) == "ok"
    assert store.consume(nonce, "did:wire:b-2", now=10) == "ok"
    invite = store.get(nonce)
    assert invite is not None
    assert (invite.state(10), invite.accepted_by) == (InviteState.USED_UP, ("did:wire:a-1", "did:wire:b-2"))
    assert store.consume(nonce, "did:wire:c-3", now=10) == "used_up"
    assert invite.state(1_001) is InviteState.EXPIRED
    assert store.consume(nonce, "did:wire:c-3", now=1_001) == "expired"
    assert store.consume("cd" * 32, "did:wire:c-3", now=10) == "unknown"
    with pytest.raises(PairingFailedError):
        invite.accepted("did:wire:c-3", now=10)  # a used-up invite has no move left
