# SPDX-License-Identifier: MIT
"""Compact JSON views of inbox events (what the model reads; tokens are scrubbed on the way out)."""

from __future__ import annotations

from typing import Any

from wire_client import InboxEvent
from wire_protocol import character_for

__all__ = ["character_view", "event_view"]


def character_view(did: str | None) -> dict[str, str]:
    character = character_for(did or None)
    return {"nickname": character.nickname, "emoji": character.emoji}


def event_view(peer: str, event: dict[str, Any], *, verified: bool = True) -> dict[str, Any]:
    """``{peer, event_id, type, kind, timestamp, body, verified, sealed, downgraded[, deadline, encrypted]}``.

    ``body`` is the readable body (the opened plaintext of a sealed event); a sealed body that could
    not be opened shows ``body: null`` with ``encrypted: true`` and ``decryptable: false``.
    """
    line = InboxEvent(peer=peer, event=event)
    view: dict[str, Any] = {
        "peer": peer,
        "event_id": event.get("event_id"),
        "type": event.get("type"),
        "kind": event.get("kind"),
        "timestamp": event.get("timestamp"),
        "body": None if line.encrypted else line.body,
        "verified": verified,
        "sealed": line.sealed,
        "downgraded": line.downgraded,
    }
    if event.get("time_sensitive_until") is not None:
        view["deadline"] = event["time_sensitive_until"]
    if line.encrypted:
        view["encrypted"] = True
        view["decryptable"] = False
    return view
