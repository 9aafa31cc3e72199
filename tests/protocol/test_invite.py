# SPDX-License-Identifier: Apache-2.0
"""Invite URLs (§4b) against tests/vectors/invite.json."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from wire_protocol._canonical import canonical_bytes
from wire_protocol._card import build_agent_card
from wire_protocol._invite import INVITE_URL_PREFIX, Invite, mint_invite, new_invite_nonce, parse_invite
from wire_protocol._keys import SigningKey, b64encode
from wire_protocol.errors import InviteError, InviteExpiredError

VECTOR: dict[str, Any] = json.loads((Path(__file__).parents[1] / "vectors" / "invite.json").read_text("utf-8"))
KEY = SigningKey(b"\x01" * 32)
CARD = build_agent_card(KEY, "paul")
NOW = 1_779_000_000
EXP = NOW + 86_400
COORDS = {
    "relay_url": "https://wireup.net",
    "slot_id": "0123456789abcdef0123456789abcdef",
    "slot_token": "f" * 64,
    "nonce": "a" * 64,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(**overrides: Any) -> str:
    args: dict[str, Any] = {"key": KEY, "card": CARD, **COORDS, "exp": EXP, **overrides}
    return mint_invite(**args)


def signed_url(payload: bytes, key: SigningKey = KEY) -> str:
    """An invite URL around arbitrary payload bytes, correctly signed."""
    return f"{INVITE_URL_PREFIX}v=1&inv={b64url(payload)}.{b64url(key.sign(payload))}"


def payload_of(url: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(unb64url(url.split("inv=")[1].split(".", maxsplit=1)[0]))
    return result


def compact(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def error_code(url: str, now: int = NOW) -> str:
    with pytest.raises(InviteError) as info:
        parse_invite(url, now_unix=now)
    return info.value.code


# --------------------------------------------------------------------------- vector


def test_vector_mints_expected_url() -> None:
    v = VECTOR
    assert v["source"]
    assert v["card_signature_source"]
    key = SigningKey(bytes.fromhex(v["seed_hex"]))
    card = build_agent_card(key, v["handle"])
    assert card.did == v["did"]
    assert card.data["signature"] == v["card_signature"]
    url = mint_invite(
        key=key,
        card=card,
        relay_url=v["relay_url"],
        slot_id=v["slot_id"],
        slot_token=v["slot_token"],
        nonce=v["nonce"],
        exp=v["exp"],
    )
    assert url == v["url"]
    assert url.startswith("wire://pair?v=1&inv=")
    invite = parse_invite(url, now_unix=v["valid_at_unix"])
    assert invite.payload_bytes.decode("utf-8") == v["payload_json"]
    with pytest.raises(InviteExpiredError, match="expired"):
        parse_invite(url, now_unix=v["expired_at_unix"])


def test_payload_is_in_declaration_order_and_card_sorted() -> None:
    payload = parse_invite(mint(), now_unix=NOW).payload_bytes
    assert list(json.loads(payload)) == ["v", "did", "card", "relay_url", "slot_id", "slot_token", "nonce", "exp"]
    card = json.loads(payload)["card"]
    assert list(card) == sorted(card)
    assert b" " not in payload


# --------------------------------------------------------------------------- round trip


def test_round_trip() -> None:
    invite = parse_invite(mint(), now_unix=NOW)
    assert invite == Invite(
        did=CARD.did,
        card=CARD,
        relay_url=COORDS["relay_url"],
        slot_id=COORDS["slot_id"],
        slot_token=COORDS["slot_token"],
        nonce=COORDS["nonce"],
        exp=EXP,
        payload_bytes=invite.payload_bytes,
    )
    assert COORDS["slot_token"] not in repr(invite)


def test_unicode_is_raw_utf8() -> None:
    card = build_agent_card(KEY, "paul", name="Pål")
    invite = parse_invite(mint(card=card, relay_url="https://wïre.example"), now_unix=NOW)
    assert "Pål".encode() in invite.payload_bytes
    assert "wïre".encode() in invite.payload_bytes
    assert invite.card.name == "Pål"


def test_new_invite_nonce() -> None:
    assert new_invite_nonce(lambda n: b"\xab" * n) == "ab" * 32
    nonce = new_invite_nonce()
    assert len(nonce) == 64
    assert nonce == nonce.lower()
    int(nonce, 16)


def test_mint_refuses_foreign_key() -> None:
    with pytest.raises(InviteError, match="key"):
        mint(key=SigningKey(b"\x02" * 32))


def test_mint_refuses_bad_exp() -> None:
    with pytest.raises(InviteError):
        mint(exp=-1)


# --------------------------------------------------------------------------- expiry


def test_expiry_boundary() -> None:
    url = mint()
    assert parse_invite(url, now_unix=EXP).exp == EXP  # now == exp is still valid
    with pytest.raises(InviteExpiredError, match="expired") as info:
        parse_invite(url, now_unix=EXP + 1)
    assert info.value.code == "invite_expired"
    assert isinstance(info.value, InviteError)


# --------------------------------------------------------------------------- URL shape


@pytest.mark.parametrize(
    "prefix", ["https://wireup.net/pair?", "wire://pair/", "WIRE://pair?", " wire://pair?", "wire://pairs?"]
)
def test_not_a_wire_pair_url(prefix: str) -> None:
    url = mint().replace(INVITE_URL_PREFIX, prefix, 1)
    assert error_code(url) == "invite_not_wire_url"


def test_missing_inv_parameter() -> None:
    assert error_code("wire://pair?v=1") == "invite_missing_token"


def test_missing_dot_separator() -> None:
    token = mint().split("inv=")[1].replace(".", "")
    assert error_code(f"{INVITE_URL_PREFIX}inv={token}") == "invite_malformed"


def test_last_inv_wins() -> None:
    good = mint()
    good_token = good.split("inv=")[1]
    other = mint(nonce="b" * 64).split("inv=")[1]
    assert parse_invite(f"{INVITE_URL_PREFIX}inv={other}&v=1&inv={good_token}", now_unix=NOW).nonce == "a" * 64
    assert error_code(f"{good}&inv=garbage") == "invite_malformed"


def test_v_query_parameter_is_ignored() -> None:
    url = mint().replace("v=1&", "v=99&", 1)
    assert parse_invite(url, now_unix=NOW).did == CARD.did


def test_padding_rejected() -> None:
    head, token = mint().split("inv=")
    payload, sig = token.split(".")
    padded_sig = base64.urlsafe_b64encode(unb64url(sig)).decode()
    assert padded_sig.endswith("==")  # 64 bytes never fill whole base64 quanta
    with pytest.raises(InviteError, match="padding") as info:
        parse_invite(f"{head}inv={payload}.{padded_sig}", now_unix=NOW)
    assert info.value.code == "invite_bad_encoding"
    for nonce in ("a" * 64, "a" * 65, "a" * 66):  # one of these makes the payload need padding too
        head, token = mint(nonce=nonce).split("inv=")
        payload, sig = token.split(".")
        padded = base64.urlsafe_b64encode(unb64url(payload)).decode()
        if padded != payload:
            assert error_code(f"{head}inv={padded}.{sig}") == "invite_bad_encoding"
            break
    else:  # pragma: no cover
        pytest.fail("no payload length needed padding")


@pytest.mark.parametrize("bad", ["+", "/", "!", "%3D"])
def test_invalid_base64_characters_rejected(bad: str) -> None:
    url = mint()
    head, token = url.split("inv=")
    payload, sig = token.split(".")
    assert error_code(f"{head}inv={payload[:10]}{bad}{payload[11:]}.{sig}") == "invite_bad_encoding"


def test_non_canonical_trailing_bits_rejected() -> None:
    head, token = mint().split("inv=")
    payload, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # a 64-byte signature is 86 characters; the last one carries 4 unused bits that must be zero
    last = alphabet.index(sig[-1])
    assert last & 0x0F == 0
    nonzero_tail = sig[:-1] + alphabet[last | 0x01]
    assert unb64url(nonzero_tail) == unb64url(sig)  # lenient decoders see the same bytes
    assert error_code(f"{head}inv={payload}.{nonzero_tail}") == "invite_bad_encoding"


# --------------------------------------------------------------------------- tampering


def test_tampered_payload() -> None:
    head, token = mint().split("inv=")
    payload, sig = token.split(".")
    data = payload_of(mint())
    data["slot_token"] = "0" * 64
    forged = b64url(compact(data))
    assert forged != payload
    assert error_code(f"{head}inv={forged}.{sig}") == "invite_bad_signature"


def test_tampered_signature() -> None:
    head, token = mint().split("inv=")
    payload, sig = token.split(".")
    raw = bytearray(unb64url(sig))
    raw[0] ^= 0x80
    assert error_code(f"{head}inv={payload}.{b64url(bytes(raw))}") == "invite_bad_signature"
    assert error_code(f"{head}inv={payload}.{b64url(bytes(raw[:63]))}") == "invite_bad_signature"


def test_signed_by_other_key() -> None:
    payload = json.dumps(payload_of(mint()), separators=(",", ":")).encode()
    assert error_code(signed_url(payload, SigningKey(b"\x09" * 32))) == "invite_bad_signature"


def test_did_must_match_card() -> None:
    data = payload_of(mint())
    data["did"] = "did:wire:mallory-34750f98"
    assert error_code(signed_url(compact(data))) == "invite_did_mismatch"


def test_forged_card_rejected() -> None:
    data = payload_of(mint())
    data["card"]["name"] = "Mallory"
    assert error_code(signed_url(compact(data))) == "invite_bad_card"


def test_card_with_wrong_did_suffix_rejected() -> None:
    card = CARD.to_json()
    card["did"] = "did:wire:paul-00000000"
    resigned = sign_card_unbound(card)
    data = payload_of(mint())
    data["card"] = resigned
    data["did"] = resigned["did"]
    assert error_code(signed_url(compact(data))) == "invite_bad_card"


def sign_card_unbound(card: dict[str, Any]) -> dict[str, Any]:
    """Sign a card without the DID-binding check (sign_card verifies with it)."""
    data = {k: v for k, v in card.items() if k != "signature"}
    data["signature"] = b64encode(KEY.sign(canonical_bytes(data, strict=False)))
    return data


@pytest.mark.parametrize("field", ["v", "did", "card", "relay_url", "slot_id", "slot_token", "nonce", "exp"])
def test_missing_field(field: str) -> None:
    data = payload_of(mint())
    del data[field]
    with pytest.raises(InviteError, match=field) as info:
        parse_invite(signed_url(compact(data)), now_unix=NOW)
    assert info.value.code == "invite_missing_field"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("v", "1"),
        ("v", True),
        ("v", 1.0),
        ("exp", -1),
        ("exp", 2**64),
        ("exp", "1779000000"),
        ("card", "{}"),
        ("slot_token", None),
        ("nonce", 42),
    ],
)
def test_wrong_field_type(field: str, value: Any) -> None:
    data = payload_of(mint())
    data[field] = value
    assert error_code(signed_url(compact(data))) == "invite_bad_field"


@pytest.mark.parametrize("version", [0, 2])
def test_wrong_version(version: int) -> None:
    data = payload_of(mint())
    data["v"] = version
    with pytest.raises(InviteError, match="version") as info:
        parse_invite(signed_url(compact(data)), now_unix=NOW)
    assert info.value.code == "invite_unsupported_version"


def test_extra_fields_ignored_but_signed() -> None:
    data = payload_of(mint())
    data["future"] = {"x": 1}
    invite = parse_invite(signed_url(compact(data)), now_unix=NOW)
    assert invite.nonce == "a" * 64


def test_duplicate_fields_rejected() -> None:
    payload = parse_invite(mint(), now_unix=NOW).payload_bytes
    doubled = payload[:-1] + b',"slot_token":"' + b"0" * 64 + b'"}'
    assert error_code(signed_url(doubled)) == "invite_malformed"


@pytest.mark.parametrize("payload", [b"not json", b"[1,2]", b'"str"', b"\xff\xfe"])
def test_payload_not_an_object(payload: bytes) -> None:
    assert error_code(signed_url(payload)) == "invite_malformed"
