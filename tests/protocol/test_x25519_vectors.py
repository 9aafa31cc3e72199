# SPDX-License-Identifier: MIT
"""Replay tests/vectors/x25519-v1.json: events produced by the reference v0.16 binary (wire-x25519.v1).

Every positive case is opened as its recipient would open it and re-sealed with the reference's nonce,
which must give back the stored event byte for byte; every negative case is rejected, and for the
right reason. The file is a copy of ../shared/vectors/x25519-v1.json (check_x25519_v1.py there
re-derives it independently), kept here so a fresh clone is self-contained.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

import wire_protocol as wp
from wire_protocol import _seal, _sealed

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "x25519-v1.json").read_text(encoding="utf-8")
)
CASES = VECTORS["cases"]
NEGATIVE = VECTORS["negative_cases"]
OBSERVATIONS = VECTORS["observations"]
SIGNING_MEMBERS = ("event_id", "public_key_id", "signature")


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


def _key(party: dict[str, Any]) -> wp.SigningKey:
    return wp.SigningKey(bytes.fromhex(party["ed25519_seed_hex"]))


def _card(party: dict[str, Any]) -> wp.AgentCard:
    assert json.loads(party["agent_card_file"]) == party["agent_card"]
    return wp.verify_card(party["agent_card"])


# the sender of every negative case is A, the sender of cases[short_string]
SENDER_A = CASES[0]["sender"]
RECIPIENT_B = CASES[0]["recipient"]


def test_vector_file_is_the_reference_capture() -> None:
    assert VECTORS["scheme"] == wp.SEALED_ENCODING == "wire-x25519.v1"
    assert VECTORS["reference"]["head"] == "wire 0.16.0"
    assert len(CASES) >= 5
    assert {c["name"] for c in NEGATIVE} == {
        "tampered_ciphertext",
        "tampered_ciphertext_resigned",
        "wrong_to",
        "wrong_key",
    }


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_keys_and_dh_pubkey(case: dict[str, Any]) -> None:
    derived = case["derived"]
    for role in ("sender", "recipient"):
        party = case[role]
        key, card = _key(party), _card(case[role])
        assert _seal.x25519_scalar(key.seed).hex() == derived[f"{role}_x25519_scalar_hex"]
        assert _seal.dh_public_key(key.seed).hex() == derived[f"{role}_x25519_pub_hex"]
        assert _seal.dh_public_from_ed25519(key.public_key).hex() == derived[f"{role}_x25519_pub_hex"]
        assert wp.own_dh_pubkey(key) == card.dh_pubkey == party["agent_card"]["dh_pubkey"]
        assert wp.card_dh_public(card) == bytes.fromhex(derived[f"{role}_x25519_pub_hex"])


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_conversation_key_is_the_same_both_ways(case: dict[str, Any]) -> None:
    derived = case["derived"]
    sender, recipient = _key(case["sender"]), _key(case["recipient"])
    forward = _seal.conversation_key(sender.seed, bytes.fromhex(derived["recipient_x25519_pub_hex"]))
    backward = _seal.conversation_key(recipient.seed, bytes.fromhex(derived["sender_x25519_pub_hex"]))
    assert forward.hex() == backward.hex() == derived["conversation_key_hex"]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_message_keys_info_and_padding(case: dict[str, Any]) -> None:
    derived = case["derived"]
    event = case["relay_event"]
    nonce = bytes.fromhex(derived["nonce_hex"])
    assert _seal.context_info(nonce, event["from"], event["to"]).hex() == derived["info_hex"]
    keys = _seal.message_keys(bytes.fromhex(derived["conversation_key_hex"]), nonce, event["from"], event["to"])
    assert (keys.chacha_key + keys.chacha_nonce + keys.hmac_key).hex() == derived["okm_hex"]
    assert keys.chacha_key.hex() == derived["chacha_key_hex"]
    assert keys.chacha_nonce.hex() == derived["chacha_nonce_hex"]
    assert keys.hmac_key.hex() == derived["hmac_key_hex"]
    plaintext = derived["plaintext_json"].encode("utf-8")
    assert len(plaintext) == derived["plaintext_len"]
    assert _seal.padded_length(len(plaintext)) == derived["padded_len"]
    if "padded_hex" in derived:
        assert _seal.pad(plaintext).hex() == derived["padded_hex"]
    raw = base64.b64decode(event["body"]["ct"])
    assert len(raw) == derived["payload_raw_len"]
    assert raw[-32:].hex() == derived["mac_hex"]
    if "ciphertext_hex" in derived:
        assert raw[33:-32].hex() == derived["ciphertext_hex"]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_recipient_opens_the_reference_event(case: dict[str, Any]) -> None:
    """verify → open, as our receive path does; the body equals what the reference showed."""
    sender_card = _card(case["sender"])
    recipient, recipient_card = _key(case["recipient"]), _card(case["recipient"])
    event = json.loads(case["relay_event_json"])
    verified = wp.verify_event(event, wp.CardTrust([sender_card]))
    opened = wp.open_event(verified, own_key=recipient, own_did=recipient_card.did, sender_card=sender_card)
    assert opened.sealed is True
    assert opened.downgraded is False
    assert opened.body == case["tail_view"]["body"] == case["sent_body"]
    assert case["tail_view"]["dec"] is True


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_sealing_with_the_reference_nonce_reproduces_the_stored_event(case: dict[str, Any]) -> None:
    """Our send path (seal_event → sign_event) rebuilds the relay's stored event byte for byte."""
    sender, sender_card = _key(case["sender"]), _card(case["sender"])
    recipient_card = _card(case["recipient"])
    stored = case["relay_event"]
    unsigned = {k: v for k, v in stored.items() if k not in (*SIGNING_MEMBERS, "enc", "body")}
    unsigned["body"] = copy.deepcopy(case["sent_body"])
    nonce = bytes.fromhex(case["derived"]["nonce_hex"])
    sealed = wp.seal_event(unsigned, own_key=sender, peer_card=recipient_card, random_bytes=lambda n: nonce[:n])
    assert sealed["body"] == stored["body"]
    signed = wp.sign_event(sealed, sender, sender_card.did)
    assert wp.compact_json(signed).decode("utf-8") == case["relay_event_json"]


