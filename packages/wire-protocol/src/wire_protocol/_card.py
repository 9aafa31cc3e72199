# SPDX-License-Identifier: Apache-2.0
"""Agent-cards: the signed self-description of an identity (schema v3.1, v3.2 accepted)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from wire_protocol._canonical import JSON, JSONObject, canonical_bytes
from wire_protocol._handles import DID_PREFIX, did_for, did_matches_key, display_handle_from_did, parse_address
from wire_protocol._keys import SigningKey, b64decode_exact, b64encode, fingerprint, verify_signature
from wire_protocol.errors import CanonicalizationError, CardError, HandleError, KeyFormatError

__all__ = [
    "CARD_SCHEMA_VERSION",
    "DEFAULT_CAPABILITIES",
    "PROFILE_FIELDS",
    "PROFILE_SCHEMA_VERSION",
    "AgentCard",
    "build_agent_card",
    "card_canonical",
    "sign_card",
    "verify_card",
    "with_profile_field",
]

CARD_SCHEMA_VERSION = "v3.1"
PROFILE_SCHEMA_VERSION = "v0.5"
DEFAULT_CAPABILITIES = ("wire/v3.1",)
VERIFY_KEY_PREFIX = "ed25519:"

#: profile keys and the JSON type each must have (``now`` is an object, ``vibe`` a list of strings)
PROFILE_FIELDS: Mapping[str, type] = {
    "display_name": str,
    "emoji": str,
    "motto": str,
    "vibe": list,
    "pronouns": str,
    "avatar_url": str,
    "handle": str,
    "now": dict,
    "listed": bool,
    "role": str,
}


def card_canonical(card: Mapping[str, object], *, allow_floats: bool = False) -> bytes:
    """The bytes a card signature covers: canonical JSON without ``signature``/``public_key_id``."""
    return canonical_bytes(card, strict=False, allow_floats=allow_floats)


@dataclass(frozen=True, slots=True)
class AgentCard:
    """A card whose signature has been verified (or that we just signed).

    ``data`` is the complete JSON object, including fields this version does not know; it is
    what gets stored, sent and re-verified. Use :meth:`to_json` for a mutable copy.
    """

    data: JSONObject = field(repr=False)
    did: str
    handle: str
    public_key: bytes = field(repr=False)
    key_id: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    @property
    def name(self) -> str | None:
        value = self.data.get("name")
        return value if isinstance(value, str) else None

    @property
    def capabilities(self) -> list[str]:
        value = self.data.get("capabilities")
        return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []

    @property
    def profile(self) -> JSONObject:
        value = self.data.get("profile")
        return copy.deepcopy(value) if isinstance(value, dict) else {}

    @property
    def dh_pubkey(self) -> str | None:
        """The card's advertised X25519 key (base64 text, unchecked); ``None`` when it has none.

        Check it with ``card_dh_public`` before use; its presence switches sealing on.
        """
        value = self.data.get("dh_pubkey")
        return value if isinstance(value, str) else None

    @property
    def schema_version(self) -> str | None:
        value = self.data.get("schema_version")
        return value if isinstance(value, str) else None

    def to_json(self) -> JSONObject:
        return copy.deepcopy(self.data)


def build_agent_card(
    key: SigningKey,
    handle: str,
    *,
    name: str | None = None,
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES,
    profile: Mapping[str, JSON] | None = None,
    extra: Mapping[str, JSON] | None = None,
) -> AgentCard:
    """Build and sign a v3.1 card for ``handle``.

    ``name`` defaults to the handle with its first character upper-cased. ``extra`` adds further
    top-level fields; they are signed like every other field.
    """
    card: JSONObject = {
        "schema_version": CARD_SCHEMA_VERSION,
        "did": did_for(handle, key.public_key),
        "handle": handle,
        "name": name if name is not None else handle[:1].upper() + handle[1:],
        "capabilities": list(capabilities),
        "verify_keys": {
            f"{VERIFY_KEY_PREFIX}{key.key_id(handle)}": {"key": key.public_key_b64, "alg": "ed25519", "active": True}
        },
        "policies": {"max_message_body_kb": 64},
    }
    if profile:
        card["profile"] = {"schema_version": PROFILE_SCHEMA_VERSION, **copy.deepcopy(dict(profile))}
    if extra:
        card.update(copy.deepcopy(dict(extra)))
    return sign_card(card, key)


def sign_card(card: Mapping[str, JSON], key: SigningKey) -> AgentCard:
    """(Re-)sign ``card`` with ``key``; any previous signature is replaced."""
    data: JSONObject = {k: copy.deepcopy(v) for k, v in card.items() if k not in ("signature", "public_key_id")}
    try:
        message = card_canonical(data)
    except CanonicalizationError as exc:
        raise CardError(f"card cannot be signed: {exc.message}") from exc
    data["signature"] = b64encode(key.sign(message))
    return verify_card(data)


def verify_card(card: object, *, require_did_binding: bool = True) -> AgentCard:
    """Verify a card's self-signature and return it as an :class:`AgentCard`.

    The first entry of ``verify_keys`` in sorted order is the card's key (as in the reference).
    With ``require_did_binding`` (the default) the DID must be a ``did:wire:`` DID whose 8-hex
    suffix is that key's fingerprint, which stops a card from claiming somebody else's DID.
    """
    if not isinstance(card, dict):
        raise CardError("agent-card must be a JSON object")
    signature = card.get("signature")
    verify_keys = card.get("verify_keys")
    if not isinstance(signature, str):
        raise CardError("agent-card has no signature", code="card_missing_signature")
    if not isinstance(verify_keys, dict) or not verify_keys:
        raise CardError("agent-card has no verify_keys", code="card_missing_key")
    first_key_id = min(verify_keys)
    entry = verify_keys[first_key_id]
    try:
        if not isinstance(entry, dict):
            raise KeyFormatError("verify_keys entry must be an object")
        public_key = b64decode_exact(entry.get("key"), 32, what="verify key")
        raw_signature = b64decode_exact(signature, 64, what="card signature")
        message = card_canonical(card, allow_floats=True)
    except (KeyFormatError, CanonicalizationError) as exc:
        raise CardError(f"agent-card is malformed: {exc.message}", code="card_malformed") from exc
    if not verify_signature(public_key, raw_signature, message):
        raise CardError("agent-card signature does not verify", code="card_bad_signature")
    did = card.get("did")
    if not isinstance(did, str) or not did:
        raise CardError("agent-card has no did", code="card_missing_did")
    if require_did_binding and not did_matches_key(did, public_key):
        raise CardError(
            f"agent-card DID {did!r} does not end in the fingerprint of its key ({fingerprint(public_key)})",
            code="card_did_key_mismatch",
        )
    handle = card.get("handle")
    if not isinstance(handle, str) or not handle:
        handle = display_handle_from_did(did)
    key_id = first_key_id.removeprefix(VERIFY_KEY_PREFIX)
    return AgentCard(data=copy.deepcopy(card), did=did, handle=handle, public_key=public_key, key_id=key_id)


def with_profile_field(card: AgentCard, name: str, value: JSON, key: SigningKey) -> AgentCard:
    """Set (or, with ``None``, remove) one profile field and re-sign the card.

    The profile object always carries its own ``schema_version``. Types are checked so a peer
    never receives, say, a numeric ``motto``.
    """
    expected = PROFILE_FIELDS.get(name)
    if expected is None:
        known = ", ".join(sorted(PROFILE_FIELDS))
        raise CardError(f"unknown profile field {name!r}; known fields: {known}", code="profile_unknown_field")
    if value is not None:
        _check_profile_value(name, value, expected)
    data = card.to_json()
    profile = data.get("profile")
    profile = dict(profile) if isinstance(profile, dict) else {}
    profile["schema_version"] = PROFILE_SCHEMA_VERSION
    if value is None:
        profile.pop(name, None)
    else:
        profile[name] = copy.deepcopy(value)
    data["profile"] = profile
    if not data["did"] or not str(data["did"]).startswith(DID_PREFIX):
        raise CardError("card has no did:wire: DID")
    return sign_card(data, key)


def _check_profile_value(name: str, value: JSON, expected: type) -> None:
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is str:
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise CardError(f"profile field {name!r} must be a {expected.__name__}", code="profile_bad_value")
    if name == "vibe" and not all(isinstance(tag, str) for tag in value):  # type: ignore[union-attr]
        raise CardError("profile field 'vibe' must be a list of strings", code="profile_bad_value")
    if name == "handle":
        try:
            parse_address(str(value))
        except HandleError as exc:
            raise CardError(f"profile field 'handle': {exc.message}", code="profile_bad_value") from exc
    if name == "now" and isinstance(value, dict) and not isinstance(value.get("text"), str):
        raise CardError("profile field 'now' needs a 'text' string", code="profile_bad_value")
