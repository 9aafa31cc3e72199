# SPDX-License-Identifier: MIT
"""Identity creation/loading, card and profile, display overrides, and the trust ring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.agents import make_home
from wire_client import (
    HomeError,
    Identity,
    IdentityMismatchError,
    NotInitializedError,
    TrustConflictError,
    TrustError,
    TrustStore,
    WireHome,
)
from wire_protocol import SigningKey, Tier, build_agent_card, sign_card, verify_card


def test_create_is_idempotent_and_never_rekeys(tmp_path: Path) -> None:
    home = WireHome.at(tmp_path)
    first, result = Identity.create(home, "alice")
    assert result.status == "created"
    seed = home.private_key.read_bytes()
    again, result2 = Identity.create(home, "alice")
    assert result2.status == "already_initialized"
    assert again.did == first.did
    with pytest.raises(IdentityMismatchError, match="refusing to re-key"):
        Identity.create(home, "mallory")
    assert home.private_key.read_bytes() == seed


def test_interrupted_init_reuses_the_key(tmp_path: Path) -> None:
    home = WireHome.at(tmp_path)
    identity, _ = Identity.create(home, "alice")
    home.agent_card.unlink()
    again, result = Identity.create(home, "alice")
    assert result.status == "created"
    assert again.did == identity.did


def test_load_requires_an_identity(tmp_path: Path) -> None:
    with pytest.raises(NotInitializedError):
        Identity.load(WireHome.at(tmp_path))
    with pytest.raises(HomeError):
        Identity.create(WireHome.at(tmp_path), "bad handle!")


def test_card_shape_and_self_pin(tmp_path: Path) -> None:
    home, identity = make_home(tmp_path, "alice")
    card = json.loads(home.agent_card.read_text())
    assert card["schema_version"] == "v3.1"
    assert card["did"] == identity.did
    assert identity.did.startswith("did:wire:alice-")
    assert card["name"] == "Alice"
    verify_card(card)
    record = TrustStore(home).get("alice")
    assert record is not None
    assert record.tier is Tier.ATTESTED
    assert record.did == identity.did


def test_profile_and_rebuild(tmp_path: Path) -> None:
    home, identity = make_home(tmp_path, "alice")
    identity.set_profile("motto", "ship it")
    assert Identity.load(home).profile()["motto"] == "ship it"
    with pytest.raises(HomeError, match="unknown profile field"):
        identity.set_profile("nonsense", "x")
    identity.set_profile("motto", None)
    assert "motto" not in Identity.load(home).profile()
    rebuilt = identity.rebuild_card()
    verify_card(rebuilt.to_json())
    assert TrustStore(home).get("alice").card == rebuilt.to_json()  # type: ignore[union-attr]


def test_local_display_rename_and_character(tmp_path: Path) -> None:
    home, identity = make_home(tmp_path, "alice")
    base = identity.character()
    identity.set_display(nickname="Ally\x1b[31m", emoji="🦊")
    renamed = identity.character()
    assert renamed.nickname == "Ally[31m"  # control characters stripped
    assert renamed.emoji == "🦊"
    assert renamed.palette == base.palette
    card = json.loads(home.agent_card.read_text())
    assert "Ally" not in json.dumps(card)  # local only


def test_pin_promote_conflict_forget(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path, "alice")
    trust = TrustStore(home)
    bob_key = SigningKey.generate()
    bob = build_agent_card(bob_key, "bob")
    assert trust.pin_card(bob).status == "pinned"
    assert trust.pin_card(bob, Tier.ATTESTED).status == "promoted"
    assert trust.pin_card(bob.to_json(), Tier.VERIFIED).tier is Tier.ATTESTED  # never lowered
    imposter = build_agent_card(SigningKey.generate(), "bob")
    with pytest.raises(TrustConflictError):
        trust.pin_card(imposter)
    keys = trust.keys_for("bob")
    assert keys is not None
    assert keys[0].public_key == bob_key.public_key
    assert trust.forget("bob") is True
    assert trust.forget("bob") is False
    assert trust.keys_for("bob") is None


def test_pin_refuses_bad_cards(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path, "alice")
    trust = TrustStore(home)
    card = build_agent_card(SigningKey.generate(), "bob").to_json()
    card["name"] = "tampered"
    with pytest.raises(TrustError, match="invalid card"):
        trust.pin_card(card)
    key = SigningKey.generate()
    mismatched = build_agent_card(key, "bob").to_json()
    mismatched["handle"] = "carol"
    with pytest.raises(TrustError, match="does not match its DID"):
        trust.pin_card(sign_card(mismatched, key))


def test_trust_file_keeps_reference_shape(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path, "alice")
    TrustStore(home).pin_card(build_agent_card(SigningKey.generate(), "bob"))
    data = json.loads(home.trust.read_text())
    assert data["version"] == 1
    record = data["agents"]["bob"]
    assert set(record) == {"tier", "did", "public_keys", "card", "pinned_at"}
    assert record["tier"] == "VERIFIED"
    assert set(record["public_keys"][0]) == {"key_id", "key", "added_at", "active"}


def test_trust_cache_sees_other_writers(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path, "alice")
    reader, writer = TrustStore(home), TrustStore(home)
    assert reader.keys_for("bob") is None
    writer.pin_card(build_agent_card(SigningKey.generate(), "bob"))
    assert reader.keys_for("bob") is not None
