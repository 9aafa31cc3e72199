# SPDX-License-Identifier: MIT
"""A hostile peer for the attack tests: its own key and slot, and raw HTTP to any relay.

It signs whatever it likes — pair drops whose endpoints point at a Unix socket, acks and
refreshes with path tricks, replays of events someone else signed — and posts them through the
real relay's intro route (strangers) or straight into a slot whose token it learnt by pairing.

:func:`collision_site` simulates the one thing a test cannot afford to compute: a second key
whose 32-bit DID suffix collides with a victim's peer. It writes a ``sitecustomize.py`` that
makes ``fingerprint(attacker key)`` answer the target fingerprint inside the victim process, so
the card with the copied DID passes the suffix check there and only the pinned key bytes are
left to refuse it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from wire_protocol import (
    AgentCard,
    JSONObject,
    SigningKey,
    b64encode,
    build_agent_card,
    build_claim_proof,
    build_event,
    card_canonical,
    sign_event,
)

__all__ = ["HostilePeer", "collision_card", "collision_site"]

TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class HostilePeer:
    """One attacker identity with a slot on ``relay_url``."""

    handle: str
    relay_url: str
    key: SigningKey = field(default_factory=SigningKey.generate)
    slot_id: str = ""
    slot_token: str = ""
    card: AgentCard = field(init=False)

    def __post_init__(self) -> None:
        self.card = build_agent_card(self.key, self.handle)

    @property
    def did(self) -> str:
        return self.card.did

    async def request(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http, http.request(method, url, **kwargs) as resp:
            return resp.status, await resp.json(content_type=None)

    async def allocate(self) -> HostilePeer:
        status, body = await self.request("POST", f"{self.relay_url}/v1/slot/allocate", json={"handle": self.handle})
        assert status == 201, body
        self.slot_id, self.slot_token = body["slot_id"], body["slot_token"]
        return self

    async def claim(self) -> str:
        """Claim our handle as a nick on our relay (with the proof of key possession); returns ``nick@host``."""
        proof = build_claim_proof(self.key, nick=self.handle, slot_id=self.slot_id, relay_url=self.relay_url,
                                  now=int(time.time()), nonce=secrets.token_hex(16))  # fmt: skip
        claim = {"nick": self.handle, "slot_id": self.slot_id, "relay_url": None, "card": self.card.to_json(),
                 "proof": proof}  # fmt: skip
        headers = {"Authorization": f"Bearer {self.slot_token}"}
        status, answer = await self.request("POST", f"{self.relay_url}/v1/handle/claim", json=claim, headers=headers)
        assert status == 201, answer
        return f"{self.handle}@{self.relay_url.split('://', 1)[1]}"

    def sign(self, to: str, type_: str, kind: int, body: Any, *, timestamp: datetime | None = None) -> JSONObject:
        event = build_event(
            from_did=self.did, to=to, type=type_, kind=kind, body=body, timestamp=timestamp or datetime.now(UTC)
        )
        return sign_event(event, self.key, self.did)

    def coords(self, **overrides: Any) -> JSONObject:
        """Our honest coordinates, with any member replaced (``endpoints=[...]`` to add a list)."""
        return {"relay_url": self.relay_url, "slot_id": self.slot_id, "slot_token": self.slot_token, **overrides}

    def drop(self, to_did: str, **overrides: Any) -> JSONObject:
        return self.sign(to_did, "pair_drop", 1100, {"card": self.card.to_json(), **self.coords(**overrides)})

    async def intro(self, relay_url: str, nick: str, event: JSONObject) -> tuple[int, Any]:
        return await self.request("POST", f"{relay_url}/v1/handle/intro/{nick}", json={"event": event})

    async def post(self, relay_url: str, slot_id: str, token: str, event: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        return await self.request("POST", f"{relay_url}/v1/events/{slot_id}", json={"event": event}, headers=headers)

    async def inbox(self) -> list[JSONObject]:
        status, events = await self.request(
            "GET",
            f"{self.relay_url}/v1/events/{self.slot_id}",
            params={"limit": "1000"},
            headers={"Authorization": f"Bearer {self.slot_token}"},
        )
        assert status == 200, events
        return list(events)

    async def wait_for(self, match: Callable[[JSONObject], bool], *, within: float = 10.0) -> JSONObject:
        """The first event in our slot that ``match`` accepts (bounded wait)."""
        deadline = time.monotonic() + within
        while True:
            for event in await self.inbox():
                if match(event):
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.handle}: no matching event within {within}s")
            await asyncio.sleep(0.1)


def collision_card(attacker: SigningKey, victim_card: AgentCard) -> JSONObject:
    """A card for ``victim_card``'s DID and handle, but carrying and signed by ``attacker``'s key."""
    data: JSONObject = {k: v for k, v in victim_card.to_json().items() if k != "signature"}
    data["verify_keys"] = {
        f"ed25519:{victim_card.key_id}": {"key": attacker.public_key_b64, "alg": "ed25519", "active": True}
    }
    data["name"] = "Definitely The Same Agent"
    data["signature"] = b64encode(attacker.sign(card_canonical(data)))
    return data


_SITE = '''
"""Test-only: pretend {pk} has the 32-bit fingerprint {fp} (a found DID-suffix collision)."""
import hashlib, sys
import wire_protocol._keys as _keys

_real = _keys.fingerprint


def _fingerprint(public_key):
    if bytes(public_key).hex() == "{pk}":
        return "{fp}"
    return _real(public_key)


for _name, _module in list(sys.modules.items()):
    if _name.startswith("wire_protocol") and getattr(_module, "fingerprint", None) is _real:
        _module.fingerprint = _fingerprint
'''


def collision_site(directory: Path, attacker: SigningKey, fingerprint: str) -> Path:
    """A directory with a ``sitecustomize.py`` simulating the collision; put it on ``PYTHONPATH``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(_SITE.format(pk=attacker.public_key.hex(), fp=fingerprint))
    return directory
