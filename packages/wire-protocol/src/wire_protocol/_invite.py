# SPDX-License-Identifier: Apache-2.0
"""Invite URLs: ``wire://pair?v=1&inv=<payload>.<sig>`` (reference §4b).

The payload is compact JSON in the reference's field order (not sorted), signed byte-for-byte
with the issuer's Ed25519 key. Parsing follows the reference and is stricter in two places: the
payload ``did`` must be the card's DID, and duplicate top-level fields are rejected.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from wire_protocol._canonical import JSONObject, compact_json, loads
from wire_protocol._card import AgentCard, verify_card
from wire_protocol._keys import SigningKey, verify_signature
from wire_protocol.errors import CanonicalizationError, CardError, InviteError, InviteExpiredError

__all__ = [
    "INVITE_URL_PREFIX",
    "INVITE_VERSION",
    "Invite",
    "mint_invite",
    "new_invite_nonce",
    "parse_invite",
]

INVITE_URL_PREFIX = "wire://pair?"
INVITE_VERSION = 1
_U32_MAX = 2**32 - 1
_U64_MAX = 2**64 - 1
_SIGNATURE_BYTES = 64
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
#: field name → JSON type, in the reference's declaration (= serialization) order
_FIELDS: tuple[tuple[str, type], ...] = (
    ("v", int),
    ("did", str),
    ("card", dict),
    ("relay_url", str),
    ("slot_id", str),
    ("slot_token", str),
    ("nonce", str),
    ("exp", int),
)


@dataclass(frozen=True, slots=True)
class Invite:
    """A parsed, signature-checked, unexpired invite."""

    did: str
    card: AgentCard
    relay_url: str
    slot_id: str
    slot_token: str = field(repr=False)
    nonce: str
    exp: int
    payload_bytes: bytes = field(repr=False)


def new_invite_nonce(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """32 random bytes as 64 lowercase hex characters."""
    data = random_bytes(32)
    if len(data) != 32:
        raise InviteError("random_bytes(32) must return 32 bytes", code="invite_bad_nonce")
    return data.hex()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str, what: str) -> bytes:
    """Strict URL-safe base64 without padding (padding, stray characters, non-zero tail bits rejected)."""
    if "=" in text:
        raise InviteError(f"invite {what} has base64 padding ('='); invite URLs use unpadded base64url")
    if not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise InviteError(f"invite {what} is not valid unpadded base64url")
    padded = text + "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(padded, altchars=b"-_", validate=True)
    except binascii.Error as exc:
        raise InviteError(f"invite {what} is not valid unpadded base64url") from exc
    if _b64url(data) != text:
        raise InviteError(f"invite {what} is not canonical base64url (non-zero trailing bits)")
    return data


def _payload_bytes(fields: JSONObject) -> bytes:
    """Compact JSON in ``_FIELDS`` order; each value (the card too) encoded as canonical JSON."""
    parts = [compact_json(name) + b":" + compact_json(fields[name]) for name, _ in _FIELDS]
    return b"{" + b",".join(parts) + b"}"


def mint_invite(
    *,
    key: SigningKey,
    card: AgentCard,
    relay_url: str,
    slot_id: str,
    slot_token: str,
    nonce: str,
    exp: int,
) -> str:
    """Build and sign an invite URL for ``card`` (which ``key`` must have signed)."""
    if key.public_key != card.public_key:
        raise InviteError("the signing key is not the card's key; the invite would not verify", code="invite_bad_key")
    if isinstance(exp, bool) or not 0 <= exp <= _U64_MAX:
        raise InviteError("exp must be a unix time in seconds (unsigned 64-bit)", code="invite_bad_field")
    fields: JSONObject = {
        "v": INVITE_VERSION,
        "did": card.did,
        "card": card.to_json(),
        "relay_url": relay_url,
        "slot_id": slot_id,
        "slot_token": slot_token,
        "nonce": nonce,
        "exp": exp,
    }
    try:
        payload = _payload_bytes(fields)
    except CanonicalizationError as exc:
        raise InviteError(f"invite cannot be encoded: {exc.message}", code="invite_bad_field") from exc
    return f"{INVITE_URL_PREFIX}v=1&inv={_b64url(payload)}.{_b64url(key.sign(payload))}"


def _reject_duplicate_keys(payload: bytes) -> None:
    pairs = json.loads(payload, object_pairs_hook=lambda items: items)
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InviteError(f"invite payload repeats field(s) {', '.join(dupes)}", code="invite_malformed")


@dataclass(frozen=True, slots=True)
class _Fields:
    v: int
    did: str
    card: JSONObject
    relay_url: str
    slot_id: str
    slot_token: str
    nonce: str
    exp: int


def _decode_fields(payload: bytes) -> _Fields:
    """The 8 payload fields with their JSON types checked (extra fields are ignored)."""
    try:
        obj = loads(payload)
    except CanonicalizationError as exc:
        raise InviteError(f"invite payload is not JSON: {exc.message}", code="invite_malformed") from exc
    if not isinstance(obj, dict):
        raise InviteError("invite payload must be a JSON object", code="invite_malformed")
    _reject_duplicate_keys(payload)
    missing = [name for name, _ in _FIELDS if name not in obj]
    if missing:
        raise InviteError(f"invite payload is missing field(s): {', '.join(missing)}", code="invite_missing_field")
    for name, kind in _FIELDS:
        value = obj[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InviteError(f"invite field {name!r} must be a JSON {kind.__name__}", code="invite_bad_field")
    v, exp, card = obj["v"], obj["exp"], obj["card"]
    if not isinstance(v, int) or not 0 <= v <= _U32_MAX:
        raise InviteError("invite field 'v' must be an unsigned 32-bit integer", code="invite_bad_field")
    if not isinstance(exp, int) or not 0 <= exp <= _U64_MAX:
        raise InviteError("invite field 'exp' must be an unsigned 64-bit integer", code="invite_bad_field")
    if not isinstance(card, dict):
        raise InviteError("invite field 'card' must be a JSON object", code="invite_bad_field")
    return _Fields(
        v=v,
        did=str(obj["did"]),
        card=card,
        relay_url=str(obj["relay_url"]),
        slot_id=str(obj["slot_id"]),
        slot_token=str(obj["slot_token"]),
        nonce=str(obj["nonce"]),
        exp=exp,
    )


def parse_invite(url: str, *, now_unix: int) -> Invite:
    """Parse and verify an invite URL at time ``now_unix``.

    Raises :class:`InviteExpiredError` when ``now_unix > exp`` and :class:`InviteError` (with a
    specific ``code``) for anything else wrong.
    """
    if not url.startswith(INVITE_URL_PREFIX):
        raise InviteError("not a wire invite URL: it must start with wire://pair?", code="invite_not_wire_url")
    token: str | None = None
    for part in url.removeprefix(INVITE_URL_PREFIX).split("&"):
        if part.startswith("inv="):
            token = part.removeprefix("inv=")  # the last inv= wins, as in the reference
    if token is None:
        raise InviteError("invite URL has no inv= parameter", code="invite_missing_token")
    payload_b64, sep, sig_b64 = token.partition(".")
    if not sep:
        raise InviteError("invite token has no '.' between payload and signature", code="invite_malformed")
    try:
        payload = _b64url_decode(payload_b64, "payload")
        signature = _b64url_decode(sig_b64, "signature")
    except InviteError as exc:
        raise InviteError(exc.message, code="invite_bad_encoding") from exc
    fields = _decode_fields(payload)
    if fields.v != INVITE_VERSION:
        raise InviteError(
            f"invite version {fields.v} is not supported (this build reads v{INVITE_VERSION})",
            code="invite_unsupported_version",
        )
    if now_unix > fields.exp:
        raise InviteExpiredError(f"invite expired (exp={fields.exp}, now={now_unix}); ask for a fresh invite")
    try:
        card = verify_card(fields.card)
    except CardError as exc:
        raise InviteError(f"invite issuer's card is invalid: {exc.message}", code="invite_bad_card") from exc
    if len(signature) != _SIGNATURE_BYTES:
        raise InviteError(
            f"invite signature must be {_SIGNATURE_BYTES} bytes, got {len(signature)}", code="invite_bad_signature"
        )
    if not verify_signature(card.public_key, signature, payload):
        raise InviteError("invite signature does not verify against the issuer's card key", code="invite_bad_signature")
    if fields.did != card.did:
        raise InviteError(f"invite did {fields.did!r} is not the card's DID {card.did!r}", code="invite_did_mismatch")
    return Invite(
        did=fields.did,
        card=card,
        relay_url=fields.relay_url,
        slot_id=fields.slot_id,
        slot_token=fields.slot_token,
        nonce=fields.nonce,
        exp=fields.exp,
        payload_bytes=payload,
    )
