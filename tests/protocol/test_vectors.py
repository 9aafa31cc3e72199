# SPDX-License-Identifier: MIT
"""Replay tests/vectors/core.json against the implementation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import wire_protocol as wp

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "core.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", VECTORS["identity"])
def test_identity_vectors(vector: dict[str, Any]) -> None:
    key = wp.SigningKey(bytes.fromhex(vector["seed_hex"]))
    assert key.public_key.hex() == vector["public_key_hex"]
    assert key.public_key_b64 == vector["public_key_b64"]
    assert key.fingerprint == vector["fingerprint"]
    assert wp.did_for(vector["handle"], key.public_key) == vector["did"]
    assert key.key_id(vector["handle"]) == vector["key_id"]


@pytest.mark.parametrize("vector", VECTORS["cards"])
def test_card_vectors(vector: dict[str, Any]) -> None:
    key = wp.SigningKey(bytes.fromhex(vector["seed_hex"]))
    card = wp.build_agent_card(key, vector["handle"])
    assert wp.card_canonical(card.data).decode("utf-8") == vector["canonical"]
    assert card.data["signature"] == vector["signature"]
    assert wp.verify_card(card.to_json()).did == card.did


@pytest.mark.parametrize("vector", VECTORS["events"])
def test_event_vectors(vector: dict[str, Any]) -> None:
    key = wp.SigningKey(bytes.fromhex(vector["seed_hex"]))
    unsigned = vector["unsigned"]
    assert wp.canonical_bytes(unsigned, strict=True).decode("utf-8") == vector["strict_canonical"]
    assert wp.compute_event_id(unsigned) == vector["event_id"]
    signed = wp.sign_event(unsigned, key, vector["signer_did"])
    assert signed["event_id"] == vector["event_id"]
    assert signed["public_key_id"] == vector["public_key_id"]
    assert signed["signature"] == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS["canonical"])
def test_canonical_vectors(vector: dict[str, Any]) -> None:
    assert wp.canonical_bytes(vector["input"], strict=vector["strict"]) == vector["output"].encode("utf-8")
