# SPDX-License-Identifier: MIT
"""Pairing hands each peer its own write-only deposit token (issue 13 item 4), over real relays.

The owner's slot token never leaves the home: it is in no event a peer can see on the relay; a
peer's token can post and nothing else; revoking it (unpairing) shuts the peer out with 401; on a
relay without the feature the slot token is handed out as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.helpers.agents import claimed_agent, inbox_lines, pair_by_dial
from tests.helpers.relay_process import RelayProcess
from wire_client import WireAgent
from wire_client._pairing.deposits import DeliveryTokens

pytestmark = pytest.mark.timeout(60)

TIMEOUT = aiohttp.ClientTimeout(total=10)


async def _slot_events(agent: WireAgent) -> list[str]:
    """Every event in the agent's own slots, as text (the owner lists with its own token)."""
    texts: list[str] = []
    for endpoint in agent.endpoints():
        texts.extend(json.dumps(event) for event in await agent.relay(endpoint.relay_url).list_events(endpoint))
    return texts


async def _status(method: str, url: str, token: str, **kw: object) -> int:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kw) as resp,  # type: ignore[arg-type]
    ):
        return resp.status


async def test_pairing_hands_out_deposit_tokens_and_unpairing_revokes(
    shared_relay: RelayProcess, tmp_path: Path
) -> None:
    alice = await claimed_agent(tmp_path, "alice", shared_relay)
    bob = await claimed_agent(tmp_path, "bob", shared_relay)
    async with alice, bob:
        await pair_by_dial(alice, bob, shared_relay)
        alice_owner, bob_owner = alice.endpoints()[0], bob.endpoints()[0]
        bob_holds = bob.relay_state.peer_endpoints(alice.handle)[0]  # what bob uses to post to alice
        alice_holds = alice.relay_state.peer_endpoints(bob.handle)[0]
        assert (bob_holds.slot_id, alice_holds.slot_id) == (alice_owner.slot_id, bob_owner.slot_id)
        assert bob_holds.slot_token not in ("", alice_owner.slot_token)
        assert alice_holds.slot_token not in ("", bob_owner.slot_token)
        # neither owner token is in any event either side can see on the relay
        everything = "\n".join([*await _slot_events(alice), *await _slot_events(bob)])
        assert alice_owner.slot_token not in everything
        assert bob_owner.slot_token not in everything
        # the deposit token posts (messages flow) but cannot read, stream, see state or acknowledge
        assert (await bob.send(alice.handle, "hello")).delivered
        await alice.pull()
        assert [e["body"] for e in inbox_lines(alice, bob.handle) if e["type"] == "claim"] == ["hello"]
        base = shared_relay.url
        slot = alice_owner.slot_id
        assert await _status("GET", f"{base}/v1/events/{slot}", bob_holds.slot_token) == 403
        assert await _status("GET", f"{base}/v1/events/{slot}/stream", bob_holds.slot_token) == 403
        assert await _status("GET", f"{base}/v1/slot/{slot}/state", bob_holds.slot_token) == 403
        ack = {"json": {"through": "x"}}
        assert await _status("POST", f"{base}/v1/slot/{slot}/ack", bob_holds.slot_token, **ack) == 403
        # a re-sent ack reuses bob's token rather than minting another
        tokens = DeliveryTokens(alice.home, alice.pool)
        assert len(tokens.token_ids(bob.did)) == 1
        assert alice.home.deposit_tokens.stat().st_mode & 0o077 == 0
        # unpairing: alice revokes what bob holds; bob's posts now get 401
        revoked = await alice.revoke_delivery_token(bob.did)
        assert (len(revoked.revoked), revoked.failed) == (1, ())
        assert tokens.token_ids(bob.did) == []
        post = {"json": {"event": {"event_id": "e" * 64, "type": "claim", "kind": 1000, "body": "late"}}}
        assert await _status("POST", f"{base}/v1/events/{slot}", bob_holds.slot_token, **post) == 401
        assert not (await bob.send(alice.handle, "after unpairing")).delivered
        # alice still posts to bob with her own token for bob (revocation is per peer and per direction)
        assert (await alice.send(bob.handle, "still here")).delivered


async def test_reference_relay_without_the_feature_gets_the_slot_token(tmp_path: Path) -> None:
    """An own relay that does not advertise ``deposit-tokens`` (as the reference): unchanged behaviour."""
    with RelayProcess(tmp_path / "relay", extra_args=["--log-level", "warning"]) as relay:
        alice = await claimed_agent(tmp_path, "alice", relay)
        async with alice:
            info = await alice.relay(relay.url).info()
            reference_like = type(info)(features=info.features - {"deposit-tokens"}, version=info.version, raw=info.raw)
            alice.relay(relay.url)._info = reference_like
            own = alice.endpoints()
            shown = await DeliveryTokens(alice.home, alice.pool).for_peer(own, "did:wire:someone-abcd1234")
            assert [ep.slot_token for ep in shown] == [ep.slot_token for ep in own]
            assert not alice.home.deposit_tokens.exists()
