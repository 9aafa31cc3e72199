# SPDX-License-Identifier: MIT
"""Sealed bodies between two Python identities: the send/receive API and each way opening can fail.

The reference interop is tests/protocol/test_x25519_vectors.py; here every error type is produced on
purpose, including the ones the reference does not check (zero padding, dh_pubkey ↔ Ed25519 key, `to`).
"""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime

import pytest

import wire_protocol as wp
from wire_protocol import _seal

T0 = datetime(2026, 12, 2, 1, 58, 5, tzinfo=UTC)
ALICE = wp.SigningKey(bytes(range(32)))
BOB = wp.SigningKey(bytes(range(32, 64)))
CAROL = wp.SigningKey(bytes(range(64, 96)))
ALICE_CARD = wp.card_with_dh_pubkey(wp.build_agent_card(ALICE, "alice"), ALICE)
BOB_CARD = wp.card_with_dh_pubkey(wp.build_agent_card(BOB, "bob"), BOB)
CAROL_CARD = wp.card_with_dh_pubkey(wp.build_agent_card(CAROL, "carol"), CAROL)
BOB_PLAIN_CARD = wp.build_agent_card(BOB, "bob")  # before bob publishes a dh_pubkey
NONCE = bytes(range(100, 132))


def _fixed(nonce: bytes = NONCE) -> object:
    return lambda n: nonce[:n]


def _unsigned(body: wp.JSON = "hello bob", *, to: str = BOB_CARD.did) -> wp.JSONObject:
    return wp.build_event(from_did=ALICE_CARD.did, to=to, type="claim", kind=1001, body=body, timestamp=T0)


def _send(body: wp.JSON = "hello bob") -> wp.JSONObject:
    """Alice's send path: seal to Bob's pinned card, then sign."""
    sealed = wp.seal_event(_unsigned(body), own_key=ALICE, peer_card=BOB_CARD)
    return wp.sign_event(sealed, ALICE, ALICE_CARD.did)


def _bob_replies(body: wp.JSON) -> wp.JSONObject:
    """Bob's send path the other way: sealed to Alice's pinned card and signed."""
    unsigned = wp.build_event(from_did=BOB_CARD.did, to=ALICE_CARD.did, type="claim", kind=1, body=body, timestamp=T0)
    return wp.sign_event(wp.seal_event(unsigned, own_key=BOB, peer_card=ALICE_CARD), BOB, BOB_CARD.did)


def _receive(event: wp.JSONObject, *, sender_card: wp.AgentCard = ALICE_CARD) -> wp.OpenedBody:
    """Bob's receive path: verify against trust, then open with the sender's pinned card."""
    verified = wp.verify_event(event, wp.CardTrust([sender_card]))
    return wp.open_event(verified, own_key=BOB, own_did=BOB_CARD.did, sender_card=sender_card)


def _resign(event: wp.JSONObject, **changes: wp.JSON) -> wp.JSONObject:
    """Alice signs a modified copy: the signature is fine, so only the sealing checks stand."""
    unsigned = {k: v for k, v in event.items() if k not in ("event_id", "public_key_id", "signature")}
    unsigned.update(changes)
    return wp.sign_event(unsigned, ALICE, ALICE_CARD.did)


def _payload_with(padded: bytes, *, event: wp.JSONObject) -> str:
    """A payload whose MAC is valid for Alice → Bob but whose decrypted buffer is ``padded``."""
    conv_key = _seal.conversation_key(ALICE.seed, wp.card_dh_public(BOB_CARD) or b"")
    keys = _seal.message_keys(conv_key, NONCE, str(event["from"]), str(event["to"]))
    ciphertext = _seal._chacha20(keys, padded)
    mac = hmac.digest(keys.hmac_key, NONCE + ciphertext, "sha256")
    return base64.b64encode(b"\x02" + NONCE + ciphertext + mac).decode("ascii")


