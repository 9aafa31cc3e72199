# SPDX-License-Identifier: Apache-2.0
"""Signed events: envelope, event id, signature, verification against a trust lookup, kinds."""

from __future__ import annotations

import copy
import enum
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from wire_protocol._canonical import JSON, JSONObject, canonical_bytes
from wire_protocol._card import AgentCard
from wire_protocol._handles import display_handle_from_did
from wire_protocol._keys import SigningKey, b64decode_exact, b64encode, verify_signature
from wire_protocol.errors import CanonicalizationError, EventError, KeyFormatError, VerificationError

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "HANDSHAKE_TYPES",
    "KINDS",
    "KIND_NAMES",
    "PAIRING_KINDS",
    "SUPPORTED_SCHEMA_MAJOR",
    "CardTrust",
    "EventType",
    "Kind",
    "KindClass",
    "TrustLookup",
    "TrustedKey",
    "VerifiedEvent",
    "build_event",
    "check_schema_version",
    "compute_event_id",
    "format_timestamp",
    "is_known_kind",
    "kind_class",
    "kind_for_name",
    "parse_timestamp",
    "sign_event",
    "verify_event",
]

EVENT_SCHEMA_VERSION = "v3.1"
SUPPORTED_SCHEMA_MAJOR = "v3"


class Kind(enum.IntEnum):
    """The ten event kinds a v3.1 receiver knows. Anything else blocks an older receiver's cursor."""

    DECISION_NOSTR = 1
    HEARTBEAT = 100
    DECISION = 1000
    CLAIM = 1001
    ACK = 1002
    AGENT_CARD = 1100  # also the pair_drop kind
    TRUST_ADD_KEY = 1101  # also the pair_drop_ack kind
    TRUST_REVOKE_KEY = 1102
    WIRE_OPEN = 1200
    WIRE_CLOSE = 1201
    # the names the pairing handshake uses for the same two numbers
    PAIR_DROP = 1100
    PAIR_DROP_ACK = 1101


class EventType(enum.StrEnum):
    """Event ``type`` values with a protocol meaning; any other type belongs to the application."""

    PAIR_DROP = "pair_drop"
    PAIR_DROP_ACK = "pair_drop_ack"
    AGENT_CARD = "agent_card"
    WIRE_CLOSE = "wire_close"
    HEARTBEAT = "heartbeat"
    #: "your pair request was declined" (travels as kind 1201, which every v3.1 receiver knows)
    PAIR_REJECT = "pair_reject"


#: the kind each pairing event type travels as (protocol §10)
PAIRING_KINDS: Mapping[EventType, Kind] = {
    EventType.PAIR_DROP: Kind.PAIR_DROP,
    EventType.PAIR_DROP_ACK: Kind.PAIR_DROP_ACK,
    EventType.WIRE_CLOSE: Kind.WIRE_CLOSE,
    EventType.PAIR_REJECT: Kind.WIRE_CLOSE,
}
#: handshake traffic that front-ends and notifications do not show as messages
HANDSHAKE_TYPES: frozenset[str] = frozenset({EventType.PAIR_DROP, EventType.PAIR_DROP_ACK, EventType.HEARTBEAT})


#: (kind, name) in table order; name → kind takes the FIRST match, so "decision" → 1.
KIND_NAMES: tuple[tuple[int, str], ...] = (
    (1, "decision"),
    (100, "heartbeat"),
    (1000, "decision"),
    (1001, "claim"),
    (1002, "ack"),
    (1100, "agent_card"),
    (1101, "trust_add_key"),
    (1102, "trust_revoke_key"),
    (1200, "wire_open"),
    (1201, "wire_close"),
)
KINDS: frozenset[int] = frozenset(k for k, _ in KIND_NAMES)


class KindClass(enum.StrEnum):
    REGULAR = "regular"
    EPHEMERAL = "ephemeral"
    REPLACEABLE = "replaceable"
    ADDRESSABLE = "addressable"
    UNKNOWN = "unknown"


