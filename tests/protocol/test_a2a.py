# SPDX-License-Identifier: Apache-2.0
"""A2A agent-card projection and directory records (§3.3, §5)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.helpers.reference_a2a import reference_a2a_card
from wire_protocol._a2a import A2AResolution, DirectoryRecord, a2a_card_for_claim, a2a_endpoint, parse_a2a_card
from wire_protocol._canonical import compact_json
from wire_protocol._card import AgentCard, build_agent_card
from wire_protocol._keys import SigningKey
from wire_protocol._relay_api import A2A_EXTENSION_URI
from wire_protocol.errors import CardError, WireError

KEY = SigningKey(b"\x01" * 32)
PLAIN = build_agent_card(KEY, "paul")
PROFILED = build_agent_card(KEY, "paul", profile={"display_name": "Paul B.", "motto": "ship it", "emoji": "📞"})
SLOT = "0123456789abcdef0123456789abcdef"
CLAIMED = "2026-05-23T00:00:00Z"


def project(card: AgentCard = PROFILED, relay_url: str | None = "https://wireup.net/", nick: str = "paul") -> Any:
    return a2a_card_for_claim(
        nick=nick,
        did=card.did,
        card=card.to_json(),
        slot_id=SLOT,
        relay_url=relay_url,
        claimed_at=CLAIMED,
        relay_base="https://relay.example/",
    )


def reference(card: AgentCard = PROFILED, relay_url: str | None = "https://wireup.net/") -> Any:
    return reference_a2a_card(
        nick="paul", did=card.did, card=card.to_json(), slot_id=SLOT, relay_url=relay_url, claimed_at=CLAIMED
    )


def test_projection_exact_shape() -> None:
    card = PROFILED.to_json()
    assert project() == {
        "name": "Paul B.",
        "description": "ship it",
        "supportedInterfaces": [
            {"url": "https://relay.example/a2a/paul", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"}
        ],
        "provider": {"organization": "wire", "url": "https://github.com/SlanchaAi/wire"},
        "version": "wire/0.5",
        "capabilities": {
            "streaming": False,
            "pushNotifications": False,
            "extensions": [
                {
                    "uri": "https://slancha.ai/wire/ext/v0.5",
                    "description": (
                        "Wire-native fields: full signed agent-card, profile blob, DID, slot_id, mailbox relay coords."
                    ),
                    "required": False,
                    "params": {
                        "did": "did:wire:paul-34750f98",
                        "handle": "paul",
                        "slot_id": SLOT,
                        "relay_url": "https://wireup.net/",
                        "card": card,
                        "profile": {
                            "schema_version": "v0.5",
                            "display_name": "Paul B.",
                            "motto": "ship it",
                            "emoji": "📞",
                        },
                        "claimed_at": CLAIMED,
                    },
                }
            ],
        },
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [
            {
                "id": "wire",
                "name": "wire",
                "description": project()["skills"][0]["description"],
                "tags": ["wire", "pairing"],
            }
        ],
    }


def test_projection_required_fields_are_never_empty() -> None:
    """A2A v1.0 REQUIRED fields (protobuf does not enforce them, so we do)."""
    doc = project(PLAIN, relay_url=None)
    assert doc["name"] == "paul"  # the nick, not the card's "Paul"
    assert doc["description"] == "paul, an agent on wire"
    assert doc["version"]
    assert doc["supportedInterfaces"][0]["url"] == "https://relay.example/a2a/paul"
    assert all(skill["id"] and skill["name"] and skill["description"] and skill["tags"] for skill in doc["skills"])
    params = doc["capabilities"]["extensions"][0]["params"]
    assert params["profile"] is None
    assert params["relay_url"] is None


def test_projection_non_string_profile_fields_fall_back() -> None:
    card = PLAIN.to_json()
    card["profile"] = {"display_name": 7, "motto": ["x"]}
    doc = a2a_card_for_claim(nick="paul", did=PLAIN.did, card=card, slot_id=SLOT, relay_url="", claimed_at=None)
    assert (doc["name"], doc["description"]) == ("paul", "paul, an agent on wire")
    assert doc["supportedInterfaces"][0]["url"] == "/a2a/paul"  # no base known: relative


@pytest.mark.parametrize(
    ("relay_url", "endpoint"),
    [
        ("https://wireup.net", "https://wireup.net/v1/handle/intro/paul"),
        ("https://wireup.net/", "https://wireup.net/v1/handle/intro/paul"),
        ("https://wireup.net///", "https://wireup.net/v1/handle/intro/paul"),
        ("http://127.0.0.1:8771", "http://127.0.0.1:8771/v1/handle/intro/paul"),
        ("", "/v1/handle/intro/paul"),
        (None, "/v1/handle/intro/paul"),
    ],
)
def test_endpoint(relay_url: str | None, endpoint: str) -> None:
    assert a2a_endpoint("paul", relay_url) == endpoint
    assert reference(relay_url=relay_url)["endpoint"] == endpoint


def test_projection_does_not_alias_input() -> None:
    card = PROFILED.to_json()
    doc: Any = a2a_card_for_claim(
        nick="paul", did=PROFILED.did, card=card, slot_id=SLOT, relay_url=None, claimed_at=None
    )
    doc["capabilities"]["extensions"][0]["params"]["card"]["name"] = "changed"
    doc["capabilities"]["extensions"][0]["params"]["profile"]["motto"] = "changed"
    assert card == PROFILED.data


def test_projection_is_json_serializable() -> None:
    assert compact_json(project()).startswith(b'{"capabilities":')


@pytest.mark.parametrize("shape", [project, reference], ids=["ours-v1.0", "reference-relay"])
def test_parse_both_shapes(shape: Any) -> None:
    doc = shape()
    result = parse_a2a_card(doc)
    assert result == A2AResolution(
        did=PROFILED.did,
        nick="paul",
        card=PROFILED,
        slot_id=SLOT,
        relay_url="https://wireup.net/",
        claimed_at=CLAIMED,
        a2a_only=False,
        profile=PROFILED.data["profile"],
        a2a_card=doc,
    )
    assert result.to_record() == DirectoryRecord(
        nick="paul", did=PROFILED.did, card=PROFILED, slot_id=SLOT, relay_url="https://wireup.net/", claimed_at=CLAIMED
    )


def _extensions(doc: Any) -> Any:
    return (
        doc["capabilities"]["extensions"]
        if "capabilities" in doc and "extensions" in doc["capabilities"]
        else doc["extensions"]
    )


@pytest.mark.parametrize("shape", [project, reference], ids=["ours-v1.0", "reference-relay"])
def test_extension_selected_by_prefix(shape: Any) -> None:
    doc = shape()
    extensions = _extensions(doc)
    ext = extensions[0]
    extensions[:] = [{"uri": "https://example.com/other", "params": {"did": "x"}}, "junk", ext]
    ext["uri"] = "https://slancha.ai/wire/ext/v0.9"
    assert parse_a2a_card(doc).card == PROFILED
    assert A2A_EXTENSION_URI.startswith("https://slancha.ai/wire/ext")


def test_extension_without_card() -> None:
    doc = project()
    _extensions(doc)[0]["params"]["card"] = None
    result = parse_a2a_card(doc)
    assert result.card is None
    assert result.a2a_only is False
    assert result.to_record().nick == "paul"


def test_degraded_parse_without_extension() -> None:
    doc = reference()
    doc["extensions"] = [{"uri": "https://github.com/laulpogan/wire/ext/v0.5", "params": {}}]
    result = parse_a2a_card(doc)
    assert result.a2a_only is True
    assert result.did == PROFILED.did
    assert result.nick == "Paul B."
    assert result.relay_url == "https://wireup.net/v1/handle/intro/paul"
    assert (result.card, result.slot_id, result.claimed_at) == (None, None, None)
    assert result.a2a_card == doc
    del doc["extensions"]
    assert parse_a2a_card(doc).a2a_only is True


def test_v1_card_without_wire_extension_is_refused() -> None:
    doc = project()
    doc["capabilities"]["extensions"] = []
    with pytest.raises(CardError, match="no wire extension"):
        parse_a2a_card(doc)


@pytest.mark.parametrize("shape", [project, reference], ids=["ours-v1.0", "reference-relay"])
def test_forged_card_in_params_rejected(shape: Any) -> None:
    doc = shape()
    _extensions(doc)[0]["params"]["card"]["name"] = "Mallory"
    with pytest.raises(CardError, match="signature") as info:
        parse_a2a_card(doc)
    assert info.value.code == "card_bad_signature"


def test_params_did_must_match_card() -> None:
    other = build_agent_card(SigningKey(b"\x02" * 32), "mallory")
    doc = project()
    _extensions(doc)[0]["params"]["card"] = other.to_json()
    with pytest.raises(CardError, match="did") as info:
        parse_a2a_card(doc)
    assert info.value.code == "directory_did_mismatch"


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"name": "x"},
        {"extensions": [{"uri": A2A_EXTENSION_URI, "params": "x"}]},
        {"extensions": [{"uri": A2A_EXTENSION_URI, "params": {"handle": "paul"}}]},
        {"extensions": [{"uri": A2A_EXTENSION_URI, "params": {"did": "d", "slot_id": 5}}]},
    ],
)
def test_malformed_a2a_cards(doc: object) -> None:
    with pytest.raises(CardError):
        parse_a2a_card(doc)


# --------------------------------------------------------------------------- /.well-known/wire/agent


def wire_agent(card: AgentCard = PROFILED) -> dict[str, Any]:
    return {
        "nick": "paul",
        "did": card.did,
        "card": card.to_json(),
        "slot_id": SLOT,
        "relay_url": None,
        "claimed_at": CLAIMED,
    }


def test_directory_record_from_wire_agent() -> None:
    record = DirectoryRecord.from_wire_agent_json(wire_agent())
    assert record == DirectoryRecord(
        nick="paul", did=PROFILED.did, card=PROFILED, slot_id=SLOT, relay_url=None, claimed_at=CLAIMED
    )


def test_directory_record_requires_card() -> None:
    obj = wire_agent()
    del obj["card"]
    with pytest.raises(CardError, match="no card") as info:
        DirectoryRecord.from_wire_agent_json(obj)
    assert info.value.code == "directory_missing_card"


def test_directory_record_did_mismatch() -> None:
    obj = wire_agent()
    obj["did"] = "did:wire:mallory-34750f98"
    with pytest.raises(CardError, match="mallory") as info:
        DirectoryRecord.from_wire_agent_json(obj)
    assert info.value.code == "directory_did_mismatch"


def test_directory_record_forged_card() -> None:
    obj = wire_agent()
    card = copy.deepcopy(obj["card"])
    card["profile"]["motto"] = "pwned"
    obj["card"] = card
    with pytest.raises(WireError, match="signature"):
        DirectoryRecord.from_wire_agent_json(obj)


@pytest.mark.parametrize(
    ("field", "value"), [("did", None), ("did", ""), ("slot_id", 1), ("relay_url", ["x"]), ("nick", 3)]
)
def test_directory_record_bad_fields(field: str, value: object) -> None:
    obj = wire_agent()
    obj[field] = value
    with pytest.raises(CardError):
        DirectoryRecord.from_wire_agent_json(obj)


def test_directory_record_not_object() -> None:
    with pytest.raises(CardError, match="object"):
        DirectoryRecord.from_wire_agent_json("nope")
