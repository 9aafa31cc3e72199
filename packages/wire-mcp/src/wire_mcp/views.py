# SPDX-License-Identifier: MIT
"""Compact JSON views of inbox events (what the model reads; tokens are scrubbed on the way out).

Whatever a peer wrote is data, never instructions: a message body reaches the model only inside
an ``<untrusted-peer-data NONCE>`` … ``</untrusted-peer-data NONCE>`` frame with a fresh random
nonce, so a peer cannot close the frame early; the server instructions say what the frame means.
``body_type`` tells whether the framed text is the body itself (``text``) or its JSON (``json``).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from wire_client import InboxEvent
from wire_protocol import character_for

__all__ = ["FRAME_TAG", "character_view", "event_view", "frame_untrusted", "unframe"]

FRAME_TAG = "untrusted-peer-data"
_FRAME_RE = re.compile(rf"<{FRAME_TAG} (?P<nonce>[0-9a-f]+)>\n(?P<text>.*)\n</{FRAME_TAG} (?P=nonce)>", re.DOTALL)


def frame_untrusted(value: Any) -> tuple[str, str]:
    """``(framed text, body_type)`` for peer-written ``value``."""
    text, kind = (value, "text") if isinstance(value, str) else (json.dumps(value, ensure_ascii=False), "json")
    nonce = secrets.token_hex(8)
    return f"<{FRAME_TAG} {nonce}>\n{text}\n</{FRAME_TAG} {nonce}>", kind


def unframe(framed: str, body_type: str = "text") -> Any:
    """The value inside a frame made by :func:`frame_untrusted` (for clients and tests)."""
    match = _FRAME_RE.fullmatch(framed)
    if match is None:
        raise ValueError("not an untrusted-peer-data frame")
    return json.loads(match["text"]) if body_type == "json" else match["text"]


def character_view(did: str | None) -> dict[str, str]:
    character = character_for(did or None)
    return {"nickname": character.nickname, "emoji": character.emoji}


def event_view(peer: str, event: dict[str, Any], *, verified: bool = True) -> dict[str, Any]:
    """``{peer, event_id, type, kind, timestamp, body, body_type, verified, sealed, downgraded[, deadline,
    encrypted, decryptable]}`` of an event.

    ``body`` is the readable body (the opened plaintext of a sealed event), framed as untrusted peer
    data (see the module docstring); a sealed body that could not be opened shows ``body: null`` with
    ``encrypted: true`` and ``decryptable: false``.
    """
    line = InboxEvent(peer=peer, event=event)
    body, body_type = (None, "none") if line.encrypted else frame_untrusted(line.body)
    view: dict[str, Any] = {
        "peer": peer,
        "event_id": event.get("event_id"),
        "type": event.get("type"),
        "kind": event.get("kind"),
        "timestamp": event.get("timestamp"),
        "body": body,
        "body_type": body_type,
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
