# SPDX-License-Identifier: MIT
"""Sealed bodies on the client path (``wire-x25519.v1``, docs/PROTOCOL.md §14).

Send: a message to a peer whose *pinned* card has a ``dh_pubkey`` is sealed to that card, with
``to`` set to the peer's full pinned DID; pairing events, ``wire_close`` and probes stay clear.
Receive: after the signature verified, a sealed body is opened with the sender's pinned card and
the readable body is written next to the signed event (the ``opened`` member of the inbox line);
a plaintext message from a peer that could have sealed is marked ``downgraded`` or, when the
operator asks for it, refused.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass

from wire_client._errors import WireClientError
from wire_client._home.files import read_json
from wire_client._home.identity import Identity
from wire_client._home.mailbox import OPENED_KEY
from wire_client._home.paths import WireHome
from wire_client._home.trust import TrustStore
from wire_protocol import (
    JSON,
    AgentCard,
    CardError,
    JSONObject,
    Kind,
    SealError,
    SealTooLargeError,
    VerifiedEvent,
    card_dh_public,
    compact_json,
    open_event,
    seal_event,
    verify_card,
)

__all__ = [
    "ALWAYS_CLEAR_KINDS",
    "REFUSE_PLAINTEXT_ENV",
    "REFUSE_PLAINTEXT_POLICY",
    "Opened",
    "Opener",
    "pinned_card",
    "refuse_plaintext",
    "seal_to_peer",
    "sealing_card",
]

#: kinds that always travel in the clear, whatever the peer's card says (reference §4.2)
ALWAYS_CLEAR_KINDS = frozenset(int(k) for k in (Kind.HEARTBEAT, Kind.PAIR_DROP, Kind.PAIR_DROP_ACK, Kind.WIRE_CLOSE))
#: ``WIRE_REFUSE_PLAINTEXT=1`` refuses plaintext messages from peers whose pinned card can seal
REFUSE_PLAINTEXT_ENV = "WIRE_REFUSE_PLAINTEXT"
#: the same setting as a ``policy.json`` key
REFUSE_PLAINTEXT_POLICY = "refuse_plaintext_from_sealing_peers"


def refuse_plaintext(home: WireHome, environ: Mapping[str, str] | None = None) -> bool:
    """The operator's downgrade setting: the environment wins over ``policy.json``."""
    env = os.environ if environ is None else environ
    value = env.get(REFUSE_PLAINTEXT_ENV, "").strip().lower()
    if value:
        return value in ("1", "true", "yes", "on")
    policy = read_json(home.policy, {})
    return isinstance(policy, dict) and policy.get(REFUSE_PLAINTEXT_POLICY) is True


def pinned_card(trust: TrustStore, handle: str) -> AgentCard | None:
    """The verified card pinned for ``handle``; ``None`` when there is none.

    A pinned card that no longer verifies (``trust.json`` edited by hand) raises: sealing or
    opening must never quietly fall back to the clear for such a peer.
    """
    record = trust.get(handle)
    if record is None or record.card is None:
        return None
    last = _LAST_CARD.get(handle)
    if last is not None and last[0] is record.card and last[1] == record.card:
        return last[2]  # the very record the trust store still holds, unchanged since it was verified
    exact = compact_json(record.card)  # the cache key is the card's exact content, never just its name
    cached = _VERIFIED_CARDS.get(exact)
    if cached is None:
        cached = _verified_card(handle, record.card, exact)
    if len(_LAST_CARD) >= _MAX_CACHED_CARDS:
        _LAST_CARD.pop(next(iter(_LAST_CARD)))
    _LAST_CARD[handle] = (record.card, copy.deepcopy(record.card), cached)
    return cached


def _verified_card(handle: str, data: Mapping[str, JSON], exact: bytes) -> AgentCard:
    try:
        card = verify_card(dict(data))
    except CardError as exc:
        raise WireClientError(
            f"the card pinned for {handle!r} does not verify ({exc.message}); re-pair with this peer"
        ) from exc
    if len(_VERIFIED_CARDS) >= _MAX_CACHED_CARDS:
        _VERIFIED_CARDS.pop(next(iter(_VERIFIED_CARDS)))
    _VERIFIED_CARDS[exact] = card
    return card


