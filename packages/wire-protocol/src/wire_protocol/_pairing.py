# SPDX-License-Identifier: Apache-2.0
"""SPAKE2 + SAS code-phrase pairing math (reference §4a).

Code phrases, the SPAKE2 exchange, the short authentication string (SAS) and the sealed bootstrap
blob the two sides swap once the SAS is confirmed. Randomness is always injectable; a SPAKE2
session is fully determined by ``(code, seed)`` so a detached pairing can resume after a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wire_protocol._canonical import compact_json, loads
from wire_protocol._card import AgentCard, verify_card
from wire_protocol.errors import CanonicalizationError, CardError, PairingError, SasMismatchError

if TYPE_CHECKING:
    from spake2 import SPAKE2_Symmetric

# spake2 (and its pure-Python group tables) loads on first use: most processes that import
# wire_protocol never run a code-phrase exchange.

__all__ = [
    "BOOTSTRAP_NONCE_BYTES",
    "CODE_ALPHABET",
    "SPAKE2_MESSAGE_BYTES",
    "BootstrapPayload",
    "Spake2Session",
    "bootstrap_key",
    "build_bootstrap_payload",
    "code_hash",
    "compute_sas",
    "confirm_sas",
    "format_sas",
    "generate_code_phrase",
    "open_bootstrap",
    "parse_bootstrap_payload",
    "parse_code_phrase",
    "seal_bootstrap",
]

CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#: ``0x53`` ('S', the symmetric side byte) followed by a 32-byte compressed Edwards point
SPAKE2_MESSAGE_BYTES = 33
BOOTSTRAP_NONCE_BYTES = 12
_SPAKE2_SIDE = b"S"
_SEED_BYTES = 32
_KEY_BYTES = 32
_TAG_BYTES = 16

_CODE_RE = re.compile(r"[0-9]{2}-[A-Z2-7]{6}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_CODE_HASH_PREFIX = b"wire/v1 code-phrase"
_SAS_PREFIX = b"wire/v1 sas"
_BOOTSTRAP_INFO = b"wire/v1 bootstrap-aead"
_SEED_STREAM_PREFIX = b"wire/v1 spake2-seed"


# --------------------------------------------------------------------------- code phrases


def generate_code_phrase(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A fresh ``NN-XXXXXX`` code phrase, every value equally likely."""
    while True:  # rejection sampling: 200 is the largest multiple of 100 below 256
        byte = random_bytes(1)[0]
        if byte < 200:
            number = byte % 100
            break
    letters = "".join(CODE_ALPHABET[b & 0x1F] for b in random_bytes(6))  # 32 divides 256: no bias
    return f"{number:02d}-{letters}"


def parse_code_phrase(text: object) -> str:
    """Trim whitespace and require exactly ``NN-XXXXXX`` (uppercase base32 letters)."""
    if not isinstance(text, str):
        raise PairingError("a code phrase must be a string like 12-ABCDEF", code="bad_code_phrase")
    code = text.strip()
    if not _CODE_RE.fullmatch(code):
        raise PairingError(
            f"{code!r} is not a code phrase: expected 2 digits, '-', then 6 characters of A-Z or 2-7 "
            "(uppercase), e.g. 12-ABCDEF",
            code="bad_code_phrase",
        )
    return code


def code_hash(code: str) -> str:
    """hex(SHA-256(b"wire/v1 code-phrase" || code)): the relay's lookup key and the SPAKE2 identity."""
    return hashlib.sha256(_CODE_HASH_PREFIX + parse_code_phrase(code).encode("ascii")).hexdigest()


# --------------------------------------------------------------------------- SPAKE2


class _SeededStream:
    """Deterministic entropy: successive reads of SHAKE-256(prefix || seed)."""

    def __init__(self, seed: bytes) -> None:
        self._xof = hashlib.shake_256(_SEED_STREAM_PREFIX + seed)
        self._offset = 0

    def __call__(self, count: int) -> bytes:
        end = self._offset + count
        out = self._xof.digest(end)[self._offset :]
        self._offset = end
        return out