def kind_class(kind: int) -> KindClass:
    """Storage class of a kind, following the Nostr-style ranges."""
    if kind == 1:
        return KindClass.REGULAR
    if kind == 100 or 20000 <= kind <= 29999:
        return KindClass.EPHEMERAL
    if 1000 <= kind <= 9999:
        return KindClass.REGULAR
    if 10000 <= kind <= 19999:
        return KindClass.REPLACEABLE
    if 30000 <= kind <= 39999:
        return KindClass.ADDRESSABLE
    return KindClass.UNKNOWN


def is_known_kind(kind: object) -> bool:
    return isinstance(kind, int) and not isinstance(kind, bool) and kind in KINDS


_U32_MAX = 2**32 - 1


def kind_for_name(name: str) -> int:
    """Map ``wire send``'s kind argument to a kind: a number, a known name, else 1."""
    text = name.strip()
    if text.isascii() and text.isdigit():
        value = int(text)
        if value > _U32_MAX:
            raise EventError(f"kind {text} is larger than a 32-bit unsigned integer")
        return value
    for kind, kind_name in KIND_NAMES:
        if kind_name == text:
            return kind
    return 1


def check_schema_version(event: Mapping[str, object]) -> str | None:
    """``None`` when the event's schema is readable by a v3 receiver, else the rejection reason."""
    version = event.get("schema_version")
    if version is None:
        return None
    text = version if isinstance(version, str) else str(version)
    if text.split(".", 1)[0] != SUPPORTED_SCHEMA_MAJOR:
        return f"schema_mismatch={text} binary_supports={EVENT_SCHEMA_VERSION}"
    return None


