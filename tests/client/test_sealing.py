# SPDX-License-Identifier: MIT
"""Sealing on the client path: reference v0.16 events (the captured vectors) open through the
receive pipeline exactly as the reference shows them; a home from before sealing publishes its
``dh_pubkey`` and re-introduces itself, after which the peer seals to it (real relay process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.agents import make_agent, pair_manually, raw_inbox_lines
from tests.helpers.relay_process import RelayProcess
from wire_client import Identity, WireAgent, WireHome, open_home
from wire_protocol import SigningKey, display_handle_from_did, open_event, sign_card, verify_card, verify_event

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "x25519-v1.json").read_text())
CASES = {case["name"]: case for case in VECTORS["cases"]}


def _vector_recipient(tmp_path: Path, case: dict[str, Any]) -> WireAgent:
    recipient = case["recipient"]
    handle = display_handle_from_did(recipient["did"])
    home = WireHome.at(tmp_path / "recipient")
    identity, _ = Identity.create(home, handle, key=SigningKey(bytes.fromhex(recipient["ed25519_seed_hex"])))
    assert identity.did == recipient["did"]
    agent = WireAgent(home, identity)
    agent.pin(case["sender"]["agent_card"])
    return agent


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_reference_sealed_event_opens_through_the_pull_pipeline(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    agent = _vector_recipient(tmp_path, case)
    event = json.loads(case["relay_event_json"])
    report = await agent.puller.process([event], None)
    if name == "wrong_to":  # the receive pipeline's `to` check refuses it before opening: recorded, not silent
        assert [r.code for r in report.rejected] == ["not_for_us"]
        assert "not_for_us" in agent.home.rejected_log.read_text()
        return
    assert not report.rejected
    [line] = report.inboxed
    assert line.sealed
    assert line.decryptable
    assert not line.downgraded
    assert line.body == case["tail_view"]["body"]
    # the file keeps the relay's event verbatim (still verifiable) next to the opened body
    [stored] = raw_inbox_lines(agent, line.peer)
    assert {k: v for k, v in stored.items() if k != "opened"} == event
    assert stored["opened"] == {"sealed": True, "body": case["tail_view"]["body"]}
    verify_event(line.signed_event, agent.trust)


@pytest.mark.parametrize("name", ["tampered_ciphertext_resigned", "wrong_to", "wrong_key"])
async def test_a_reference_event_that_cannot_be_opened_is_kept_and_marked(tmp_path: Path, name: str) -> None:
    negative = next(n for n in VECTORS["negative_cases"] if n["name"] == name)
    case = CASES["short_string"]  # the negative cases alter its A -> B event
    assert negative["input"]["opener_seed_hex"] == case["recipient"]["ed25519_seed_hex"]
    agent = _vector_recipient(tmp_path, case)
    event = negative["input"]["event"]
    report = await agent.puller.process([event], None)
    if name == "wrong_to":  # the receive pipeline's `to` check refuses it before opening: recorded, not silent
        assert [r.code for r in report.rejected] == ["not_for_us"]
        assert "not_for_us" in agent.home.rejected_log.read_text()
        return
    assert not report.rejected
    [line] = report.inboxed
    assert line.sealed
    assert not line.decryptable
    assert line.encrypted
    assert line.text is None
    assert line.to_json()["decryptable"] is False
    assert raw_inbox_lines(agent, line.peer)[0]["opened"]["decryptable"] is False


async def test_our_sealed_event_opens_with_the_recipient_key_as_the_reference_does(tmp_path: Path) -> None:
    case = CASES["short_string"]
    sender = case["recipient"]  # we play the reference's recipient and seal back to its sender
    home = WireHome.at(tmp_path / "us")
    identity, _ = Identity.create(
        home, display_handle_from_did(sender["did"]), key=SigningKey(bytes.fromhex(sender["ed25519_seed_hex"]))
    )
    agent = WireAgent(home, identity)
    peer_card = verify_card(case["sender"]["agent_card"])
    agent.pin(peer_card)
    event = agent.sender.build(peer_card.handle, {"reply": "sealed by the python client"})
    assert event["enc"] == "wire-x25519.v1"
    assert event["to"] == peer_card.did
    verified = verify_event(event, agent.trust)
    peer_key = SigningKey(bytes.fromhex(case["sender"]["ed25519_seed_hex"]))
    opened = open_event(verified, own_key=peer_key, own_did=peer_card.did, sender_card=identity.card)
    assert opened.body == {"reply": "sealed by the python client"}


async def test_an_old_home_publishes_its_dh_pubkey_and_peers_start_sealing(
    own_relay: RelayProcess, tmp_path: Path
) -> None:
    alice, bob = make_agent(tmp_path, "alice"), make_agent(tmp_path, "bob")
    for agent in (alice, bob):
        await agent.bind_relay(own_relay.url)
    # alice's card as a release before sealing wrote it: no dh_pubkey; bob pins that card
    old = sign_card({k: v for k, v in alice.card.to_json().items() if k != "dh_pubkey"}, alice.identity.key)
    alice.home.agent_card.write_text(json.dumps(old.to_json()))
    alice.identity.card = old
    pair_manually(alice, bob)
    assert (await bob.send("alice", "before")).delivered
    await alice.pull()
    [before] = raw_inbox_lines(alice, "bob")
    assert "enc" not in before  # bob's pin of alice cannot seal

    async with await open_home(alice.home.root) as upgraded:
        assert "dh_pubkey" in upgraded.card.data  # opening the old home published the key
        assert upgraded.home.reintroduce_marker.exists()
        assert await upgraded.pairing.reintroduce() == ["bob"]
        assert not upgraded.home.reintroduce_marker.exists()
        await bob.pull()
        record = bob.trust.get("alice")
        assert record is not None
        assert record.card is not None
        assert "dh_pubkey" in record.card
        assert (await bob.send("alice", "after")).delivered
        await upgraded.pull()
        lines = upgraded.read_inbox("bob")
        after = next(e for e in lines if e.body == "after")
        assert after.sealed
        assert after.decryptable
    await alice.close()
    await bob.close()
