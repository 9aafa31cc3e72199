# SPDX-License-Identifier: Apache-2.0
"""Ed25519 keys, fingerprints and key ids."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from wire_protocol.errors import KeyFormatError

__all__ = [
    "SigningKey",
    "b64decode_exact",
    "b64encode",
    "fingerprint",
    "make_key_id",
    "verify_signature",
]


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (every base64 field except the invite URL)."""
    return base64.b64encode(data).decode("ascii")


def b64decode_exact(text: object, length: int | None = None, *, what: str = "value") -> bytes:
    """Decode strict standard base64; optionally require an exact decoded length."""
    if not isinstance(text, str):
        raise KeyFormatError(f"{what} must be a base64 string")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise KeyFormatError(f"{what} is not valid base64") from exc
    if base64.b64encode(data).decode("ascii") != text:  # non-zero trailing bits: another spelling of the same bytes
        raise KeyFormatError(f"{what} is not canonical base64")
    if length is not None and len(data) != length:
        raise KeyFormatError(f"{what} must decode to {length} bytes, got {len(data)}")
    return data


def fingerprint(public_key: bytes) -> str:
    """First 4 bytes of SHA-256(public key) as 8 lowercase hex characters."""
    return hashlib.sha256(public_key).hexdigest()[:8]


def make_key_id(handle: str, public_key: bytes) -> str:
    """``<handle>:<fingerprint>``, the id of a key in events and trust records."""
    return f"{handle}:{fingerprint(public_key)}"


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Ed25519 verification that never raises for a wrong signature."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key held as its 32-byte seed."""

    seed: bytes = field(repr=False)
    _private: Ed25519PrivateKey = field(init=False, repr=False, compare=False)
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise KeyFormatError("an Ed25519 seed must be exactly 32 bytes")
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        object.__setattr__(self, "_private", private)
        object.__setattr__(self, "public_key", private.public_key().public_bytes_raw())

    @classmethod
    def generate(cls, random_bytes: Callable[[int], bytes] = os.urandom) -> SigningKey:
        """A fresh key; pass ``random_bytes`` to make generation deterministic in tests."""
        return cls(random_bytes(32))

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    @property
    def public_key_b64(self) -> str:
        return b64encode(self.public_key)

    def key_id(self, handle: str) -> str:
        return make_key_id(handle, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)