@pytest.mark.parametrize(
    "body",
    ["hello bob", 'Grüße 🎉 \u2028 \x00 "q" \\', {"n": 1, "f": 0.1, "big": 1e16, "nested": [None, True]}, [], 0],
    ids=["ascii", "unicode", "object-with-floats", "empty-list", "zero"],
)
def test_round_trip_between_two_python_agents(body: wp.JSON) -> None:
    event = _send(body)
    assert event["enc"] == "wire-x25519.v1"
    assert set(event["body"]) == {"ct"}  # type: ignore[arg-type]
    opened = _receive(event)
    assert opened == wp.OpenedBody(body=body, sealed=True, downgraded=False)


def test_reply_uses_the_same_conversation_key_and_opens_the_other_way() -> None:
    verified = wp.verify_event(_bob_replies("hi alice"), wp.CardTrust([BOB_CARD]))
    assert wp.open_body(verified, own_key=ALICE, own_did=ALICE_CARD.did, sender_card=BOB_CARD) == "hi alice"


def test_the_relay_sees_no_plaintext_and_fresh_nonces_give_fresh_ciphertexts() -> None:
    first, second = _send("the secret plan"), _send("the secret plan")
    assert b"secret" not in wp.compact_json(first)
    assert first["body"] != second["body"]
    assert {k: v for k, v in first.items() if k not in ("body", "event_id", "signature")} == {
        k: v for k, v in second.items() if k not in ("body", "event_id", "signature")
    }


def test_tampered_ciphertext_breaks_the_signature_and_the_mac() -> None:
    event = _send()
    raw = bytearray(base64.b64decode(event["body"]["ct"]))  # type: ignore[index,call-overload]
    raw[40] ^= 1
    tampered_ct = base64.b64encode(bytes(raw)).decode("ascii")
    forged = {**event, "body": {"ct": tampered_ct}}
    with pytest.raises(wp.VerificationError):
        wp.verify_event(forged, wp.CardTrust([ALICE_CARD]))
    with pytest.raises(wp.SealedMacError):
        _receive(_resign(event, body={"ct": tampered_ct}))


def test_sealed_to_the_wrong_key_fails_the_mac_for_the_addressee() -> None:
    # Alice's pin of Bob carries Carol's dh_pubkey (a stale or substituted pin): Bob cannot open it
    substituted = wp.AgentCard(
        data={**BOB_CARD.data, "dh_pubkey": CAROL_CARD.dh_pubkey},
        did=BOB_CARD.did,
        handle="bob",
        public_key=BOB.public_key,
        key_id=BOB_CARD.key_id,
    )
    with pytest.raises(wp.SealingKeyError):  # our stricter check catches it before sealing
        wp.seal_event(_unsigned(), own_key=ALICE, peer_card=substituted)
    conv_key = _seal.conversation_key(ALICE.seed, wp.card_dh_public(CAROL_CARD) or b"")
    body = {"ct": _seal.seal_payload(conv_key, b'"hi"', ALICE_CARD.did, BOB_CARD.did, NONCE)}
    with pytest.raises(wp.SealedMacError):
        _receive(wp.sign_event({**_unsigned(), "enc": "wire-x25519.v1", "body": body}, ALICE, ALICE_CARD.did))


def test_to_must_be_our_own_did() -> None:
    for other in (CAROL_CARD.did, "did:wire:bob", BOB_CARD.did + " "):
        with pytest.raises(wp.SealedRecipientError):
            _receive(_resign(_send(), to=other))


def test_sender_card_must_be_the_card_of_from() -> None:
    event = _send()
    verified = wp.verify_event(event, wp.CardTrust([ALICE_CARD]))
    with pytest.raises(wp.SealedSenderError):
        wp.open_event(verified, own_key=BOB, own_did=BOB_CARD.did, sender_card=CAROL_CARD)