@dataclass(frozen=True, slots=True)
class Spake2Session:
    """One side of the symmetric SPAKE2 exchange, fully determined by ``(code, seed)``.

    The seed is as secret as the code: persist both (never share them) to resume after a
    restart with :meth:`from_seed`. The session holds no mutable state, so :meth:`finish` can be
    called again after a resume; call it only with the first peer message the relay returned.
    """

    code: str = field(repr=False)
    seed: bytes = field(repr=False)
    code_hash: str = field(init=False)
    message: bytes = field(init=False)

    def __post_init__(self) -> None:
        code = parse_code_phrase(self.code)
        if len(self.seed) != _SEED_BYTES:
            raise PairingError("a SPAKE2 session seed must be exactly 32 bytes", code="bad_spake2_seed")
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "code_hash", code_hash(code))
        outbound = self._spake().start()
        if len(outbound) != SPAKE2_MESSAGE_BYTES or outbound[:1] != _SPAKE2_SIDE:
            raise PairingError("spake2 produced an unexpected message shape", code="spake2_internal")
        object.__setattr__(self, "message", bytes(outbound))

    @classmethod
    def start(cls, code: str, random_bytes: Callable[[int], bytes] = os.urandom) -> tuple[Spake2Session, bytes]:
        """Begin a session with a fresh seed; returns it and the 33-byte message to post."""
        seed = random_bytes(_SEED_BYTES)
        session = cls(code, seed)
        return session, session.message

    @classmethod
    def from_seed(cls, code: str, seed: bytes) -> Spake2Session:
        """Rebuild a stored session; it re-derives exactly the same outbound message."""
        return cls(code, seed)

    def finish(self, peer_msg: bytes) -> bytes:
        """Derive the 32-byte shared key K from the peer's 33-byte message."""
        if len(peer_msg) != SPAKE2_MESSAGE_BYTES:
            raise PairingError(
                f"peer SPAKE2 message must be {SPAKE2_MESSAGE_BYTES} bytes, got {len(peer_msg)}",
                code="spake2_bad_message",
            )
        peer = bytes(peer_msg)
        if peer[:1] != _SPAKE2_SIDE:
            raise PairingError(
                f"peer SPAKE2 message must start with 0x53 ('S', symmetric side), got 0x{peer[0]:02x}",
                code="spake2_bad_message",
            )
        if peer == self.message:
            raise PairingError("peer SPAKE2 message is our own message reflected back", code="spake2_reflection")
        from spake2 import SPAKEError
        from spake2.ed25519_basic import NotOnCurve

        spake = self._spake()
        try:
            spake.start()
            key: bytes = bytes(spake.finish(peer))
        except (SPAKEError, NotOnCurve, ValueError, TypeError, AssertionError) as exc:
            raise PairingError(
                f"peer SPAKE2 message is invalid: {str(exc) or type(exc).__name__}", code="spake2_failed"
            ) from exc
        if len(key) != _KEY_BYTES:
            raise PairingError("spake2 produced a key of unexpected length", code="spake2_internal")
        return key

    def _spake(self) -> SPAKE2_Symmetric:
        from spake2 import SPAKE2_Symmetric

        return SPAKE2_Symmetric(
            password=self.code.encode("ascii"),
            idSymmetric=self.code_hash.encode("ascii"),
            entropy_f=_SeededStream(self.seed),
        )


# --------------------------------------------------------------------------- SAS


def compute_sas(key: bytes) -> str:
    """The 6-digit SAS of a SPAKE2 key: SHA-256(prefix || K || lo || hi), last 4 bytes mod 10^6."""
    if len(key) != _KEY_BYTES:
        raise PairingError("the SAS is computed from a 32-byte SPAKE2 key", code="bad_spake2_key")
    lo, hi = sorted((key[:16], key[16:]))
    digest = hashlib.sha256(_SAS_PREFIX + key + lo + hi).digest()
    return f"{int.from_bytes(digest[28:32], 'big') % 1_000_000:06d}"


def format_sas(digits: str) -> str:
    """``"384217"`` → ``"384-217"`` for display."""
    if len(digits) != 6 or not all(c in "0123456789" for c in digits):
        raise PairingError("a SAS is exactly 6 digits", code="bad_sas")
    return f"{digits[:3]}-{digits[3:]}"


def _digits_only(text: str) -> str:
    return "".join(c for c in text if c in "0123456789")


def confirm_sas(expected: str, typed: str) -> None:
    """Check the digits the operator typed (separators ignored) against the SAS, in constant time."""
    want = _digits_only(expected)
    if len(want) != 6:
        raise PairingError("the expected SAS must be 6 digits", code="bad_sas")
    got = _digits_only(typed)
    if len(got) != 6:
        raise SasMismatchError(
            f"the SAS has exactly 6 digits; {len(got)} were typed. Pairing aborted: start again with a new code phrase."
        )
    if not hmac.compare_digest(want.encode("ascii"), got.encode("ascii")):
        raise SasMismatchError(
            "the digits typed do not match this side's SAS: someone may be intercepting the pairing. "
            "Pairing aborted: start again with a new code phrase."
        )