_RFC3339_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})",
)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; fractional seconds only when non-zero, trailing zeros trimmed."""
    if moment.tzinfo is None:
        raise EventError("timestamps must be timezone-aware")
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_timestamp(text: object) -> datetime:
    """Parse an RFC 3339 timestamp (nanosecond fractions are truncated to microseconds)."""
    if not isinstance(text, str) or not _RFC3339_RE.fullmatch(text):
        raise EventError(f"{text!r} is not an RFC 3339 timestamp")
    head, _, rest = text.partition(".")  # only str reaches here
    if rest:
        digits = re.match(r"\d+", rest)
        assert digits is not None  # noqa: S101 - guaranteed by the regex above
        text = f"{head}.{digits.group()[:6]}{rest[digits.end() :]}"
    try:
        return datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError as exc:  # well-formed but impossible, e.g. month 21
        raise EventError(f"{text!r} is not a valid date and time") from exc


def build_event(
    *,
    from_did: str,
    to: str,
    type: str,
    kind: int,
    body: JSON,
    timestamp: datetime,
    time_sensitive_until: datetime | str | None = None,
    schema_version: str | None = EVENT_SCHEMA_VERSION,
    extra: Mapping[str, JSON] | None = None,
) -> JSONObject:
    """Assemble an unsigned event envelope."""
    if isinstance(kind, bool) or not 0 <= kind <= _U32_MAX:
        raise EventError("kind must be an unsigned 32-bit integer")
    event: JSONObject = {}
    if schema_version is not None:
        event["schema_version"] = schema_version
    event.update(
        {
            "timestamp": format_timestamp(timestamp),
            "from": from_did,
            "to": to,
            "type": type,
            "kind": kind,
            "body": copy.deepcopy(body),
        }
    )
    if time_sensitive_until is not None:
        if isinstance(time_sensitive_until, datetime):
            event["time_sensitive_until"] = format_timestamp(time_sensitive_until)
        else:
            parse_timestamp(time_sensitive_until)
            event["time_sensitive_until"] = time_sensitive_until
    if extra:
        event.update(copy.deepcopy(dict(extra)))
    return event


def compute_event_id(event: Mapping[str, object], *, allow_floats: bool = False) -> str:
    """Hex SHA-256 of the strict canonical form (``event_id``/``signature``/``public_key_id`` removed)."""
    return hashlib.sha256(canonical_bytes(event, strict=True, allow_floats=allow_floats)).hexdigest()


def sign_event(event: Mapping[str, JSON], key: SigningKey, did: str) -> JSONObject:
    """Return ``event`` plus ``event_id``, ``public_key_id`` and ``signature``.

    The signature covers the 32 raw bytes of the event id. Content that cannot be canonicalized
    (floats, integers beyond 64 bits) is refused here, before anything is sent.
    """
    unsigned = {k: v for k, v in event.items() if k not in ("event_id", "public_key_id", "signature")}
    try:
        event_id = compute_event_id(unsigned)
    except CanonicalizationError as exc:
        raise EventError(f"event cannot be signed: {exc.message}") from exc
    signed: JSONObject = copy.deepcopy(dict(unsigned))
    signed["event_id"] = event_id
    signed["public_key_id"] = key.key_id(display_handle_from_did(did))
    signed["signature"] = b64encode(key.sign(bytes.fromhex(event_id)))
    return signed


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """One public key of a pinned agent, as trust stores hold it."""

    key_id: str
    public_key: bytes = field(repr=False)
    active: bool = True


class TrustLookup(Protocol):
    """Where verification finds keys: ``None`` means the agent is not pinned at all."""

    def keys_for(self, handle: str) -> Sequence[TrustedKey] | None: ...


@dataclass(frozen=True, slots=True)
class CardTrust:
    """A trust lookup over a fixed set of cards (e.g. the card carried inside a pair_drop)."""

    cards: Sequence[AgentCard]

    def keys_for(self, handle: str) -> Sequence[TrustedKey] | None:
        keys = [
            TrustedKey(key_id=card.key_id, public_key=card.public_key)
            for card in self.cards
            if display_handle_from_did(card.did) == handle or card.handle == handle
        ]
        return keys or None


@dataclass(frozen=True, slots=True)
class VerifiedEvent:
    """An event whose id and signature checked out against trust."""

    data: JSONObject = field(repr=False)
    event_id: str
    sender_did: str
    sender_handle: str
    key_id: str

    @property
    def kind(self) -> int | None:
        value = self.data.get("kind")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def type(self) -> str | None:
        value = self.data.get("type")
        return value if isinstance(value, str) else None

    @property
    def body(self) -> JSON:
        return copy.deepcopy(self.data.get("body"))


def verify_event(event: object, trust: TrustLookup) -> VerifiedEvent:
    """Verify a signed event against ``trust``.

    Raises :class:`VerificationError` with ``transient=True`` for ``unknown_agent`` /
    ``unknown_key`` (pinning the sender later can fix those) and ``transient=False`` otherwise.
    """
    if not isinstance(event, dict):
        raise VerificationError("event must be a JSON object", code="malformed", transient=False)
    for name in ("from", "public_key_id", "signature", "event_id"):
        if not isinstance(event.get(name), str):
            raise VerificationError(f"event has no {name!r} string", code="missing_field", transient=False)
    sender = str(event["from"])
    claimed_id = str(event["event_id"])
    try:
        actual_id = compute_event_id(event, allow_floats=True)
    except CanonicalizationError as exc:
        raise VerificationError(
            f"event cannot be canonicalized: {exc.message}", code="malformed", transient=False
        ) from exc
    if actual_id != claimed_id:
        raise VerificationError("event_id does not match the content", code="event_id_mismatch", transient=False)
    handle = display_handle_from_did(sender)
    keys = trust.keys_for(handle)
    if keys is None:
        raise VerificationError(f"sender {handle!r} is not pinned", code="unknown_agent", transient=True)
    key_id = str(event["public_key_id"])
    match = next((k for k in keys if k.key_id == key_id), None)
    if match is None:
        raise VerificationError(f"key {key_id!r} is not pinned for {handle!r}", code="unknown_key", transient=True)
    if not match.active:
        raise VerificationError(f"key {key_id!r} has been deactivated", code="inactive_key", transient=False)
    try:
        signature = b64decode_exact(event["signature"], 64, what="signature")
    except KeyFormatError as exc:
        raise VerificationError(exc.message, code="malformed", transient=False) from exc
    if not verify_signature(match.public_key, signature, bytes.fromhex(actual_id)):
        raise VerificationError("signature does not verify", code="bad_signature", transient=False)
    return VerifiedEvent(
        data=copy.deepcopy(event), event_id=actual_id, sender_did=sender, sender_handle=handle, key_id=key_id
    )
