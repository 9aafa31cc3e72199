# SPDX-License-Identifier: Apache-2.0
"""SPAKE2 + SAS code-phrase pairing math (§4a) against tests/vectors/pairing.json."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spake2.parameters.ed25519 import ParamsEd25519
from spake2.spake2 import finalize_SPAKE2_symmetric

from wire_protocol._card import build_agent_card
from wire_protocol._keys import SigningKey
from wire_protocol._pairing import (
    CODE_ALPHABET,
    BootstrapPayload,
    Spake2Session,
    bootstrap_key,
    build_bootstrap_payload,
    code_hash,
    compute_sas,
    confirm_sas,
    format_sas,
    generate_code_phrase,
    open_bootstrap,
    parse_bootstrap_payload,
    parse_code_phrase,
    seal_bootstrap,
)
from wire_protocol.errors import PairingError, SasMismatchError

VECTORS: dict[str, Any] = json.loads((Path(__file__).parents[1] / "vectors" / "pairing.json").read_text("utf-8"))
CODE = "12-ABCDEF"


def _stream(data: bytes) -> Callable[[int], bytes]:
    """random_bytes that hands out ``data`` in order."""
    buffer = bytearray(data)

    def take(count: int) -> bytes:
        assert len(buffer) >= count, "test stream exhausted"
        out = bytes(buffer[:count])
        del buffer[:count]
        return out

    return take


def _counter(start: int) -> Callable[[int], bytes]:
    state: Iterator[int] = iter(range(start, 10**9))

    def take(count: int) -> bytes:
        return hashlib.sha256(str(next(state)).encode()).digest()[:count].ljust(count, b"\0")

    return take


# --------------------------------------------------------------------------- vectors


def test_every_vector_names_its_source() -> None:
    groups = [v for v in VECTORS.values() if isinstance(v, dict | list)]
    entries = [e for g in groups for e in (g if isinstance(g, list) else [g])]
    assert entries
    assert all("source" in e and e["source"] for e in entries)


@pytest.mark.parametrize("vector", VECTORS["code_hash"])
def test_code_hash_vector(vector: dict[str, str]) -> None:
    assert code_hash(vector["code"]) == vector["code_hash"]


@pytest.mark.parametrize("vector", VECTORS["sas"])
def test_sas_vector(vector: dict[str, str]) -> None:
    sas = compute_sas(bytes.fromhex(vector["key_hex"]))
    assert sas == vector["sas"]
    assert format_sas(sas) == vector["display"]


@pytest.mark.parametrize("vector", VECTORS["bootstrap_key"])
def test_bootstrap_key_vector(vector: dict[str, str]) -> None:
    key = bootstrap_key(bytes.fromhex(vector["key_hex"]), vector["code_hash"])
    assert key.hex() == vector["aead_key_hex"]


def test_spake2_library_known_answers() -> None:
    scalar = VECTORS["spake2_password_to_scalar"]
    assert ParamsEd25519.group.password_to_scalar(scalar["password"].encode()) == int(scalar["scalar"])
    h = VECTORS["spake2_hash_symmetric"]
    digest = finalize_SPAKE2_symmetric(
        h["id_symmetric"].encode(), h["x"].encode(), h["y"].encode(), h["k"].encode(), h["pw"].encode()
    )
    assert digest.hex() == h["hash_hex"]
    point = VECTORS["spake2_symmetric_s_point"]["point_hex"]
    assert ParamsEd25519.S.to_bytes().hex() == point
    assert point.startswith("6f00dae8")
    assert point.endswith("e6f1")


def test_spake2_exchange_vector() -> None:
    v = VECTORS["spake2_exchange"]
    host = Spake2Session.from_seed(v["code"], bytes.fromhex(v["host_seed_hex"]))
    guest = Spake2Session.from_seed(v["code"], bytes.fromhex(v["guest_seed_hex"]))
    assert host.code_hash == guest.code_hash == v["code_hash"]
    assert host.message.hex() == v["host_msg_hex"]
    assert guest.message.hex() == v["guest_msg_hex"]
    key = host.finish(guest.message)
    assert key.hex() == v["key_hex"]
    assert guest.finish(host.message) == key
    assert compute_sas(key) == v["sas"]
    assert bootstrap_key(key, v["code_hash"]).hex() == v["aead_key_hex"]


def test_bootstrap_seal_vector() -> None:
    v = VECTORS["bootstrap_seal"]
    key = bytes.fromhex(v["aead_key_hex"])
    plaintext = v["plaintext"].encode("utf-8")
    assert seal_bootstrap(key, plaintext, bytes.fromhex(v["nonce_hex"])) == v["sealed_b64"]
    assert open_bootstrap(key, v["sealed_b64"]) == plaintext
    card = build_agent_card(SigningKey(bytes.fromhex(v["card_seed_hex"])), v["card_handle"])
    payload = parse_bootstrap_payload(plaintext)
    assert build_bootstrap_payload(card, payload.relay_url, payload.slot_id, payload.slot_token) == plaintext


# --------------------------------------------------------------------------- code phrases


def test_generate_code_phrase_shape_and_rejection_sampling() -> None:
    # 250 and 200 are rejected (>= 200), 137 -> 37; letters use the low 5 bits
    assert generate_code_phrase(_stream(bytes([250, 200, 137, 0, 1, 2, 3, 4, 31]))) == "37-ABCDE7"
    assert generate_code_phrase(_stream(bytes([99, 32, 63, 95, 127, 255, 224]))) == "99-A7777A"


@given(st.binary(min_size=64, max_size=64))
def test_generated_phrases_always_parse(data: bytes) -> None:
    stream = _stream(data + bytes(range(0, 200, 7)))
    phrase = generate_code_phrase(stream)
    assert parse_code_phrase(phrase) == phrase
    assert all(c in CODE_ALPHABET for c in phrase[3:])


def test_generate_code_phrase_default_is_random() -> None:
    phrases = {generate_code_phrase() for _ in range(20)}
    assert len(phrases) > 1
    assert all(parse_code_phrase(p) == p for p in phrases)


def test_parse_code_phrase_trims() -> None:
    assert parse_code_phrase("  12-ABCDEF\n") == CODE
    assert parse_code_phrase("00-234567") == "00-234567"


@pytest.mark.parametrize(
    "bad", ["12345-ABCDEF", "12-ABC", "12-ABCDEF1", "12-abcdef", "12-ABCDE1", "1-ABCDEF", "12ABCDEF", "", "١٢-ABCDEF"]
)
def test_parse_code_phrase_rejects(bad: str) -> None:
    with pytest.raises(PairingError, match="code phrase"):
        parse_code_phrase(bad)


def test_code_hash_normalizes_and_validates() -> None:
    assert code_hash(" 12-ABCDEF ") == code_hash(CODE)
    with pytest.raises(PairingError):
        code_hash("12-abcdef")


# --------------------------------------------------------------------------- SPAKE2


def test_round_trip_host_and_guest_agree() -> None:
    host, host_msg = Spake2Session.start(CODE)
    guest, guest_msg = Spake2Session.start(CODE)
    assert len(host_msg) == len(guest_msg) == 33
    assert host_msg[0] == guest_msg[0] == 0x53
    assert host_msg == host.message
    k_host, k_guest = host.finish(guest_msg), guest.finish(host_msg)
    assert k_host == k_guest
    assert len(k_host) == 32
    assert compute_sas(k_host) == compute_sas(k_guest)


def test_different_code_gives_different_key() -> None:
    host, host_msg = Spake2Session.start(CODE)
    guest, guest_msg = Spake2Session.start("12-ABCDEG")
    assert host.finish(guest_msg) != guest.finish(host_msg)


def test_resume_from_seed_is_identical() -> None:
    peer, peer_msg = Spake2Session.start(CODE, _counter(1000))
    session, message = Spake2Session.start(CODE, _counter(0))
    resumed = Spake2Session.from_seed(CODE, session.seed)
    assert resumed.message == message
    assert resumed == session
    assert resumed.finish(peer_msg) == session.finish(peer_msg) == peer.finish(message)


def test_seed_and_code_are_not_in_repr() -> None:
    session = Spake2Session.from_seed(CODE, b"\x07" * 32)
    assert "ABCDEF" not in repr(session)
    assert "seed" not in repr(session)


def test_bad_seed_rejected() -> None:
    with pytest.raises(PairingError, match="32 bytes"):
        Spake2Session.from_seed(CODE, b"short")


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (b"S" + b"\x00" * 31, "33 bytes"),
        (b"A" + b"\x00" * 32, "0x53"),
        (b"B" + b"\x00" * 32, "0x53"),
        (b"S" + b"\x01" + b"\x00" * 31, "invalid"),  # the identity point
        (b"S" + b"\xff" * 32, "invalid"),
    ],
)
def test_finish_rejects_bad_messages(message: bytes, match: str) -> None:
    session = Spake2Session.from_seed(CODE, b"\x01" * 32)
    with pytest.raises(PairingError, match=match):
        session.finish(message)


def test_finish_rejects_reflection() -> None:
    session = Spake2Session.from_seed(CODE, b"\x01" * 32)
    with pytest.raises(PairingError, match="reflected") as info:
        session.finish(session.message)
    assert info.value.code == "spake2_reflection"


# --------------------------------------------------------------------------- SAS


def test_confirm_sas_accepts_formatted_digits() -> None:
    confirm_sas("384217", "384-217")
    confirm_sas("384217", " 384 217 ")
    confirm_sas("384-217", "384217")


@pytest.mark.parametrize("typed", ["384-218", "38421", "384-2177", "abcdef", "", "３８４２１７"])
def test_confirm_sas_aborts(typed: str) -> None:
    with pytest.raises(SasMismatchError) as info:
        confirm_sas("384217", typed)
    assert info.value.code == "sas_mismatch"
    assert isinstance(info.value, PairingError)


def test_sas_properties() -> None:
    with pytest.raises(PairingError):
        compute_sas(b"\x00" * 31)
    with pytest.raises(PairingError):
        format_sas("12345")
    with pytest.raises(PairingError):
        confirm_sas("12345", "12345")


@given(st.binary(min_size=32, max_size=32))
def test_sas_is_always_six_digits(key: bytes) -> None:
    sas = compute_sas(key)
    assert len(sas) == 6
    assert sas.isdigit()
    assert format_sas(sas) == f"{sas[:3]}-{sas[3:]}"


# --------------------------------------------------------------------------- sealed bootstrap


def _key() -> bytes:
    return bootstrap_key(bytes(range(32)), code_hash(CODE))


def test_seal_open_round_trip() -> None:
    sealed = seal_bootstrap(_key(), b"hello", b"\x09" * 12)
    blob = base64.b64decode(sealed)
    assert blob[:12] == b"\x09" * 12
    assert len(blob) == 12 + 5 + 16
    assert open_bootstrap(_key(), sealed) == b"hello"


def test_every_flipped_byte_fails() -> None:
    sealed = base64.b64decode(seal_bootstrap(_key(), b'{"card":{}}', b"\x00" * 12))
    for index in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[index] ^= 0x01
        with pytest.raises(PairingError) as info:
            open_bootstrap(_key(), base64.b64encode(bytes(tampered)).decode())
        assert info.value.code == "bootstrap_open_failed"


@pytest.mark.parametrize("sealed", ["", base64.b64encode(b"x" * 27).decode(), "not base64!", "AAAA="])
def test_open_rejects_malformed(sealed: str) -> None:
    with pytest.raises(PairingError) as info:
        open_bootstrap(_key(), sealed)
    assert info.value.code == "bootstrap_open_failed"


def test_open_with_other_key_fails() -> None:
    sealed = seal_bootstrap(_key(), b"hello", b"\x00" * 12)
    other = bootstrap_key(bytes(range(32)), code_hash("12-ABCDEG"))
    with pytest.raises(PairingError, match="different"):
        open_bootstrap(other, sealed)


def test_seal_requires_12_byte_nonce_and_32_byte_key() -> None:
    with pytest.raises(PairingError):
        seal_bootstrap(_key(), b"x", b"\x00" * 8)
    with pytest.raises(PairingError):
        seal_bootstrap(b"\x00" * 16, b"x", b"\x00" * 12)
    with pytest.raises(PairingError):
        bootstrap_key(bytes(32), CODE)


def test_bootstrap_payload_round_trip() -> None:
    card = build_agent_card(SigningKey(b"\x02" * 32), "willard")
    data = build_bootstrap_payload(card, "https://wireup.net", "ab" * 16, "cd" * 32)
    assert data.startswith(b'{"card":{')
    payload = parse_bootstrap_payload(data)
    assert payload == BootstrapPayload(
        card=card, relay_url="https://wireup.net", slot_id="ab" * 16, slot_token="cd" * 32
    )
    assert "cd" * 32 not in repr(payload)


def test_bootstrap_payload_missing_coordinates_are_empty() -> None:
    card = build_agent_card(SigningKey(b"\x02" * 32), "willard")
    payload = parse_bootstrap_payload(json.dumps({"card": card.data, "slot_id": None}).encode())
    assert (payload.relay_url, payload.slot_id, payload.slot_token) == ("", "", "")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not json", "bootstrap_malformed"),
        (b"[]", "bootstrap_malformed"),
        (b'{"relay_url":"x"}', "bootstrap_malformed"),
        (b'{"card":{"did":"x"}}', "bootstrap_bad_card"),
    ],
)
def test_bootstrap_payload_rejects(data: bytes, code: str) -> None:
    with pytest.raises(PairingError) as info:
        parse_bootstrap_payload(data)
    assert info.value.code == code


def test_bootstrap_payload_rejects_forged_card() -> None:
    card = build_agent_card(SigningKey(b"\x02" * 32), "willard").to_json()
    card["name"] = "Mallory"
    with pytest.raises(PairingError, match="signature") as info:
        parse_bootstrap_payload(json.dumps({"card": card}).encode())
    assert info.value.code == "bootstrap_bad_card"


def test_full_flow_sealed_between_sessions() -> None:
    host, host_msg = Spake2Session.start(CODE)
    guest, guest_msg = Spake2Session.start(CODE)
    host_key = bootstrap_key(host.finish(guest_msg), host.code_hash)
    guest_key = bootstrap_key(guest.finish(host_msg), guest.code_hash)
    card = build_agent_card(SigningKey(b"\x03" * 32), "host")
    sealed = seal_bootstrap(host_key, build_bootstrap_payload(card, "https://r", "s" * 32, "t" * 64), b"\x05" * 12)
    assert parse_bootstrap_payload(open_bootstrap(guest_key, sealed)).card == card
