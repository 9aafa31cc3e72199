# SPDX-License-Identifier: Apache-2.0
"""Directory records and their A2A agent-card projection (reference §3.3, §5).

A relay publishes a claimed nick twice: ``/.well-known/wire/agent`` (the wire record) and
``/.well-known/agent-card.json`` (an A2A v1.0 card carrying the wire record in an extension).
This module builds the A2A document byte-compatibly with the reference and parses both back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from wire_protocol._canonical import JSON, JSONObject
from wire_protocol._card import AgentCard, verify_card
from wire_protocol._relay_api import A2A_EXTENSION_PREFIX, A2A_EXTENSION_URI
from wire_protocol.errors import CardError

__all__ = [
    "A2A_CARD_VERSION",
    "A2A_PROTOCOL_BINDING",
    "A2A_PROTOCOL_VERSION",
    "A2AResolution",
    "DirectoryRecord",
    "a2a_card_for_claim",
    "a2a_endpoint",
    "a2a_interface_url",
    "parse_a2a_card",
]

A2A_CARD_VERSION = "wire/0.5"
#: the JSON-RPC binding and protocol version our relay's A2A interface speaks (A2A v1.0)
A2A_PROTOCOL_BINDING = "JSONRPC"
A2A_PROTOCOL_VERSION = "1.0"
_PROVIDER: JSONObject = {"organization": "wire", "url": "https://github.com/SlanchaAi/wire"}
_EXTENSION_DESCRIPTION = "Wire-native fields: full signed agent-card, profile blob, DID, slot_id, mailbox relay coords."
_SKILL_DESCRIPTION = (
    "Talks over wire: signed, end-to-end verified events after a one-time pairing. A2A messages are "
    "answered with how to pair (`wire dial <nick>@<relay host>`); nothing is delivered without pairing."
)


def a2a_endpoint(nick: str, relay_url: str | None) -> str:
    """Where intros for ``nick`` are posted: ``<relay_url minus trailing />/v1/handle/intro/<nick>``."""
    if relay_url:
        return f"{relay_url.rstrip('/')}/v1/handle/intro/{nick}"
    return f"/v1/handle/intro/{nick}"


def a2a_interface_url(nick: str, relay_base: str | None) -> str:
    """The A2A JSON-RPC URL a relay serves for ``nick``: ``<relay_base>/a2a/<nick>``."""
    return f"{(relay_base or '').rstrip('/')}/a2a/{nick}"


def a2a_card_for_claim(
    *,
    nick: str,
    did: str,
    card: JSONObject,
    slot_id: str,
    relay_url: str | None,
    claimed_at: str | None,
    relay_base: str | None = None,
) -> JSONObject:
    """The A2A v1.0 agent card a relay serves at ``/.well-known/agent-card.json?handle=<nick>``.

    Every field is one of the v1.0 ``AgentCard`` message, so the official SDK parses it strictly
    (unknown fields rejected). The wire record travels in ``capabilities.extensions`` under our
    extension URI; the one interface is the relay's JSON-RPC answer point for the nick
    (``relay_base`` is the relay's public base URL). The reference relay serves an older shape
    (top-level ``id``, ``endpoint``, ``extensions``); :func:`parse_a2a_card` reads both.
    """
    profile = copy.deepcopy(card.get("profile"))
    display_name = profile.get("display_name") if isinstance(profile, dict) else None
    motto = profile.get("motto") if isinstance(profile, dict) else None
    params: JSONObject = {
        "did": did,
        "handle": nick,
        "slot_id": slot_id,
        "relay_url": relay_url,
        "card": copy.deepcopy(card),
        "profile": profile,
        "claimed_at": claimed_at,
    }
    return {
        "name": display_name if isinstance(display_name, str) and display_name else nick,
        "description": motto if isinstance(motto, str) and motto else f"{nick}, an agent on wire",
        "supportedInterfaces": [
            {
                "url": a2a_interface_url(nick, relay_base),
                "protocolBinding": A2A_PROTOCOL_BINDING,
                "protocolVersion": A2A_PROTOCOL_VERSION,
            }
        ],
        "provider": copy.deepcopy(_PROVIDER),
        "version": A2A_CARD_VERSION,
        "capabilities": {
            "streaming": False,
            "pushNotifications": False,
            "extensions": [
                {"uri": A2A_EXTENSION_URI, "description": _EXTENSION_DESCRIPTION, "required": False, "params": params}
            ],
        },
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "wire", "name": "wire", "description": _SKILL_DESCRIPTION, "tags": ["wire", "pairing"]}],
    }


def _optional_str(obj: JSONObject, name: str, where: str) -> str | None:
    value = obj.get(name)
    if value is None or isinstance(value, str):
        return value
    raise CardError(f"{where} field {name!r} must be a string or null", code="directory_malformed")


def _verified_card(raw: JSON, did: str, where: str, *, require_did_binding: bool) -> AgentCard:
    try:
        card = verify_card(raw, require_did_binding=require_did_binding)
    except CardError as exc:
        raise CardError(f"{where} card is invalid: {exc.message}", code=exc.code) from exc
    if card.did != did:
        raise CardError(f"{where} says did {did!r} but its card is for {card.did!r}", code="directory_did_mismatch")
    return card


@dataclass(frozen=True, slots=True)
class DirectoryRecord:
    """A directory entry: who holds a nick, their verified card and mailbox coordinates."""

    nick: str
    did: str
    card: AgentCard | None
    slot_id: str | None
    relay_url: str | None
    claimed_at: str | None

    @classmethod
    def from_wire_agent_json(cls, obj: object, *, require_did_binding: bool = True) -> DirectoryRecord:
        """Parse a ``/.well-known/wire/agent`` response: the card is required and must match ``did``."""
        where = "directory record"
        if not isinstance(obj, dict):
            raise CardError(f"{where} must be a JSON object", code="directory_malformed")
        if obj.get("card") is None:
            raise CardError(f"{where} has no card", code="directory_missing_card")
        did = obj.get("did")
        if not isinstance(did, str) or not did:
            raise CardError(f"{where} has no did", code="directory_malformed")
        card = _verified_card(obj["card"], did, where, require_did_binding=require_did_binding)
        nick = _optional_str(obj, "nick", where)
        return cls(
            nick=nick if nick is not None else card.handle,
            did=did,
            card=card,
            slot_id=_optional_str(obj, "slot_id", where),
            relay_url=_optional_str(obj, "relay_url", where),
            claimed_at=_optional_str(obj, "claimed_at", where),
        )


@dataclass(frozen=True, slots=True)
class A2AResolution:
    """What an A2A agent-card says about a wire identity.

    With the wire extension, ``did``/``nick``/``slot_id``/``relay_url``/``claimed_at`` come from
    its params (``card`` verified when present). Without it (``a2a_only``) only the A2A ``id``,
    ``name`` and ``endpoint`` are known and pairing cannot proceed.
    """

    did: str
    nick: str | None
    card: AgentCard | None
    slot_id: str | None
    relay_url: str | None
    claimed_at: str | None
    a2a_only: bool
    profile: JSON = field(default=None, repr=False)
    a2a_card: JSONObject = field(default_factory=dict, repr=False)

    def to_record(self) -> DirectoryRecord:
        """The equivalent directory record (``nick`` falls back to the card's handle, then ``""``)."""
        nick = self.nick or (self.card.handle if self.card is not None else "")
        return DirectoryRecord(
            nick=nick,
            did=self.did,
            card=self.card,
            slot_id=self.slot_id,
            relay_url=self.relay_url,
            claimed_at=self.claimed_at,
        )


def _wire_extension(doc: JSONObject) -> JSONObject | None:
    """The first extension with the wire prefix: A2A v1.0 keeps them in ``capabilities.extensions``,
    the reference relay's cards at the top level; both are read."""
    capabilities = doc.get("capabilities")
    places = [capabilities.get("extensions") if isinstance(capabilities, dict) else None, doc.get("extensions")]
    for extensions in places:
        if not isinstance(extensions, list):
            continue
        for entry in extensions:
            if isinstance(entry, dict):
                uri = entry.get("uri")
                if isinstance(uri, str) and uri.startswith(A2A_EXTENSION_PREFIX):
                    return entry
    return None


def parse_a2a_card(doc: object, *, require_did_binding: bool = True) -> A2AResolution:
    """Read the wire extension of an A2A agent-card (first extension whose URI has the wire prefix)."""
    if not isinstance(doc, dict):
        raise CardError("A2A agent-card must be a JSON object", code="a2a_malformed")
    extension = _wire_extension(doc)
    if extension is None:
        did = doc.get("id")
        if not isinstance(did, str) or not did:
            raise CardError("A2A agent-card has no wire extension and no id", code="a2a_malformed")
        where = "A2A agent-card"
        return A2AResolution(
            did=did,
            nick=_optional_str(doc, "name", where),
            card=None,
            slot_id=None,
            relay_url=_optional_str(doc, "endpoint", where),
            claimed_at=None,
            a2a_only=True,
            a2a_card=copy.deepcopy(doc),
        )
    where = "A2A wire extension"
    params = extension.get("params")
    if not isinstance(params, dict):
        raise CardError(f"{where} has no params object", code="a2a_malformed")
    did = params.get("did")
    if not isinstance(did, str) or not did:
        raise CardError(f"{where} has no did", code="a2a_malformed")
    raw_card = params.get("card")
    card = None
    if raw_card is not None:
        card = _verified_card(raw_card, did, where, require_did_binding=require_did_binding)
    return A2AResolution(
        did=did,
        nick=_optional_str(params, "handle", where),
        card=card,
        slot_id=_optional_str(params, "slot_id", where),
        relay_url=_optional_str(params, "relay_url", where),
        claimed_at=_optional_str(params, "claimed_at", where),
        a2a_only=False,
        profile=copy.deepcopy(params.get("profile")),
        a2a_card=copy.deepcopy(doc),
    )