#: verified pinned cards by exact content: a card is verified once per process, not once per event
_VERIFIED_CARDS: dict[bytes, AgentCard] = {}
_MAX_CACHED_CARDS = 256
#: per handle, the trust record's card object last seen, a copy of its content then, and its verified
#: card: while the trust store hands out that same unchanged object, no re-serialisation is needed
#: (a changed trust.json gives new objects; an in-place change fails the comparison with the copy)
_LAST_CARD: dict[str, tuple[Mapping[str, JSON], JSONObject, AgentCard]] = {}


def sealing_card(trust: TrustStore, handle: str, kind: int) -> AgentCard | None:
    """The pinned card to seal a ``kind`` event to, or ``None`` when it goes out in the clear."""
    if kind in ALWAYS_CLEAR_KINDS:
        return None
    card = pinned_card(trust, handle)
    if card is None:
        return None
    try:
        has_key = card_dh_public(card) is not None
    except SealError as exc:
        raise WireClientError(f"cannot seal to {handle!r}: {exc.message}") from exc
    return card if has_key else None


def seal_to_peer(event: JSONObject, identity: Identity, card: AgentCard) -> JSONObject:
    """``event`` (unsigned, ``to`` = ``card.did``) with its body sealed; a clear error over 64 KiB."""
    try:
        return seal_event(event, own_key=identity.key, peer_card=card)
    except SealTooLargeError as exc:
        raise WireClientError(
            f"{exc.message}; a sealed body holds at most 65,535 bytes of JSON: send less or split it"
        ) from exc
    except SealError as exc:
        raise WireClientError(f"cannot seal to {card.handle!r}: {exc.message}") from exc


@dataclass(frozen=True, slots=True)
class Opened:
    """The inbox line for a verified event, or why it is refused (``refusal`` set, ``line`` unused)."""

    line: JSONObject
    refusal: tuple[str, str] | None = None


class Opener:
    """Turns verified events into inbox lines: opens sealed bodies, flags or refuses downgrades."""

    def __init__(self, identity: Identity, trust: TrustStore, *, refuse_plaintext: bool) -> None:
        self.identity = identity
        self.trust = trust
        self.refuse_plaintext = refuse_plaintext

    def open(self, verified: VerifiedEvent, event: JSONObject) -> Opened:
        if OPENED_KEY in event:
            return Opened(event, ("reserved_field", f"event carries the local-only member {OPENED_KEY!r}"))
        sealed = "enc" in event
        kind = event.get("kind")
        if not sealed and kind in ALWAYS_CLEAR_KINDS:
            return Opened(event)
        try:
            card = pinned_card(self.trust, verified.sender_handle)
        except WireClientError:
            if sealed:
                return Opened({**event, OPENED_KEY: _unreadable("sealed_bad_card")})
            card = None
        if card is None:
            if sealed:
                return Opened({**event, OPENED_KEY: _unreadable("sealed_no_card")})
            return Opened(event)
        try:
            opened = open_event(verified, own_key=self.identity.key, own_did=self.identity.did, sender_card=card)
        except SealError as exc:
            return Opened({**event, OPENED_KEY: _unreadable(exc.code)})
        if opened.sealed:
            return Opened({**event, OPENED_KEY: {"sealed": True, "body": opened.body}})
        if opened.downgraded:
            if self.refuse_plaintext:
                reason = (
                    f"plaintext message from {verified.sender_handle!r}, whose pinned card can receive sealed "
                    f"bodies; refused by the {REFUSE_PLAINTEXT_POLICY} setting"
                )
                return Opened(event, ("plaintext_refused", reason))
            return Opened({**event, OPENED_KEY: {"sealed": False, "downgraded": True}})
        return Opened(event)


def _unreadable(code: str) -> JSONObject:
    return {"sealed": True, "decryptable": False, "error": code}
