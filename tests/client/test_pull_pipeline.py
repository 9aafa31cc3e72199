# SPDX-License-Identifier: MIT
"""The receive pipeline without a relay: verification, once-only inbox, blocking rules, held events."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers.agents import fake_endpoint, make_agent
from wire_client import (
    CursorStore,
    PairingContext,
    PairingDecision,
    Puller,
    WireAgent,
)
from wire_protocol import JSONObject, SigningKey, build_agent_card, sign_event


def _agents(tmp_path: Path) -> tuple[WireAgent, WireAgent]:
    alice, bob = make_agent(tmp_path, "alice"), make_agent(tmp_path, "bob")
    alice.relay_state.add_self_endpoint(fake_endpoint("1" * 32))
    bob.relay_state.add_self_endpoint(fake_endpoint("2" * 32))
    return alice, bob


async def test_verified_event_is_inboxed_once(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    alice.pin(bob.card)
    event = bob.sender.build("alice", "hello")
    endpoint = alice.endpoints()[0]
    report = await alice.puller.process([event, event], endpoint)
    assert [e.event_id for e in report.inboxed] == [event["event_id"]]
    assert report.duplicates == 1
    again = await alice.puller.process([event], endpoint)
    assert again.inboxed == []
    assert again.duplicates == 1
    lines = alice.home.inbox_path("bob").read_text().splitlines()
    assert len(lines) == 1
    # bob has not pinned alice, so his body is clear although alice's pin of bob could seal: flagged
    assert json.loads(lines[0]) == {**event, "opened": {"sealed": False, "downgraded": True}}
    assert alice.read_inbox("bob")[0].downgraded
    assert CursorStore(alice.home).get(endpoint) == event["event_id"]
    assert alice.read_inbox("bob")[0].text == "hello"


async def test_tampered_and_forged_events_are_rejected(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    alice.pin(bob.card)
    tampered = bob.sender.build("alice", "pay 10")
    tampered["body"] = "pay 1000"
    forged = sign_event(  # bob's DID, somebody else's key
        {k: v for k, v in bob.sender.build("alice", "x").items() if k not in ("event_id", "signature")},
        SigningKey.generate(),
        bob.did,
    )
    bad_sig = bob.sender.build("alice", "y")
    bad_sig["signature"] = forged["signature"]
    report = await alice.puller.process([tampered, forged, bad_sig], alice.endpoints()[0])
    assert report.inboxed == []
    codes = {r.code for r in report.rejected}
    assert "event_id_mismatch" in codes
    assert "bad_signature" in codes
    assert not alice.home.inbox_path("bob").exists()
    assert report.cursor == bad_sig["event_id"]  # terminal failures do not block
    # unknown key → held (transient), never inboxed while the key is unknown
    assert report.held == [forged["event_id"]]
    assert alice.puller.release_held("bob") == []
    assert alice.home.rejected_log.exists()


async def test_unknown_sender_is_held_then_released_on_pin(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    first, second = bob.sender.build("alice", "one"), bob.sender.build("alice", "two")
    endpoint = alice.endpoints()[0]
    report = await alice.puller.process([first, second], endpoint)
    assert report.held == [first["event_id"], second["event_id"]]
    assert CursorStore(alice.home).get(endpoint) == second["event_id"]  # §7.6: cursor not stuck
    assert not alice.home.inbox_path("bob").exists()
    alice.pin(bob.card)  # releases
    assert [e.text for e in alice.read_inbox("bob")] == ["one", "two"]
    assert not alice.home.held_path("bob").exists()


async def test_held_released_when_another_process_pins(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    await alice.puller.process([bob.sender.build("alice", "later")], alice.endpoints()[0])
    assert alice.puller.release_if_trust_changed() == []
    alice.trust.pin_card(bob.card)  # as the CLI would, without telling the puller
    released = alice.puller.release_if_trust_changed()
    assert [e.text for e in released] == ["later"]


async def test_unknown_kind_and_schema_major_block_the_cursor(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    alice.pin(bob.card)
    endpoint = alice.endpoints()[0]
    ok = bob.sender.build("alice", "ok")
    unknown_kind = bob.sender.build("alice", "future", kind=4242)
    future_schema = sign_event({**bob.sender.build("alice", "v4"), "schema_version": "v4.0"}, bob.identity.key, bob.did)
    after = bob.sender.build("alice", "after")
    report = await alice.puller.process([ok, unknown_kind, future_schema, after], endpoint)
    assert report.blocked
    assert {r.code for r in report.rejected if r.blocking} == {"unknown_kind", "schema_mismatch"}
    assert CursorStore(alice.home).get(endpoint) == ok["event_id"]  # contiguous prefix only
    assert [e.text for e in alice.read_inbox("bob")] == ["ok", "after"]  # later events still inboxed


async def test_encrypted_bodies_are_kept_and_marked(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    alice.pin(bob.card)
    unsigned = {k: v for k, v in bob.sender.build("alice", None).items() if k not in ("event_id", "signature")}
    sealed = sign_event({**unsigned, "enc": "wire-x25519.v1", "body": {"ct": "AAAA"}}, bob.identity.key, bob.did)
    report = await alice.puller.process([sealed], alice.endpoints()[0])
    [event] = report.inboxed
    assert event.encrypted
    assert event.text is None
    assert event.to_json()["encrypted"] is True
    assert alice.read_inbox("bob")[0].encrypted


def _pair_drop(bob: WireAgent, alice: WireAgent) -> JSONObject:
    endpoint = bob.endpoints()[0]
    body: JSONObject = {
        "card": bob.card.to_json(),
        "relay_url": endpoint.relay_url,
        "slot_id": endpoint.slot_id,
        "slot_token": endpoint.slot_token,
        "endpoints": [endpoint.to_json()],
    }
    built = bob.sender.build("alice", body, type="pair_drop", kind=1100)
    unsigned = {k: v for k, v in built.items() if k not in ("event_id", "signature", "public_key_id")}
    unsigned["to"] = alice.did  # a pair_drop is addressed to the full DID
    return sign_event(unsigned, bob.identity.key, bob.did)


async def test_pair_drop_from_stranger_becomes_pending_inbound(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    drop = _pair_drop(bob, alice)
    endpoint = alice.endpoints()[0]
    report = await alice.puller.process([drop], endpoint)
    record = json.loads(alice.home.pending_inbound_path(bob.did.removeprefix("did:wire:")).read_text())
    assert set(record) == {
        "peer_handle", "peer_did", "peer_card", "peer_relay_url", "peer_slot_id", "peer_slot_token",
        "peer_endpoints", "loopback_ok", "event_id", "event_timestamp", "received_at",
    }  # fmt: skip
    assert record["peer_did"] == bob.did
    assert record["event_id"] == drop["event_id"]
    assert alice.trust.get("bob") is None  # never pinned
    assert report.held == [drop["event_id"]]  # parked, cursor moves on
    assert CursorStore(alice.home).get(endpoint) == drop["event_id"]
    assert not any(alice.home.outbox_dir.iterdir())  # never acked


async def test_pair_drop_ignored_when_policy_closed(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    alice.home.policy.write_text('{"accept_unknown_pair_drops": false}')
    await alice.puller.process([_pair_drop(bob, alice)], alice.endpoints()[0])
    assert not alice.home.pending_inbound_dir.exists() or not any(alice.home.pending_inbound_dir.iterdir())


async def test_custom_pairing_handler_can_consume(tmp_path: Path) -> None:
    alice, bob = _agents(tmp_path)
    seen: list[str] = []

    class Consume:
        async def handle_pairing_event(self, event: JSONObject, context: PairingContext) -> PairingDecision:
            seen.append(str(event["type"]))
            assert context.identity.did == alice.did
            return PairingDecision.CONSUMED

    puller = Puller(alice.home, alice.identity, alice.pool, pairing_handler=Consume())
    built = bob.sender.build("alice", {"reason": "rotation"}, type="wire_close", kind=1201)
    unsigned = {k: v for k, v in built.items() if k not in ("event_id", "signature", "public_key_id")}
    close = sign_event({**unsigned, "to": alice.did}, bob.identity.key, bob.did)  # addressed to alice's full DID
    report = await puller.process([_pair_drop(bob, alice), close], alice.endpoints()[0])
    assert seen == ["pair_drop", "wire_close"]
    assert report.consumed == 2
    assert not report.held
    assert not report.inboxed


async def test_held_queue_is_bounded(tmp_path: Path) -> None:
    alice, _ = _agents(tmp_path)
    spammer = SigningKey.generate()
    card = build_agent_card(spammer, "spam")
    events = [
        sign_event(
            {"timestamp": "2026-01-01T00:00:00Z", "from": card.did, "to": "did:wire:alice", "type": "claim",
             "kind": 1001, "body": i},
            spammer,
            card.did,
        )
        for i in range(300)
    ]  # fmt: skip
    report = await alice.puller.process(events, alice.endpoints()[0])
    assert len(report.held) == 256
    assert sum(r.code == "held_limit" for r in report.rejected) == 44
