# SPDX-License-Identifier: MIT
"""Is an event addressed to us? (the receiver's ``to`` check, protocol §7).

A signature proves who wrote an event, not whom it was written for: without this check a peer
could re-post a message someone signed *to it* into our slot, and we would show it as a verified
message to us. We accept ``to`` equal to our full DID. The bare ``did:wire:<our handle>`` form is
accepted only from a sender whose card is schema v3.1 — what a v0.9.3 peer writes; newer peers
(v3.2 cards, reference v0.14.2 and later) always write the full DID.
"""

from __future__ import annotations

from collections.abc import Mapping

from wire_protocol import DID_PREFIX, JSON

__all__ = ["addressed_to_us", "writes_bare_recipient"]

_LEGACY_CARD_SCHEMA = "v3.1"


def writes_bare_recipient(card: Mapping[str, JSON] | None) -> bool:
    """True for a sender whose card says it may write the bare ``did:wire:<handle>`` recipient (v3.1)."""
    if card is None:
        return False
    schema = card.get("schema_version", _LEGACY_CARD_SCHEMA)
    return schema == _LEGACY_CARD_SCHEMA


def addressed_to_us(to: JSON, own_did: str, own_handle: str, sender_card: Mapping[str, JSON] | None) -> bool:
    """Whether an event's ``to`` names us (see the module docstring for the one legacy form)."""
    if to == own_did:
        return True
    return to == f"{DID_PREFIX}{own_handle}" and writes_bare_recipient(sender_card)