# --------------------------------------------------------------------------- negative cases

#: what our event-level open raises for each negative case once the event has verified. The
#: reference's answer is "mac" for all of them; wrong_to stops earlier here because we check `to`
#: against our own DID before any cryptography (the payload-level test shows the MAC fails too).
EVENT_LEVEL_ERROR: dict[str, type[wp.SealError]] = {
    "tampered_ciphertext_resigned": wp.SealedMacError,
    "wrong_to": wp.SealedRecipientError,
    "wrong_key": wp.SealedMacError,
}


@pytest.mark.parametrize("negative", NEGATIVE, ids=_ids(NEGATIVE))
def test_negative_case_fails_the_mac_at_payload_level(negative: dict[str, Any]) -> None:
    given, expected = negative["input"], negative["expected"]
    assert expected == {**expected, "outcome": "reject", "open_error": "mac"}
    event = given["event"]
    conv_key = _seal.conversation_key(
        bytes.fromhex(given["opener_seed_hex"]), base64.b64decode(given["sender_dh_pubkey_b64"])
    )
    with pytest.raises(wp.SealedMacError):
        _seal.open_payload(conv_key, event["body"]["ct"], event["from"], event["to"])


@pytest.mark.parametrize("negative", NEGATIVE, ids=_ids(NEGATIVE))
def test_negative_case_is_rejected_for_the_right_reason(negative: dict[str, Any]) -> None:
    given, expected = negative["input"], negative["expected"]
    sender_card = _card(SENDER_A)
    assert given["sender_ed25519_pub_b64"] == sender_card.data["verify_keys"][f"ed25519:{sender_card.key_id}"]["key"]
    opener = wp.SigningKey(bytes.fromhex(given["opener_seed_hex"]))
    opener_did = _card(RECIPIENT_B).did
    assert opener.public_key == _key(RECIPIENT_B).public_key
    trust = wp.CardTrust([sender_card])
    if not expected["event_signature_valid"]:
        with pytest.raises(wp.VerificationError) as caught:
            wp.verify_event(given["event"], trust)
        assert caught.value.code == "bad_signature"
        return
    verified = wp.verify_event(given["event"], trust)
    with pytest.raises(EVENT_LEVEL_ERROR[negative["name"]]):
        wp.open_event(verified, own_key=opener, own_did=opener_did, sender_card=sender_card)


@pytest.mark.parametrize(
    "negative", [n for n in NEGATIVE if "control" in n], ids=_ids([n for n in NEGATIVE if "control" in n])
)
def test_negative_control_opens_under_the_conditions_it_was_sealed_for(negative: dict[str, Any]) -> None:
    control = negative["control"]
    event = control["event"]
    conv_key = _seal.conversation_key(
        bytes.fromhex(control["opener_seed_hex"]), base64.b64decode(control["sender_dh_pubkey_b64"])
    )
    plaintext = _seal.open_payload(conv_key, event["body"]["ct"], event["from"], event["to"])
    assert wp.loads(plaintext) == control["expected_body"]


