# SPDX-License-Identifier: MIT
"""A reference-style client that POLLS instead of streaming: raw HTTP + ``wire_protocol`` only.

What a v0.9.3 Rust client does on the wire (protocol notes §2, §4c, §5), and nothing of
wire-client: allocate a slot, resolve ``nick@domain`` through ``/.well-known/wire/agent``, drop a
signed ``pair_drop`` through ``/v1/handle/intro/<nick>``, then poll ``GET /v1/events/<slot>?since=``
for the ``pair_drop_ack`` (which carries the peer's slot token) and for messages, verifying every
event against the peer's card. Messages go out with ``POST /v1/events/<peer slot>``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from wire_protocol import (
    DID_PREFIX,
    AgentCard,
    CardTrust,
    JSONObject,
    SigningKey,
    VerificationError,
    bare_handle,
    build_agent_card,
    build_event,
    card_dh_public,
    card_with_dh_pubkey,
    display_handle_from_did,
    kind_for_name,
    open_event,
    seal_event,
    sign_event,
    verify_card,
    verify_event,
)

__all__ = ["PollingPeer"]

TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class _Peer:
    card: AgentCard
    relay_url: str
    slot_id: str
    slot_token: str = ""


@dataclass
class PollingPeer:
    """One identity on one relay, receiving by polling its slot (never opens a stream)."""

    handle: str
    relay_url: str
    key: SigningKey = field(default_factory=SigningKey.generate)
    slot_id: str = ""
    slot_token: str = ""
    cursor: str | None = None
    peers: dict[str, _Peer] = field(default_factory=dict)
    inbox: list[JSONObject] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    polls: int = 0
    #: v0.16 mode: publish ``dh_pubkey``, seal to peers whose card has one, open sealed events
    sealing: bool = False

    def __post_init__(self) -> None:
        self.card = build_agent_card(self.key, self.handle)
        if self.sealing:
            self.card = card_with_dh_pubkey(self.card, self.key)

    @property
    def did(self) -> str:
        return self.card.did

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http, http.request(method, url, **kwargs) as resp:
            body = await resp.json(content_type=None)
            if resp.status >= 300:
                raise AssertionError(f"{method} {url} → {resp.status}: {body}")
            return body

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def allocate(self) -> None:
        body = await self._json("POST", f"{self.relay_url}/v1/slot/allocate", json={"handle": self.handle})
        self.slot_id, self.slot_token = body["slot_id"], body["slot_token"]

    def _sign(self, to: str, type_: str, kind: int, body: Any) -> JSONObject:
        event = build_event(from_did=self.did, to=to, type=type_, kind=kind, body=body, timestamp=datetime.now(UTC))
        return sign_event(event, self.key, self.did)

    async def dial(self, nick: str, peer_relay_url: str) -> JSONObject:
        """Resolve ``nick`` on ``peer_relay_url`` and drop a signed pair_drop through the intro route."""
        record = await self._json("GET", f"{peer_relay_url}/.well-known/wire/agent", params={"handle": nick})
        card = verify_card(record["card"])
        assert record["did"] == card.did
        handle = display_handle_from_did(card.did)
        self.peers[handle] = _Peer(card, record["relay_url"] or peer_relay_url, record["slot_id"])
        drop = self._sign(
            card.did,
            "pair_drop",
            1100,
            {
                "card": self.card.to_json(),
                "relay_url": self.relay_url,
                "slot_id": self.slot_id,
                "slot_token": self.slot_token,
            },
        )
        result: JSONObject = await self._json("POST", f"{peer_relay_url}/v1/handle/intro/{nick}", json={"event": drop})
        return result

    async def poll_once(self) -> list[JSONObject]:
        """One ``GET /v1/events/<slot>?since=<cursor>``: verify, apply acks, keep messages (once)."""
        params = {"limit": "1000", **({"since": self.cursor} if self.cursor else {})}
        events: list[JSONObject] = await self._json(
            "GET", f"{self.relay_url}/v1/events/{self.slot_id}", params=params, headers=self._auth(self.slot_token)
        )
        self.polls += 1
        fresh: list[JSONObject] = []
        seen = {e["event_id"] for e in self.inbox}
        for stored in events:
            event = stored
            self.cursor = str(event["event_id"])
            sender = display_handle_from_did(str(event.get("from", "")))
            peer = self.peers.get(sender)
            if peer is None:
                self.rejected.append((self.cursor, "unknown sender"))
                continue
            try:
                verified = verify_event(stored, CardTrust([peer.card]))
            except VerificationError as exc:
                self.rejected.append((self.cursor, exc.code))
                continue
            if "enc" in event:  # v0.16 shows the opened body with ``dec: true`` (its tail view)
                if not self.sealing:
                    self.rejected.append((self.cursor, "sealed body this peer cannot open"))
                    continue
                opened = open_event(verified, own_key=self.key, own_did=self.did, sender_card=peer.card)
                event = {**event, "body": opened.body, "dec": True}
            body = event.get("body")
            if event.get("type") == "pair_drop_ack" and isinstance(body, dict):
                peer.relay_url, peer.slot_id = str(body["relay_url"]), str(body["slot_id"])
                peer.slot_token = str(body["slot_token"])
            elif event.get("type") in ("pair_drop", "wire_close"):
                continue  # coordinates refresh / rotation announcements: not messages
            elif event["event_id"] not in seen:
                seen.add(event["event_id"])
                self.inbox.append(event)
                fresh.append(event)
        return fresh

    async def poll_until(self, done: Any, *, within: float = 15.0, interval: float = 0.1) -> None:
        """Poll every ``interval`` until ``done()`` holds (bounded)."""
        deadline = time.monotonic() + within
        while True:
            await self.poll_once()
            if done():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.handle}: condition not met within {within}s (inbox {self.inbox})")
            await asyncio.sleep(interval)

    async def send(self, handle: str, body: Any) -> tuple[int, JSONObject]:
        """POST a signed claim to a paired peer's slot; returns the HTTP status and the relay's answer."""
        peer = self.peers[handle]
        assert peer.slot_token, f"no token for {handle} yet: its pair_drop_ack has not arrived"
        if self.sealing and card_dh_public(peer.card) is not None:  # v0.16: seal to the pinned card's key
            unsigned = build_event(
                from_did=self.did, to=peer.card.did, type="claim", kind=kind_for_name("claim"), body=body,
                timestamp=datetime.now(UTC),
            )  # fmt: skip
            event = sign_event(seal_event(unsigned, own_key=self.key, peer_card=peer.card), self.key, self.did)
        else:
            event = self._sign(f"{DID_PREFIX}{bare_handle(handle)}", "claim", kind_for_name("claim"), body)
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as http,
            http.post(
                f"{peer.relay_url}/v1/events/{peer.slot_id}", json={"event": event}, headers=self._auth(peer.slot_token)
            ) as resp,
        ):
            answer: JSONObject = await resp.json(content_type=None)
            return resp.status, {**answer, "event_id": event["event_id"]}
