# SPDX-License-Identifier: Apache-2.0
"""Sealed events (``enc: "wire-x25519.v1"``): the API the client's send and receive paths call.

Send: ``seal_event(unsigned event, own_key=…, peer_card=pinned card)`` → ``sign_event`` → post.
Seal iff ``card_dh_public(peer_card)`` is not ``None``. Receive: ``verify_event`` →
``open_event(verified, own_key=…, own_did=…, sender_card=pinned card)`` → body or a ``SealError``.
The primitives are in ``_seal``; the format is docs/PROTOCOL.md §14.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wire_protocol._canonical import JSON, JSONObject, compact_json, loads
from wire_protocol._card import AgentCard, sign_card
from wire_protocol._events import VerifiedEvent
from wire_protocol._handles import did_matches_key
from wire_protocol._keys import SigningKey, b64decode_exact, b64encode
from wire_protocol._seal import (
    SEAL_NONCE_BYTES,
    conversation_key,
    dh_public_from_ed25519,
    dh_public_key,
    open_payload,
    seal_payload,
)
from wire_protocol.errors import (
    CanonicalizationError,
    KeyFormatError,
    SealedFormatError,
    SealedPlaintextError,
    SealedRecipientError,
    SealedSenderError,
    SealingKeyError,
    UnsupportedSealError,
)

__all__ = [
    "SEALED_ENCODING",
    "OpenedBody",
    "card_dh_public",
    "card_with_dh_pubkey",
    "is_sealed",
    "open_body",
    "open_event",
    "own_dh_pubkey",
    "seal_body",
    "seal_event",
]

SEALED_ENCODING = "wire-x25519.v1"
_SIGNING_MEMBERS = ("event_id", "public_key_id", "signature")


def own_dh_pubkey(key: SigningKey) -> str:
    """Our ``dh_pubkey`` card value: base64 of the X25519 public key derived from our seed."""
    return b64encode(dh_public_key(key.seed))


def card_with_dh_pubkey(card: AgentCard, key: SigningKey) -> AgentCard:
    """Our own card with ``dh_pubkey`` set and re-signed (the last rollout step: publish it)."""
    if card.public_key != key.public_key:
        raise SealingKeyError("this card belongs to another key; only its owner can add a dh_pubkey")
    data = card.to_json()
    data["dh_pubkey"] = own_dh_pubkey(key)
    return sign_card(data, key)


def card_dh_public(card: AgentCard) -> bytes | None:
    """The X25519 key to seal to (or open from) for ``card``; ``None`` when the card has none.

    ``None`` means the peer cannot open sealed bodies: talk to it in the clear. A card that has a
    ``dh_pubkey`` which is not 32 bytes of base64, or is not the key its own Ed25519 key implies
    (stricter than the reference, whose cards always match), raises :class:`SealingKeyError`:
    never fall back to plaintext for such a peer.
    """
    if "dh_pubkey" not in card.data:
        return None
    try:
        dh_public = b64decode_exact(card.data["dh_pubkey"], 32, what="dh_pubkey")
    except KeyFormatError as exc:
        raise SealingKeyError(f"card of {card.did} has a malformed dh_pubkey: {exc.message}") from exc
    if dh_public not in _card_implied_dh_keys(card):
        raise SealingKeyError(
            f"card of {card.did} advertises a dh_pubkey that does not belong to its Ed25519 key; "
            "refusing to seal to it or open from it (ask the peer to re-introduce itself)"
        )
    return dh_public


def _card_implied_dh_keys(card: AgentCard) -> set[bytes]:
    """X25519 keys implied by the card's key and any other active verify key (key rotation)."""
    ed25519_keys = {card.public_key}
    verify_keys = card.data.get("verify_keys")
    for entry in verify_keys.values() if isinstance(verify_keys, dict) else ():
        if isinstance(entry, dict) and entry.get("active", True) is not False:
            try:
                ed25519_keys.add(b64decode_exact(entry.get("key"), 32))
            except KeyFormatError:
                continue
    implied = set()
    for key in ed25519_keys:
        try:
            implied.add(dh_public_from_ed25519(key))
        except SealingKeyError:
            continue
    return implied


def is_sealed(event: Mapping[str, object]) -> bool:
    """True when the event carries an ``enc`` member (sealed, or in a scheme we may not know)."""
    return "enc" in event