def test_wrong_to_is_refused_before_any_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    negative = next(n for n in NEGATIVE if n["name"] == "wrong_to")
    sender_card = _card(SENDER_A)
    verified = wp.verify_event(negative["input"]["event"], wp.CardTrust([sender_card]))

    def no_crypto(*_: object) -> bytes:
        raise AssertionError("conversation key derived for an event addressed to somebody else")

    monkeypatch.setattr(_sealed, "conversation_key", no_crypto)
    with pytest.raises(wp.SealedRecipientError) as caught:
        wp.open_event(verified, own_key=_key(RECIPIENT_B), own_did=_card(RECIPIENT_B).did, sender_card=sender_card)
    assert caught.value.code == "sealed_wrong_recipient"
    assert "did:wire:woodland-cinder'" in caught.value.message


# --------------------------------------------------------------------------- observations and limits


def _observation(name: str) -> dict[str, Any]:
    return next(o for o in OBSERVATIONS if o["name"] == name)


LEGACY_D = _observation("head_to_v093_plaintext")["legacy_card"]  # a v0.9.3 party: seed and card
LEGACY_CARD = _card(LEGACY_D)
#: observation → (sender, recipient, whether the sender's card has a dh_pubkey)
PLAINTEXT_RUNS = {
    "plaintext_to_dh_capable_peer": (SENDER_A, RECIPIENT_B, True),
    "head_to_v093_plaintext": (SENDER_A, LEGACY_D, True),
    "v093_to_head_plaintext": (LEGACY_D, SENDER_A, False),
}


@pytest.mark.parametrize("name", sorted(PLAINTEXT_RUNS))
def test_plaintext_is_accepted_and_flagged_when_the_sender_could_seal(name: str) -> None:
    observation = _observation(name)
    sender, recipient, could_seal = PLAINTEXT_RUNS[name]
    sender_card = _card(sender)
    assert (sender_card.dh_pubkey is not None) is could_seal
    event = json.loads(observation["relay_event_json"])
    verified = wp.verify_event(event, wp.CardTrust([sender_card]))
    assert not wp.is_sealed(event)
    opened = wp.open_event(verified, own_key=_key(recipient), own_did=_card(recipient).did, sender_card=sender_card)
    assert opened.body == observation["sent_body"] == observation["recipient_view"]["body"]
    assert opened.sealed is False
    assert opened.downgraded is could_seal


def test_legacy_card_has_no_dh_pubkey_so_we_would_send_in_the_clear() -> None:
    assert LEGACY_CARD.dh_pubkey is None
    assert wp.card_dh_public(LEGACY_CARD) is None
    with pytest.raises(wp.SealingKeyError):
        wp.seal_body("x", own_key=_key(SENDER_A), peer_card=LEGACY_CARD, from_did="a", to=LEGACY_CARD.did)


def test_sealed_to_legacy_opens_with_the_key_derived_from_its_seed() -> None:
    observation = _observation("sealed_to_v093")
    sender_card = _card(SENDER_A)
    event = json.loads(observation["relay_event_json"])
    verified = wp.verify_event(event, wp.CardTrust([sender_card]))
    legacy = wp.SigningKey(bytes.fromhex(observation["recipient_seed_hex"]))
    opened = wp.open_event(verified, own_key=legacy, own_did=LEGACY_CARD.did, sender_card=sender_card)
    assert opened.body == observation["sent_body"]
    assert observation["sender_dh_pubkey_b64"] == sender_card.dh_pubkey


def test_over_the_plaintext_limit_is_refused_before_anything_is_signed() -> None:
    limit = VECTORS["limits"][0]
    assert limit["plaintext_len"] == wp.MAX_SEALED_PLAINTEXT_BYTES + 1
    assert limit["events_posted"] == 0
    case = CASES[0]
    sender, sender_card, recipient_card = _key(case["sender"]), _card(case["sender"]), _card(case["recipient"])
    body = "x" * (limit["plaintext_len"] - 2)  # its JSON text has the two quotes
    unsigned = wp.build_event(
        from_did=sender_card.did,
        to=recipient_card.did,
        type="claim",
        kind=1001,
        body=body,
        timestamp=wp.parse_timestamp(case["relay_event"]["timestamp"]),
    )
    with pytest.raises(wp.SealTooLargeError) as caught:
        wp.seal_event(unsigned, own_key=sender, peer_card=recipient_card)
    assert caught.value.code == "sealed_body_too_large"
    assert "65,536" in caught.value.message
    assert "nothing was sent" in caught.value.message
    unsigned["body"] = body[:-1]
    assert len(wp.seal_event(unsigned, own_key=sender, peer_card=recipient_card)["body"]["ct"]) == 87_472
