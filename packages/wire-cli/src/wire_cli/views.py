# SPDX-License-Identifier: MIT
"""Shared JSON shapes and prose for peers and events (imported by verbs, after wire-client)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wire_cli.output import Output, clean, clean_block

if TYPE_CHECKING:
    from wire_client import Endpoint, Refusal, TrustRecord, TrustStore
    from wire_protocol import Character, JSONObject

__all__ = [
    "HANDSHAKE_TYPES",
    "body_preview",
    "card_character",
    "effective_tier",
    "event_line",
    "peer_json",
    "readable_event",
    "redact",
    "redact_event",
    "reverify",
    "seal_fields",
]

_SECRET_KEYS = frozenset({"slot_token", "token", "private_key"})


def redact(value: Any) -> Any:
    """A copy of ``value`` with every slot token replaced (pair events carry them; we never print one)."""
    if isinstance(value, dict):
        return {k: ("[redacted]" if k in _SECRET_KEYS and isinstance(v, str) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


#: filtered from monitor/notify unless asked for
HANDSHAKE_TYPES = frozenset({"pair_drop", "pair_drop_ack", "heartbeat"})
#: pairing events carry slot coordinates (tokens): the only events whose secrets are redacted for display
_COORDINATE_TYPES = frozenset({"pair_drop", "pair_drop_ack", "wire_close"})


def redact_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """A pairing event with its tokens redacted; any other event exactly as received (never altered)."""
    return redact(dict(event)) if event.get("type") in _COORDINATE_TYPES else dict(event)


def card_character(did: str | None, card: Mapping[str, Any] | None) -> Character:
    """The peer's character, honouring its card's ``display.nickname``/``display.emoji`` (sanitized)."""
    from wire_client import card_character as of_card

    return of_card(did, card)


def effective_tier(tier: str, endpoints: list[Endpoint], refusal: Refusal | None = None) -> str:
    """The one peer state everywhere (``wire_client.peer_state``): ``REFUSED`` when it declined our pair
    request, ``PENDING_ACK`` while its ack has not arrived, else the trust tier."""
    from wire_client import peer_state

    return peer_state(tier, endpoints, refusal)


def peer_json(record: TrustRecord, endpoints: list[Endpoint], refusal: Refusal | None = None) -> JSONObject:
    """``{handle, did, tier, tier_raw, capabilities, character, reachable, endpoints}`` (no tokens),
    plus ``refused_at`` and ``note`` for a peer that declined our pair request."""
    character = card_character(record.did, record.card)
    data: JSONObject = {
        "handle": record.handle,
        "did": record.did,
        "tier": effective_tier(record.tier.name, endpoints, refusal),
        "tier_raw": record.tier.name,
        "capabilities": list(record.capabilities),
        "character": character.to_json(),  # type: ignore[dict-item]
        "reachable": any(ep.is_ready for ep in endpoints),
        "endpoints": [ep.redacted() for ep in endpoints],
    }
    if refusal is not None and data["tier"] == "REFUSED":
        data |= {"refused_at": refusal.refused_at, "note": refusal.text()}
    return data


def reverify(event: Mapping[str, Any], trust: TrustStore) -> bool:
    """Re-check a stored event's signature against the trust ring as it is now (local ``opened`` aside)."""
    from wire_client import signed_part
    from wire_protocol import WireError, verify_event

    try:
        verify_event(signed_part(dict(event)), trust)
    except WireError:
        return False
    return True


def seal_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """The ``--json`` sealing fields of an inbox line: ``sealed``, ``decryptable``, ``downgraded``."""
    from wire_client import InboxEvent

    line = InboxEvent(peer="", event=dict(event))
    return {"sealed": line.sealed, "decryptable": line.decryptable, "downgraded": line.downgraded}


def readable_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An inbox line as ``--json`` shows it: the signed event with ``body`` the readable body
    (opened plaintext of a sealed event; a sealed body that did not open stays ``{"ct": ...}``)."""
    from wire_client import InboxEvent, signed_part

    line = InboxEvent(peer="", event=dict(event))
    view = dict(signed_part(dict(event)))
    if line.sealed and line.decryptable:
        view["body"] = line.body
    return {**view, **seal_fields(event)}


def body_text(event: Mapping[str, Any]) -> str:
    from wire_client import InboxEvent

    line = InboxEvent(peer="", event=dict(event))
    if line.encrypted:
        return "(sealed body that could not be opened)"
    body = redact_event({**event, "body": line.body}).get("body")
    if isinstance(body, str):
        return body
    import json

    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def body_preview(event: Mapping[str, Any], limit: int = 120) -> str:
    return " ".join(body_text(event).split())[:limit]


#: how a line reads for the common event types ("claim" is what a plain `wire send PEER TEXT` sends)
_TYPE_VERBS = {"claim": "says", "ack": "acknowledges", "question": "asks", "answer": "answers", "decision": "decides"}


def type_label(event_type: object) -> str:
    """``says`` for a plain message, a verb for the usual types, else ``sent a <type>``."""
    name = clean(event_type, 32)
    if name in _TYPE_VERBS:
        return _TYPE_VERBS[name]
    return f"sent {'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def event_line(out: Output, peer: str, event: Mapping[str, Any], verified: bool, *, full: bool = False) -> str:
    """``[2026-05-23 10:00:00] 🦊 noble-creek (alice) says: hi ✓`` (``decides: ship``, ``sent a status: …``)."""
    from wire_protocol import character_for

    ts = str(event.get("timestamp", ""))[:19].replace("T", " ")
    character = character_for(str(event.get("from") or "") or None)
    kind = type_label(event.get("type") or event.get("kind") or "?")
    text = clean_block(body_text(event)) if full else clean(body_preview(event), 120)
    if full and "\n" in text:
        text = "\n    " + text.replace("\n", "\n    ")
    deadline = event.get("time_sensitive_until")
    due = f" (by {clean(deadline, 40)})" if deadline else ""
    who = f"{out.persona(character)} ({clean(peer)})"
    flags = " [sealed]" if "enc" in event else ""
    flags += " [PLAINTEXT from a peer that can seal]" if seal_fields(event)["downgraded"] else ""
    return f"[{ts}] {who} {kind}{due}: {text} {out.mark(verified)}{flags}"