def seal_body(
    body: JSON,
    *,
    own_key: SigningKey,
    peer_card: AgentCard,
    from_did: str,
    to: str,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> JSONObject:
    """``{"ct": payload}`` for ``body`` from ``from_did`` to ``to`` (the strings that will be signed).

    Raises :class:`SealTooLargeError` when the body's JSON text is over 65,535 bytes (before
    anything is sent) and :class:`SealingKeyError` when the peer card has no usable ``dh_pubkey``.
    """
    dh_public = card_dh_public(peer_card)
    if dh_public is None:
        raise SealingKeyError(
            f"card of {peer_card.did} has no dh_pubkey: this peer cannot open sealed bodies (send in the clear)"
        )
    try:
        plaintext = compact_json(body)
    except CanonicalizationError as exc:
        raise SealedPlaintextError(f"body cannot be sealed: {exc.message}") from exc
    nonce = random_bytes(SEAL_NONCE_BYTES)
    payload = seal_payload(conversation_key(own_key.seed, dh_public), plaintext, from_did, to, nonce)
    return {"ct": payload}


def seal_event(
    event: Mapping[str, JSON],
    *,
    own_key: SigningKey,
    peer_card: AgentCard,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> JSONObject:
    """A copy of the *unsigned* ``event`` with ``enc`` set and its body sealed to ``peer_card``.

    ``from`` must be a DID of ``own_key`` and ``to`` exactly ``peer_card.did`` (the full DID the
    reference addresses sealed events to). Sign the result with ``sign_event`` as usual.
    """
    if any(name in event for name in _SIGNING_MEMBERS):
        raise SealedFormatError("seal the event before signing it (it already has signing members)")
    if "enc" in event:
        raise SealedFormatError("event is already sealed")
    from_did, to = event.get("from"), event.get("to")
    if not isinstance(from_did, str) or not did_matches_key(from_did, own_key.public_key):
        raise SealedSenderError("event 'from' is not a DID of our own key; refusing to seal")
    if to != peer_card.did:
        raise SealedRecipientError(f"event 'to' must be the peer's full DID {peer_card.did!r} to seal to its card")
    if "body" not in event:
        raise SealedFormatError("event has no body to seal")
    sealed: JSONObject = {k: copy.deepcopy(v) for k, v in event.items() if k != "body"}
    sealed["enc"] = SEALED_ENCODING
    sealed["body"] = seal_body(
        event["body"], own_key=own_key, peer_card=peer_card, from_did=from_did, to=to, random_bytes=random_bytes
    )
    return sealed


@dataclass(frozen=True, slots=True)
class OpenedBody:
    """What a reader may show for a verified event.

    ``sealed`` is True when the body arrived sealed and opened (the reference's ``dec: true``).
    ``downgraded`` is True for a plaintext body from a sender whose pinned card has a
    ``dh_pubkey``: accepted (the reference does the same), but it must be shown as not sealed.
    """

    body: JSON = field(repr=False)
    sealed: bool
    downgraded: bool


def open_event(event: VerifiedEvent, *, own_key: SigningKey, own_did: str, sender_card: AgentCard) -> OpenedBody:
    """The readable body of a verified event, opening it when it is sealed.

    Plaintext events come back as they are (``downgraded`` when the sender could have sealed).
    Sealed events go through :func:`open_body`; any failure raises a :class:`SealError` subclass.
    """
    if not is_sealed(event.data):
        return OpenedBody(body=event.body, sealed=False, downgraded="dh_pubkey" in sender_card.data)
    return OpenedBody(
        body=open_body(event, own_key=own_key, own_did=own_did, sender_card=sender_card),
        sealed=True,
        downgraded=False,
    )


def open_body(event: VerifiedEvent, *, own_key: SigningKey, own_did: str, sender_card: AgentCard) -> JSON:
    """Open the sealed body of a verified event addressed to ``own_did`` from ``sender_card``'s owner.

    Checks, in order and before any cryptography: the scheme, the sender card is the card of
    ``from``, ``to`` is exactly ``own_did``, the body is ``{"ct": string}``, the sender's
    ``dh_pubkey`` is sound. Then the payload checks and the MAC; only then decryption.
    """
    data = event.data
    enc = data.get("enc")
    if enc != SEALED_ENCODING:
        raise UnsupportedSealError(f"body is sealed with {enc!r}, which this build cannot open")
    if not did_matches_key(own_did, own_key.public_key):
        raise SealingKeyError("own_did is not the DID of own_key")
    from_did, to = data.get("from"), data.get("to")
    if not isinstance(from_did, str) or from_did != sender_card.did or from_did != event.sender_did:
        raise SealedSenderError(f"sealed event 'from' {from_did!r} is not the pinned card's DID {sender_card.did!r}")
    if to != own_did:
        raise SealedRecipientError(f"sealed event is addressed to {to!r}, not to us ({own_did})")
    body = data.get("body")
    if not isinstance(body, dict) or set(body) != {"ct"} or not isinstance(body["ct"], str):
        raise SealedFormatError("sealed event body must be an object with exactly one string member 'ct'")
    dh_public = card_dh_public(sender_card)
    if dh_public is None:
        raise SealingKeyError(
            f"{sender_card.did} sent a sealed body but its pinned card has no dh_pubkey; "
            "ask the peer to re-introduce itself so its current card is pinned"
        )
    plaintext = open_payload(conversation_key(own_key.seed, dh_public), body["ct"], from_did, to)
    try:
        return loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, CanonicalizationError) as exc:
        raise SealedPlaintextError("sealed body opened but is not UTF-8 JSON") from exc