def test_own_did_must_belong_to_own_key() -> None:
    verified = wp.verify_event(_send(), wp.CardTrust([ALICE_CARD]))
    with pytest.raises(wp.SealingKeyError):
        wp.open_event(verified, own_key=CAROL, own_did=BOB_CARD.did, sender_card=ALICE_CARD)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"enc": "wire-x25519.v2"}, wp.UnsupportedSealError),
        ({"enc": None}, wp.UnsupportedSealError),
        ({"body": "plain text under an enc marker"}, wp.SealedFormatError),
        ({"body": {"ct": 7}}, wp.SealedFormatError),
        ({"body": {"ct": "", "extra": 1}}, wp.SealedFormatError),
        ({"body": {"ct": "#future-encoding"}}, wp.UnsupportedSealError),
        ({"body": {"ct": "A" * (_seal.MAX_PAYLOAD_CHARS + 4)}}, wp.SealedFormatError),
        ({"body": {"ct": "not base64!"}}, wp.SealedFormatError),
        ({"body": {"ct": "AA" * 70 + "B="}}, wp.SealedFormatError),  # stray bits: not canonical base64
        ({"body": {"ct": base64.b64encode(b"\x02" * 98).decode()}}, wp.SealedFormatError),  # too short
        ({"body": {"ct": base64.b64encode(b"\x01" * 99).decode()}}, wp.UnsupportedSealError),  # version 1
    ],
    ids=["enc-v2", "enc-null", "body-string", "ct-number", "extra-member", "hash-prefix", "too-long",
         "bad-base64", "non-canonical-base64", "too-short", "wrong-version"],
)  # fmt: skip
def test_malformed_sealed_events_are_rejected_with_their_own_error(
    changes: dict[str, wp.JSON], error: type[wp.SealError]
) -> None:
    with pytest.raises(error):
        _receive(_resign(_send(), **changes))


def test_nonzero_padding_is_rejected_although_the_mac_is_valid() -> None:
    event = _send()
    padded = bytearray(_seal.pad(b'"hello bob"'))
    padded[-1] = 0x01  # a zero byte of padding turned into a covert channel
    with pytest.raises(wp.SealedPaddingError) as caught:
        _receive(_resign(event, body={"ct": _payload_with(bytes(padded), event=event)}))
    assert "non-zero padding" in caught.value.message


@pytest.mark.parametrize(
    "padded",
    [b"\x00\x00" + bytes(32), b"\x00\x21" + b"x" * 32 + bytes(0), b"\x00\x05" + b"hello" + bytes(59)],
    ids=["zero-length", "length-beyond-buffer", "bucket-too-big"],
)
def test_bad_length_prefix_is_rejected(padded: bytes) -> None:
    event = _send()
    with pytest.raises(wp.SealedPaddingError):
        _receive(_resign(event, body={"ct": _payload_with(padded, event=event)}))


@pytest.mark.parametrize("plaintext", [b"\xff\xfe", b"{not json", b"NaN"], ids=["not-utf8", "not-json", "nan"])
def test_plaintext_that_is_not_utf8_json_is_rejected(plaintext: bytes) -> None:
    event = _send()
    with pytest.raises(wp.SealedPlaintextError):
        _receive(_resign(event, body={"ct": _payload_with(_seal.pad(plaintext), event=event)}))


def test_sealed_body_from_a_sender_whose_pin_has_no_dh_pubkey() -> None:
    verified = wp.verify_event(_bob_replies("x"), wp.CardTrust([BOB_PLAIN_CARD]))
    with pytest.raises(wp.SealingKeyError) as caught:
        wp.open_event(verified, own_key=ALICE, own_did=ALICE_CARD.did, sender_card=BOB_PLAIN_CARD)
    assert "re-introduce" in caught.value.message


def test_plaintext_events_pass_through_and_downgrade_is_flagged() -> None:
    plain = wp.sign_event(_unsigned("in the clear"), ALICE, ALICE_CARD.did)
    assert _receive(plain) == wp.OpenedBody(body="in the clear", sealed=False, downgraded=True)
    legacy_alice = wp.build_agent_card(ALICE, "alice")
    assert _receive(plain, sender_card=legacy_alice).downgraded is False


# --------------------------------------------------------------------------- cards and dh_pubkey


def test_card_dh_public_is_none_without_a_dh_pubkey() -> None:
    assert BOB_PLAIN_CARD.dh_pubkey is None
    assert wp.card_dh_public(BOB_PLAIN_CARD) is None