# --------------------------------------------------------------------------- sealed bootstrap


def bootstrap_key(k: bytes, code_hash_hex: str) -> bytes:
    """HKDF-SHA256(salt = code_hash hex ASCII, ikm = K, info = "wire/v1 bootstrap-aead", 32 bytes)."""
    if len(k) != _KEY_BYTES:
        raise PairingError("the bootstrap key is derived from a 32-byte SPAKE2 key", code="bad_spake2_key")
    if not _HEX64_RE.fullmatch(code_hash_hex):
        raise PairingError("code_hash must be 64 lowercase hex characters (see code_hash())", code="bad_code_hash")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=code_hash_hex.encode("ascii"), info=_BOOTSTRAP_INFO)
    return hkdf.derive(k)


def _aead(key: bytes) -> ChaCha20Poly1305:
    if len(key) != _KEY_BYTES:
        raise PairingError("a bootstrap AEAD key must be 32 bytes", code="bad_bootstrap_key")
    return ChaCha20Poly1305(key)


def seal_bootstrap(key: bytes, plaintext: bytes, nonce: bytes) -> str:
    """ChaCha20-Poly1305 (no AAD) → base64(nonce || ciphertext || tag). Pass 12 fresh random bytes."""
    if len(nonce) != BOOTSTRAP_NONCE_BYTES:
        raise PairingError("a bootstrap nonce must be 12 bytes", code="bad_bootstrap_nonce")
    return base64.b64encode(nonce + _aead(key).encrypt(nonce, plaintext, None)).decode("ascii")


def open_bootstrap(key: bytes, sealed_b64: str) -> bytes:
    """Decrypt a sealed bootstrap blob; any failure is ``PairingError(code="bootstrap_open_failed")``."""
    aead = _aead(key)
    if not isinstance(sealed_b64, str):
        raise PairingError("sealed bootstrap must be a base64 string", code="bootstrap_open_failed")
    try:
        blob = base64.b64decode(sealed_b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise PairingError("sealed bootstrap is not valid base64", code="bootstrap_open_failed") from exc
    if len(blob) < BOOTSTRAP_NONCE_BYTES + _TAG_BYTES:
        raise PairingError(
            f"sealed bootstrap is {len(blob)} bytes; at least 28 (nonce + tag) are needed",
            code="bootstrap_open_failed",
        )
    try:
        return aead.decrypt(blob[:BOOTSTRAP_NONCE_BYTES], blob[BOOTSTRAP_NONCE_BYTES:], None)
    except InvalidTag as exc:
        raise PairingError(
            "sealed bootstrap does not decrypt: it was tampered with, or the two sides derived different "
            "keys (different code phrase)",
            code="bootstrap_open_failed",
        ) from exc


@dataclass(frozen=True, slots=True)
class BootstrapPayload:
    """What a peer sends inside the sealed bootstrap: its card and mailbox coordinates."""

    card: AgentCard
    relay_url: str
    slot_id: str
    slot_token: str = field(repr=False)


def build_bootstrap_payload(card: AgentCard, relay_url: str, slot_id: str, slot_token: str) -> bytes:
    """Compact sorted JSON ``{"card", "relay_url", "slot_id", "slot_token"}`` (the plaintext to seal)."""
    return compact_json({"card": card.data, "relay_url": relay_url, "slot_id": slot_id, "slot_token": slot_token})


def parse_bootstrap_payload(data: bytes, *, require_did_binding: bool = True) -> BootstrapPayload:
    """Parse an opened bootstrap; the card must verify. Missing coordinates become ``""``."""
    try:
        obj = loads(data)
    except CanonicalizationError as exc:
        raise PairingError(f"bootstrap payload is not JSON: {exc.message}", code="bootstrap_malformed") from exc
    if not isinstance(obj, dict):
        raise PairingError("bootstrap payload must be a JSON object", code="bootstrap_malformed")
    if "card" not in obj:
        raise PairingError("bootstrap payload has no card", code="bootstrap_malformed")
    try:
        card = verify_card(obj["card"], require_did_binding=require_did_binding)
    except CardError as exc:
        raise PairingError(f"bootstrap card rejected: {exc.message}", code="bootstrap_bad_card") from exc
    coords: dict[str, str] = {}
    for name in ("relay_url", "slot_id", "slot_token"):
        value = obj.get(name)
        if value is None:
            coords[name] = ""
        elif isinstance(value, str):
            coords[name] = value
        else:
            raise PairingError(f"bootstrap field {name!r} must be a string", code="bootstrap_malformed")
    return BootstrapPayload(card=card, **coords)
