# SPDX-License-Identifier: Apache-2.0
"""wire-x25519.v1 primitives: X25519 keys from the Ed25519 seed, conversation and message keys,
padding, ChaCha20 + HMAC-SHA256 and the base64 payload (docs/PROTOCOL.md §14).

Byte-compatible with the reference v0.16 (tests/vectors/x25519-v1.json). Stricter in one place:
padding bytes must be zero. The event-level API (``seal_event``, ``open_event``) is in ``_sealed``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from wire_protocol.errors import (
    SealedFormatError,
    SealedMacError,
    SealedPaddingError,
    SealingKeyError,
    SealTooLargeError,
    UnsupportedSealError,
)

__all__ = [
    "DH_KEY_BYTES",
    "MAX_PAYLOAD_CHARS",
    "MAX_PAYLOAD_RAW_BYTES",
    "MAX_SEALED_PLAINTEXT_BYTES",
    "MIN_PAYLOAD_RAW_BYTES",
    "PAYLOAD_VERSION",
    "SEAL_NONCE_BYTES",
    "MessageKeys",
    "conversation_key",
    "dh_public_from_ed25519",
    "dh_public_key",
    "message_keys",
    "open_payload",
    "pad",
    "padded_length",
    "seal_payload",
    "unpad",
    "x25519_scalar",
]

SEAL_NONCE_BYTES = 32
DH_KEY_BYTES = 32
PAYLOAD_VERSION = 0x02
MAX_SEALED_PLAINTEXT_BYTES = 65_535
_MAC_BYTES = 32
_KDF_SALT = b"wire-x25519-v1"  # hyphen before v1, unlike the enc value
_OKM_BYTES = 76
MIN_PAYLOAD_RAW_BYTES = 1 + SEAL_NONCE_BYTES + 2 + 32 + _MAC_BYTES  # 99
MAX_PAYLOAD_RAW_BYTES = 1 + SEAL_NONCE_BYTES + 2 + 65_536 + _MAC_BYTES  # 65,603
MAX_PAYLOAD_CHARS = MAX_PAYLOAD_RAW_BYTES * 4 // 3 + 4  # 87,474: checked before decoding
_P25519 = 2**255 - 19


def x25519_scalar(seed: bytes) -> bytes:
    """The X25519 secret of an identity: SHA-512(Ed25519 seed)[:32], clamped (Ed25519's own scalar)."""
    if len(seed) != 32:
        raise SealingKeyError("an Ed25519 seed must be exactly 32 bytes")
    scalar = bytearray(hashlib.sha512(seed).digest()[:32])
    scalar[0] &= 0xF8
    scalar[31] &= 0x7F
    scalar[31] |= 0x40
    return bytes(scalar)


def dh_public_key(seed: bytes) -> bytes:
    """The 32-byte X25519 public key (``dh_pubkey`` before base64) of the identity with ``seed``."""
    return X25519PrivateKey.from_private_bytes(x25519_scalar(seed)).public_key().public_bytes_raw()


@functools.lru_cache(maxsize=1024)
def dh_public_from_ed25519(ed25519_public: bytes) -> bytes:
    """The X25519 public key an Ed25519 public key implies: u = (1 + y) / (1 − y) mod 2^255 − 19.

    Used to check that a card's ``dh_pubkey`` belongs to the card's own key; never used instead of
    reading ``dh_pubkey`` (its presence is what switches sealing on). A pure function of the exact
    key bytes, so results are memoised (a refusal raises every time and is never cached).
    """
    if len(ed25519_public) != 32:
        raise SealingKeyError("an Ed25519 public key must be exactly 32 bytes")
    y = int.from_bytes(ed25519_public, "little") & ((1 << 255) - 1)
    denominator = (1 - y) % _P25519
    if denominator == 0:  # y = 1 is the identity point: no X25519 key corresponds to it
        raise SealingKeyError("this Ed25519 key has no X25519 counterpart")
    u = (1 + y) * pow(denominator, -1, _P25519) % _P25519
    return u.to_bytes(32, "little")


def conversation_key(own_seed: bytes, peer_dh_public: bytes) -> bytes:
    """HMAC-SHA256(key="wire-x25519-v1", X25519(own scalar, peer key)); the same in both directions."""
    if len(peer_dh_public) != DH_KEY_BYTES:
        raise SealingKeyError(f"a dh_pubkey must be {DH_KEY_BYTES} bytes")
    exact = (bytes(own_seed), bytes(peer_dh_public))
    cached = _CONVERSATION_KEYS.get(exact)
    if cached is not None:
        return cached
    key = _derive_conversation_key(own_seed, peer_dh_public)
    if len(_CONVERSATION_KEYS) >= _MAX_CONVERSATION_KEYS:
        _CONVERSATION_KEYS.pop(next(iter(_CONVERSATION_KEYS)))
    _CONVERSATION_KEYS[exact] = key
    return key


#: conversation keys by the exact key bytes of both sides (our seed, the peer's X25519 key), never by
#: a name: a burst to or from one peer does the X25519 exchange once, not once per event. Only keys
#: that were derived successfully are kept; a refused peer key is refused again on every call.
_CONVERSATION_KEYS: dict[tuple[bytes, bytes], bytes] = {}
_MAX_CONVERSATION_KEYS = 256


def _derive_conversation_key(own_seed: bytes, peer_dh_public: bytes) -> bytes:
    own = X25519PrivateKey.from_private_bytes(x25519_scalar(own_seed))
    try:
        shared = own.exchange(X25519PublicKey.from_public_bytes(peer_dh_public))
    except ValueError as exc:  # OpenSSL refuses low-order points (an all-zero shared secret)
        raise SealingKeyError("the peer's dh_pubkey is a low-order point; refusing it") from exc
    if not any(shared):
        raise SealingKeyError("the peer's dh_pubkey is a low-order point; refusing it")
    return hmac.digest(_KDF_SALT, shared, "sha256")


class MessageKeys:
    """The three per-message keys: HKDF-Expand(conversation key, nonce ‖ from ‖ to, 76 bytes)."""

    __slots__ = ("chacha_key", "chacha_nonce", "hmac_key")

    def __init__(self, okm: bytes) -> None:
        self.chacha_key = okm[0:32]
        self.chacha_nonce = okm[32:44]
        self.hmac_key = okm[44:76]

    def __repr__(self) -> str:
        return "MessageKeys(<secret>)"


def context_info(nonce: bytes, from_did: str, to: str) -> bytes:
    """``nonce ‖ be16(len from) ‖ from ‖ be16(len to) ‖ to``: binds the keys to the direction."""
    sender, recipient = from_did.encode("utf-8"), to.encode("utf-8")
    if len(sender) > 0xFFFF or len(recipient) > 0xFFFF:
        raise SealedFormatError("from/to are too long to be bound into a sealed body")
    return nonce + len(sender).to_bytes(2, "big") + sender + len(recipient).to_bytes(2, "big") + recipient


def message_keys(conv_key: bytes, nonce: bytes, from_did: str, to: str) -> MessageKeys:
    """HKDF-Expand (RFC 5869, SHA-256) written out: three HMAC blocks give the 76 bytes."""
    info = context_info(nonce, from_did, to)
    block = b""
    okm = b""
    for counter in range(1, 4):  # ceil(76 / 32) blocks
        block = hmac.digest(conv_key, block + info + bytes([counter]), "sha256")
        okm += block
    return MessageKeys(okm[:_OKM_BYTES])


def padded_length(length: int) -> int:
    """Bucket size for a plaintext of ``length`` bytes: 32, then chunks of 32 up to 256, then p/8."""
    if length <= 32:
        return 32
    next_power = 1 << (length - 1).bit_length()
    chunk = 32 if next_power <= 256 else next_power // 8
    return chunk * ((length - 1) // chunk + 1)


def pad(plaintext: bytes) -> bytes:
    """``be16(len) ‖ plaintext ‖ zeros`` up to ``2 + padded_length(len)`` bytes."""
    if not 1 <= len(plaintext) <= MAX_SEALED_PLAINTEXT_BYTES:
        raise SealTooLargeError(
            f"a sealed body must be 1 to {MAX_SEALED_PLAINTEXT_BYTES:,} bytes of JSON, this one is "
            f"{len(plaintext):,}; nothing was sent. Send a smaller body (for instance a link to the data)"
        )
    total = 2 + padded_length(len(plaintext))
    return (len(plaintext).to_bytes(2, "big") + plaintext).ljust(total, b"\0")


def unpad(buffer: bytes) -> bytes:
    """Inverse of :func:`pad`; the length must fit its bucket exactly and every padding byte be zero."""
    if len(buffer) < 2:
        raise SealedPaddingError("sealed plaintext is shorter than its length prefix")
    length = int.from_bytes(buffer[:2], "big")
    if length == 0 or len(buffer) != 2 + padded_length(length):
        raise SealedPaddingError("sealed plaintext length prefix does not match the padded size")
    if any(buffer[2 + length :]):
        raise SealedPaddingError("sealed plaintext has non-zero padding bytes")
    return buffer[2 : 2 + length]


def _chacha20(keys: MessageKeys, data: bytes) -> bytes:
    # cryptography's 16-byte ChaCha20 nonce is a little-endian block counter (0) then the 12-byte nonce
    cipher = Cipher(algorithms.ChaCha20(keys.chacha_key, b"\0\0\0\0" + keys.chacha_nonce), mode=None)
    encryptor = cipher.encryptor()
    return encryptor.update(data) + encryptor.finalize()


def seal_payload(conv_key: bytes, plaintext: bytes, from_did: str, to: str, nonce: bytes) -> str:
    """base64(0x02 ‖ nonce ‖ ChaCha20(pad(plaintext)) ‖ HMAC-SHA256(nonce ‖ ct)) for one direction."""
    if len(nonce) != SEAL_NONCE_BYTES:
        raise SealedFormatError(f"the seal nonce must be {SEAL_NONCE_BYTES} random bytes")
    padded = pad(plaintext)
    keys = message_keys(conv_key, nonce, from_did, to)
    ciphertext = _chacha20(keys, padded)
    mac = hmac.digest(keys.hmac_key, nonce + ciphertext, "sha256")
    return base64.b64encode(bytes([PAYLOAD_VERSION]) + nonce + ciphertext + mac).decode("ascii")


def open_payload(conv_key: bytes, payload: object, from_did: str, to: str) -> bytes:
    """Check, authenticate and decrypt a payload; returns the plaintext bytes (JSON text).

    Order: encoding marker, length cap before decoding, strict base64, raw length, version byte,
    MAC in constant time; only then decrypt and unpad.
    """
    if not isinstance(payload, str):
        raise SealedFormatError("sealed body 'ct' must be a string")
    if payload.startswith("#"):
        raise UnsupportedSealError("sealed payload uses an encoding this build does not support")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise SealedFormatError(f"sealed payload is longer than {MAX_PAYLOAD_CHARS:,} characters")
    try:
        raw = base64.b64decode(payload.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise SealedFormatError("sealed payload is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != payload:
        raise SealedFormatError("sealed payload is not canonical base64")
    if not MIN_PAYLOAD_RAW_BYTES <= len(raw) <= MAX_PAYLOAD_RAW_BYTES:
        raise SealedFormatError(
            f"sealed payload is {len(raw)} bytes; expected {MIN_PAYLOAD_RAW_BYTES} to {MAX_PAYLOAD_RAW_BYTES}"
        )
    if raw[0] != PAYLOAD_VERSION:
        raise UnsupportedSealError(f"sealed payload version {raw[0]} is not supported (expected 2)")
    nonce, ciphertext, mac = raw[1 : 1 + SEAL_NONCE_BYTES], raw[1 + SEAL_NONCE_BYTES : -_MAC_BYTES], raw[-_MAC_BYTES:]
    keys = message_keys(conv_key, nonce, from_did, to)
    if not hmac.compare_digest(hmac.digest(keys.hmac_key, nonce + ciphertext, "sha256"), mac):
        raise SealedMacError(
            "sealed body does not authenticate: tampered, re-addressed, or sealed to a key we do not hold"
        )
    return unpad(_chacha20(keys, ciphertext))