@pytest.mark.parametrize(
    "value",
    ["AAAA", 12, None, "not base64", base64.b64encode(bytes(32)).decode()],
    ids=["short", "number", "null", "garbage", "all-zero"],
)
def test_malformed_dh_pubkey_is_an_error_not_a_plaintext_fallback(value: wp.JSON) -> None:
    card = wp.build_agent_card(ALICE, "alice", extra={"dh_pubkey": value})  # self-signed, verifies
    with pytest.raises(wp.SealingKeyError):
        wp.card_dh_public(card)
    with pytest.raises(wp.SealingKeyError):
        wp.seal_event(
            wp.build_event(from_did=BOB_CARD.did, to=card.did, type="claim", kind=1001, body="x", timestamp=T0),
            own_key=BOB,
            peer_card=card,
        )


def test_dh_pubkey_of_another_key_is_refused_although_the_card_signature_is_valid() -> None:
    card = wp.build_agent_card(ALICE, "alice", extra={"dh_pubkey": CAROL_CARD.dh_pubkey})
    assert wp.verify_card(card.to_json()).did == ALICE_CARD.did
    with pytest.raises(wp.SealingKeyError) as caught:
        wp.card_dh_public(card)
    assert caught.value.code == "bad_dh_pubkey"
    assert "does not belong to its Ed25519 key" in caught.value.message


def test_card_with_dh_pubkey_is_signed_and_only_by_its_owner() -> None:
    assert wp.verify_card(ALICE_CARD.to_json()).dh_pubkey == wp.own_dh_pubkey(ALICE)
    assert ALICE_CARD.schema_version == "v3.1"  # v0.9.3 peers keep accepting it
    with pytest.raises(wp.SealingKeyError):
        wp.card_with_dh_pubkey(ALICE_CARD, BOB)


def test_low_order_peer_key_is_refused() -> None:
    for point in (bytes(32), (1).to_bytes(32, "little")):
        with pytest.raises(wp.SealingKeyError):
            _seal.conversation_key(ALICE.seed, point)
    with pytest.raises(wp.SealingKeyError):  # the Ed25519 identity point maps to no X25519 key
        _seal.dh_public_from_ed25519((1).to_bytes(32, "little"))


