# SPDX-License-Identifier: MIT
"""Agent-cards: build, sign, verify, tamper, profiles, newer schema versions."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wire_protocol as wp

PAUL = wp.SigningKey(b"\x01" * 32)
MALLORY = wp.SigningKey(b"\x09" * 32)


def paul_card() -> wp.AgentCard:
    return wp.build_agent_card(PAUL, "paul")


def test_default_card_shape() -> None:
    card = paul_card()
    assert card.did.startswith("did:wire:paul-")
    assert len(card.did) == len("did:wire:paul-") + 8
    assert card.name == "Paul"
    assert card.capabilities == ["wire/v3.1"]
    assert card.data["policies"] == {"max_message_body_kb": 64}
    assert card.key_id == "paul:34750f98"
    assert card.fingerprint == "34750f98"
    assert card.schema_version == "v3.1"
    for absent in ("registries", "onboard_endpoint", "wire_raw_url_template", "revoked_at", "profile"):
        assert absent not in card.data


def test_card_data_is_copied_out() -> None:
    card = paul_card()
    exported = card.to_json()
    exported["name"] = "changed"
    assert card.name == "Paul"


def test_verify_round_trip() -> None:
    card = paul_card()
    again = wp.verify_card(card.to_json())
    assert (again.did, again.handle, again.public_key) == (card.did, card.handle, card.public_key)


def test_unknown_fields_are_preserved_and_signed() -> None:
    card = wp.build_agent_card(PAUL, "paul", extra={"dh_pubkey": "AAAA", "project": {"x": [1, 2]}})
    data = card.to_json()
    assert wp.verify_card(data).data["project"] == {"x": [1, 2]}
    data["project"] = {"x": [1, 3]}
    with pytest.raises(wp.CardError, match="does not verify"):
        wp.verify_card(data)


def test_v32_card_from_newer_peer_is_accepted() -> None:
    card = wp.build_agent_card(
        PAUL,
        "paul",
        capabilities=("wire/v3.2",),
        extra={"schema_version": "v3.2", "dh_pubkey": "x25519key", "op_did": "did:wire:op:acme", "org_memberships": []},
    )
    verified = wp.verify_card(card.to_json())
    assert verified.schema_version == "v3.2"
    assert verified.data["org_memberships"] == []


def test_first_verify_key_in_sorted_order_is_used() -> None:
    data = paul_card().to_json()
    keys = data["verify_keys"]
    assert isinstance(keys, dict)
    keys["ed25519:zzz:00000000"] = {"key": MALLORY.public_key_b64, "alg": "ed25519", "active": True}
    signed = wp.sign_card(data, PAUL)
    assert signed.key_id == "paul:34750f98"


def test_did_must_match_key() -> None:
    data = paul_card().to_json()
    data["did"] = "did:wire:paul-00000000"
    with pytest.raises(wp.CardError) as info:
        wp.sign_card(data, PAUL)
    assert info.value.code == "card_did_key_mismatch"


def test_legacy_unsuffixed_did_only_without_binding() -> None:
    data = paul_card().to_json()
    data["did"] = "did:wire:paul"
    data.pop("signature")
    message = wp.card_canonical(data)
    data["signature"] = wp.b64encode(PAUL.sign(message))
    with pytest.raises(wp.CardError):
        wp.verify_card(data)
    assert wp.verify_card(data, require_did_binding=False).handle == "paul"


def test_card_claiming_anothers_did_is_rejected() -> None:
    victim = paul_card()
    data = wp.build_agent_card(MALLORY, "paul").to_json()
    data["did"] = victim.did
    data.pop("signature")
    data["signature"] = wp.b64encode(MALLORY.sign(wp.card_canonical(data)))
    with pytest.raises(wp.CardError, match="fingerprint"):
        wp.verify_card(data)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda c: c.pop("signature"), "card_missing_signature"),
        (lambda c: c.update(signature=5), "card_missing_signature"),
        (lambda c: c.pop("verify_keys"), "card_missing_key"),
        (lambda c: c.update(verify_keys={}), "card_missing_key"),
        (lambda c: c.update(verify_keys={"ed25519:x:1": "notanobject"}), "card_malformed"),
        (lambda c: c.update(verify_keys={"ed25519:x:1": {"key": "!!"}}), "card_malformed"),
        (lambda c: c.update(verify_keys={"ed25519:x:1": {"key": wp.b64encode(b"short")}}), "card_malformed"),
        (lambda c: c.update(signature=wp.b64encode(b"x" * 63)), "card_malformed"),
        (lambda c: c.update(signature="not base64!"), "card_malformed"),
        (lambda c: c.update(name="Mallory"), "card_bad_signature"),
        (lambda c: c.pop("did"), "card_bad_signature"),
    ],
)
def test_malformed_cards_are_rejected(mutate: Any, code: str) -> None:
    data = paul_card().to_json()
    mutate(data)
    with pytest.raises(wp.CardError) as info:
        wp.verify_card(data)
    assert info.value.code == code


def test_card_without_did_is_rejected_even_if_signed() -> None:
    data = paul_card().to_json()
    data.pop("did")
    data.pop("signature")
    data["signature"] = wp.b64encode(PAUL.sign(wp.card_canonical(data)))
    with pytest.raises(wp.CardError) as info:
        wp.verify_card(data)
    assert info.value.code == "card_missing_did"


@pytest.mark.parametrize("value", [None, [], "card", 3])
def test_non_object_card(value: object) -> None:
    with pytest.raises(wp.CardError):
        wp.verify_card(value)


def test_signing_refuses_floats() -> None:
    data = paul_card().to_json()
    data["weight"] = 1.5
    with pytest.raises(wp.CardError, match="float"):
        wp.sign_card(data, PAUL)


@settings(max_examples=60)
@given(st.data())
def test_any_single_byte_tamper_of_a_card_is_rejected(data: st.DataObject) -> None:
    card = wp.build_agent_card(PAUL, "paul", profile={"motto": "on the line"})
    encoded = bytearray(wp.compact_json(card.data))
    index = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    replacement = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != encoded[index]))
    encoded[index] = replacement
    try:
        parsed = wp.loads(bytes(encoded))
    except wp.CanonicalizationError:
        return
    if wp.compact_json(parsed) == wp.compact_json(card.data):
        return  # the byte change did not change the JSON value (e.g. whitespace or an equivalent escape)
    with pytest.raises(wp.CardError):
        wp.verify_card(parsed)


def test_profile_fields() -> None:
    card = paul_card()
    card = wp.with_profile_field(card, "motto", "on the line", PAUL)
    card = wp.with_profile_field(card, "vibe", ["calm", "curious"], PAUL)
    card = wp.with_profile_field(card, "handle", "paul@wireup.net", PAUL)
    card = wp.with_profile_field(card, "listed", False, PAUL)
    assert card.profile == {
        "schema_version": "v0.5",
        "motto": "on the line",
        "vibe": ["calm", "curious"],
        "handle": "paul@wireup.net",
        "listed": False,
    }
    card = wp.with_profile_field(card, "motto", None, PAUL)
    assert "motto" not in card.profile
    assert wp.verify_card(card.to_json()).profile == card.profile


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("motto", 42),
        ("vibe", "calm"),
        ("vibe", ["ok", 1]),
        ("listed", "no"),
        ("handle", "not an address"),
        ("now", {"since": "x"}),
        ("nickname", "x"),
    ],
)
def test_profile_field_validation(name: str, value: wp.JSON) -> None:
    with pytest.raises(wp.CardError):
        wp.with_profile_field(paul_card(), name, value, PAUL)


def test_card_is_deep_copied_on_verify() -> None:
    data = paul_card().to_json()
    original = copy.deepcopy(data)
    verified = wp.verify_card(data)
    data["name"] = "x"
    assert verified.data == original


def test_a_card_with_a_non_canonical_base64_signature_is_rejected() -> None:
    """``…Ag==`` and ``…Ah==`` decode to the same bytes; only the canonical spelling is a valid card."""
    card = wp.build_agent_card(PAUL, "paul", profile={"motto": "on the line"})
    data = copy.deepcopy(card.data)
    signature = str(data["signature"])
    assert signature.endswith("==")
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".index(signature[-3])
    twin = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last ^ 1]  # a low bit the decoder drops
    data["signature"] = signature[:-3] + twin + "=="
    with pytest.raises(wp.CardError):
        wp.verify_card(data)
