# SPDX-License-Identifier: MIT
"""The A2A card a *reference* relay serves (protocol notes §3.3), for tests that play such a relay.

Our relay serves the A2A v1.0 shape (``wire_protocol.a2a_card_for_claim``); the reference serves
this older one, with the wire extension at the top level. Our parser must read both.
"""

from __future__ import annotations

import copy
from typing import Any

from wire_protocol import A2A_EXTENSION_URI, a2a_endpoint


def reference_a2a_card(
    *, nick: str, did: str, card: dict[str, Any], slot_id: str, relay_url: str | None, claimed_at: str | None
) -> dict[str, Any]:
    profile = copy.deepcopy(card.get("profile"))
    display_name = profile.get("display_name") if isinstance(profile, dict) else None
    motto = profile.get("motto") if isinstance(profile, dict) else None
    return {
        "id": did,
        "name": display_name if isinstance(display_name, str) else nick,
        "description": motto if isinstance(motto, str) else "",
        "version": "wire/0.5",
        "endpoint": a2a_endpoint(nick, relay_url),
        "provider": {"name": "wire", "url": "https://github.com/SlanchaAi/wire"},
        "capabilities": {"streaming": False, "pushNotifications": False, "extendedAgentCard": True},
        "securitySchemes": {
            "ed25519-event-sig": {
                "type": "signature",
                "alg": "EdDSA",
                "description": (
                    "Wire-style signed events (kind=1100 pair_drop for intro; verify against embedded card pubkey)."
                ),
            }
        },
        "security": [{"ed25519-event-sig": []}],
        "skills": [],
        "extensions": [
            {
                "uri": A2A_EXTENSION_URI,
                "description": (
                    "Wire-native fields: full signed agent-card, profile blob, DID, slot_id, mailbox relay coords."
                ),
                "required": False,
                "params": {
                    "did": did,
                    "handle": nick,
                    "slot_id": slot_id,
                    "relay_url": relay_url,
                    "card": copy.deepcopy(card),
                    "profile": profile,
                    "claimed_at": claimed_at,
                },
            }
        ],
        "signature": copy.deepcopy(card.get("signature")),
    }