def test_conversation_keys_are_cached_by_the_exact_key_bytes_of_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    derived: list[tuple[bytes, bytes]] = []
    real = _seal._derive_conversation_key

    def counting(seed: bytes, peer: bytes) -> bytes:
        derived.append((seed, peer))
        return real(seed, peer)

    monkeypatch.setattr(_seal, "_derive_conversation_key", counting)
    monkeypatch.setattr(_seal, "_CONVERSATION_KEYS", {})
    bob_dh, carol_dh = wp.card_dh_public(BOB_CARD) or b"", wp.card_dh_public(CAROL_CARD) or b""
    first = _seal.conversation_key(ALICE.seed, bob_dh)
    assert _seal.conversation_key(ALICE.seed, bob_dh) == first
    assert len(derived) == 1
    assert _seal.conversation_key(ALICE.seed, carol_dh) != first  # another peer key: another entry
    assert _seal.conversation_key(CAROL.seed, bob_dh) != first  # another own key: another entry
    assert len(derived) == 3
    assert _seal.conversation_key(BOB.seed, wp.card_dh_public(ALICE_CARD) or b"") == first  # both directions agree
    for _ in range(2):  # a refused key is refused every time, never remembered
        with pytest.raises(wp.SealingKeyError):
            _seal.conversation_key(ALICE.seed, bytes(32))
    assert len(_seal._CONVERSATION_KEYS) == 4
    for n in range(_seal._MAX_CONVERSATION_KEYS + 5):  # bounded
        _seal.conversation_key(bytes([n % 256, n // 256]) + bytes(30), bob_dh)
    assert len(_seal._CONVERSATION_KEYS) == _seal._MAX_CONVERSATION_KEYS


# --------------------------------------------------------------------------- sending


def test_send_refuses_to_seal_to_a_peer_without_dh_pubkey() -> None:
    with pytest.raises(wp.SealingKeyError) as caught:
        wp.seal_event(_unsigned(), own_key=ALICE, peer_card=BOB_PLAIN_CARD)
    assert "send in the clear" in caught.value.message


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (_unsigned(to="did:wire:bob"), wp.SealedRecipientError),
        ({**_unsigned(), "from": CAROL_CARD.did}, wp.SealedSenderError),
        ({**_unsigned(), "enc": "wire-x25519.v1"}, wp.SealedFormatError),
        (wp.sign_event(_unsigned(), ALICE, ALICE_CARD.did), wp.SealedFormatError),
        ({k: v for k, v in _unsigned().items() if k != "body"}, wp.SealedFormatError),
        (_unsigned("lone \ud800 surrogate"), wp.SealedPlaintextError),
    ],
    ids=["bare-to", "foreign-from", "already-sealed", "already-signed", "no-body", "unencodable-body"],
)
def test_seal_event_refuses_what_it_cannot_seal_correctly(event: wp.JSONObject, error: type[wp.SealError]) -> None:
    with pytest.raises(error):
        wp.seal_event(event, own_key=ALICE, peer_card=BOB_CARD)


def test_size_limit_is_on_the_json_text_and_the_largest_sealed_event_fits_the_relay() -> None:
    largest = "é" * ((wp.MAX_SEALED_PLAINTEXT_BYTES - 3) // 2)  # 2 bytes each in UTF-8, plus quotes
    event = wp.sign_event(wp.seal_event(_unsigned(largest), own_key=ALICE, peer_card=BOB_CARD), ALICE, ALICE_CARD.did)
    assert len(wp.compact_json(event)) < wp.MAX_EVENT_BYTES
    assert _receive(event).body == largest
    with pytest.raises(wp.SealTooLargeError):
        wp.seal_event(_unsigned(largest + "é"), own_key=ALICE, peer_card=BOB_CARD)
    with pytest.raises(wp.SealTooLargeError):
        _seal.pad(b"")


@pytest.mark.parametrize(
    ("length", "padded", "raw", "b64"),
    [(1, 32, 99, 132), (32, 32, 99, 132), (33, 64, 131, 176), (64, 64, 131, 176), (129, 160, 227, 304),
     (257, 320, 387, 516), (320, 320, 387, 516), (513, 640, 707, 944), (4097, 5120, 5187, 6916),
     (65_535, 65_536, 65_603, 87_472)],
)  # fmt: skip
def test_padding_buckets(length: int, padded: int, raw: int, b64: int) -> None:
    assert _seal.padded_length(length) == padded
    conv_key = bytes(32)
    payload = _seal.seal_payload(conv_key, b"x" * length, "a", "b", NONCE)
    assert len(base64.b64decode(payload)) == raw
    assert len(payload) == b64
    assert _seal.open_payload(conv_key, payload, "a", "b") == b"x" * length


def test_nonce_must_be_32_bytes() -> None:
    with pytest.raises(wp.SealedFormatError):
        _seal.seal_payload(bytes(32), b"1", "a", "b", b"short")
    with pytest.raises(wp.SealedFormatError):
        wp.seal_event(_unsigned(), own_key=ALICE, peer_card=BOB_CARD, random_bytes=lambda n: b"\0" * (n - 1))


# --------------------------------------------------------------------------- hygiene


def test_nothing_secret_or_private_in_reprs_and_messages() -> None:
    event = _send("the secret plan")
    opened = _receive(event)
    keys = _seal.message_keys(bytes(32), NONCE, "a", "b")
    assert "secret" not in repr(opened)
    assert keys.hmac_key.hex() not in repr(keys)
    with pytest.raises(wp.SealError) as caught:
        _receive(_resign(event, to=CAROL_CARD.did))
    assert "secret" not in str(caught.value)


def test_error_tree() -> None:
    errors = [wp.SealTooLargeError, wp.SealingKeyError, wp.UnsupportedSealError, wp.SealedFormatError,
              wp.SealedRecipientError, wp.SealedSenderError, wp.SealedMacError, wp.SealedPaddingError,
              wp.SealedPlaintextError]  # fmt: skip
    assert all(issubclass(e, wp.SealError) and issubclass(e, wp.WireError) for e in errors)
    assert issubclass(wp.SealError, ValueError)
    assert len({e.code for e in errors}) == len(errors)
