# SPDX-License-Identifier: MIT
"""The claim proof (issue 18 item 2): built by the key's owner, checked field by field."""

from __future__ import annotations

import pytest

from wire_protocol import (
    ClaimProofError,
    SigningKey,
    build_claim_proof,
    claim_proof_origin,
    verify_claim_proof,
)

KEY = SigningKey(bytes([5]) * 32)
OTHER = SigningKey(bytes([6]) * 32)
SLOT = "ab" * 16
NONCE = "cd" * 16
NOW = 1_800_000_000


def proof(**overrides: object) -> dict[str, object]:
    built = build_claim_proof(
        KEY, nick="alice", slot_id=SLOT, relay_url="https://Relay.Example:443/", now=NOW, nonce=NONCE
    )
    return {**built, **overrides}


def check(value: object, **overrides: object) -> None:
    args: dict[str, object] = {
        "public_key": KEY.public_key,
        "nick": "alice",
        "slot_id": SLOT,
        "relay_url": "https://relay.example",
        "now": NOW + 10,
    }
    args.update(overrides)
    verify_claim_proof(value, **args)  # type: ignore[arg-type]


def test_round_trip_and_origin_normalised() -> None:
    value = proof()
    assert value["relay"] == "https://relay.example"
    check(value)
    assert claim_proof_origin("HTTP://[::1]:8770/x") == "http://[::1]:8770"
    assert claim_proof_origin("http://h:80") == "http://h"


@pytest.mark.parametrize(
    ("value", "overrides", "reason"),
    [
        (proof(), {"nick": "bob"}, "another nick"),
        (proof(), {"slot_id": "ef" * 16}, "another slot"),
        (proof(), {"relay_url": "https://other.example"}, "another relay"),
        (proof(), {"now": NOW + 301}, "not fresh"),
        (proof(), {"now": NOW - 301}, "not fresh"),
        (proof(), {"public_key": OTHER.public_key}, "does not verify"),
        (proof(ts=NOW + 1), {}, "does not verify"),
        (proof(ts="1800000000"), {}, "integer"),
        (proof(v=2), {}, "version"),
        (proof(nonce="x"), {}, "nonce"),
        (proof(sig="AAAA"), {}, "64 bytes"),
        ({**proof(), "extra": 1}, {}, "exactly the fields"),
        ("nope", {}, "object"),
    ],
)
def test_refusals_say_why(value: object, overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(ClaimProofError, match=reason):
        check(value, **overrides)


def test_bad_inputs_to_build() -> None:
    with pytest.raises(ClaimProofError):
        build_claim_proof(KEY, nick="a", slot_id=SLOT, relay_url="ftp://x", now=NOW, nonce=NONCE)
    with pytest.raises(ClaimProofError):
        build_claim_proof(KEY, nick="a", slot_id=SLOT, relay_url="https://x", now=NOW, nonce="short")
