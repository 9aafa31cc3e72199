# SPDX-License-Identifier: MIT
"""Liveness probes (kind 100, body {"t": "probe"|"probe_ack", "nonce"}): build, recognise, answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import wire_protocol as wp

T0 = datetime(2026, 12, 2, tzinfo=UTC)
ALICE = wp.SigningKey(bytes(range(32)))
BOB = wp.SigningKey(bytes(range(32, 64)))
ALICE_CARD = wp.build_agent_card(ALICE, "alice")
BOB_CARD = wp.build_agent_card(BOB, "bob")


def test_probe_round_trip() -> None:
    nonce = wp.new_probe_nonce(lambda n: bytes(range(n)))
    assert nonce == bytes(range(16)).hex()
    probe = wp.sign_event(
        wp.build_probe(from_did=ALICE_CARD.did, to=BOB_CARD.did, nonce=nonce, timestamp=T0), ALICE, ALICE_CARD.did
    )
    assert (probe["kind"], probe["type"], probe["body"]) == (100, "heartbeat", {"t": "probe", "nonce": nonce})
    assert "enc" not in probe  # probes are never sealed
    seen = wp.parse_probe(wp.verify_event(probe, wp.CardTrust([ALICE_CARD])))
    assert seen == wp.Probe(step=wp.ProbeStep.PROBE, nonce=nonce, sender_did=ALICE_CARD.did)

    answer = wp.sign_event(wp.build_probe_answer(seen, from_did=BOB_CARD.did, timestamp=T0), BOB, BOB_CARD.did)
    assert answer["to"] == ALICE_CARD.did
    assert answer["body"] == {"t": "probe_ack", "nonce": nonce}
    back = wp.parse_probe(wp.verify_event(answer, wp.CardTrust([BOB_CARD])))
    assert back == wp.Probe(step=wp.ProbeStep.ANSWER, nonce=nonce, sender_did=BOB_CARD.did)
    with pytest.raises(wp.EventError):
        wp.build_probe_answer(back, from_did=ALICE_CARD.did, timestamp=T0)  # never answer an answer


BASE = {"from": "did:wire:alice-00000000", "to": "did:wire:bob", "type": "heartbeat", "kind": 100}


@pytest.mark.parametrize(
    "event",
    [
        {**BASE, "kind": 1001, "body": {"t": "probe", "nonce": "n"}},
        {**BASE, "kind": True, "body": {"t": "probe", "nonce": "n"}},
        {**BASE, "kind": 100.0, "body": {"t": "probe", "nonce": "n"}},
        {**BASE, "body": "probe"},
        {**BASE, "body": {"t": "ping", "nonce": "n"}},
        {**BASE, "body": {"t": "probe"}},
        {**BASE, "body": {"t": "probe", "nonce": 5}},
        {**BASE, "body": {"t": "probe", "nonce": ""}},
        {**BASE, "body": {"t": "probe", "nonce": "x" * (wp.MAX_PROBE_NONCE_CHARS + 1)}},
        {**BASE, "body": {"t": "probe", "nonce": "line\nbreak"}},
        {**BASE, "body": {"t": "probe", "nonce": "n"}, "enc": "wire-x25519.v1"},
        {**BASE, "from": None, "body": {"t": "probe", "nonce": "n"}},
    ],
    ids=["other-kind", "bool-kind", "float-kind", "string-body", "unknown-step", "no-nonce", "number-nonce",
         "empty-nonce", "long-nonce", "control-in-nonce", "sealed", "no-from"],
)  # fmt: skip
def test_anything_else_is_not_a_probe(event: dict[str, object]) -> None:
    assert wp.parse_probe(event) is None


def test_other_type_string_with_the_probe_body_still_counts() -> None:
    event = {**BASE, "type": "probe", "body": {"t": "probe", "nonce": "abc"}}
    assert wp.parse_probe(event) == wp.Probe(step=wp.ProbeStep.PROBE, nonce="abc", sender_did=BASE["from"])


def test_bad_nonce_is_refused_when_building() -> None:
    with pytest.raises(wp.EventError):
        wp.build_probe(from_did=ALICE_CARD.did, to=BOB_CARD.did, nonce="", timestamp=T0)
