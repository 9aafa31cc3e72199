# SPDX-License-Identifier: MIT
"""Steps the attack tests share: who the victim is, a stranger's request, a completed pairing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tests.helpers.hostile_peer import HostilePeer
from tests.hostile.runner import CLI

__all__ = ["Me", "pair_with_victim", "unique", "whoami"]


def unique(name: str) -> str:
    """A handle no other test claimed on a shared relay."""
    return f"{name}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Me:
    did: str
    handle: str
    relay_url: str
    slot_id: str


def whoami(cli: CLI) -> Me:
    relay = cli.read_json(cli.config("relay.json"))["self"]
    card = cli.read_json(cli.config("agent-card.json"))
    return Me(card["did"], card["handle"], relay["relay_url"], relay["slot_id"])


async def pair_with_victim(peer: HostilePeer, victim: CLI, **drop_overrides: Any) -> dict[str, Any]:
    """The peer asks, the victim's operator accepts; returns the ack body (the victim's slot + token)."""
    me = whoami(victim)
    status, answer = await peer.intro(me.relay_url, me.handle, peer.drop(me.did, **drop_overrides))
    assert status == 201, answer
    victim.ok("pull")
    victim.ok("accept", peer.did)
    ack = await peer.wait_for(lambda e: e.get("type") == "pair_drop_ack" and e.get("from") == me.did)
    body: dict[str, Any] = ack["body"]
    return body
