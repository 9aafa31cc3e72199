# SPDX-License-Identifier: MIT
"""Fixtures for relay route tests: an in-process relay (real aiohttp server on loopback) per test."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web import Application, Request

from wire_protocol import AgentCard, SigningKey, build_agent_card, build_claim_proof, build_event, sign_event
from wire_relay.app import create_app
from wire_relay.config import RelayConfig
from wire_relay.state import CONFIG

Client = TestClient[Request, Application]
MakeRelay = Callable[..., Awaitable[Client]]


class FakeClock:
    """A settable clock for ``RelayConfig.clock`` (TTL and expiry tests move it instead of sleeping)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_relay() -> AsyncIterator[MakeRelay]:
    clients: list[Client] = []

    async def make(**overrides: Any) -> Client:
        settings: dict[str, Any] = {"rate_limits_enabled": False, "store_url": "sqlite://:memory:"}
        settings.update(overrides)
        client: Client = TestClient(TestServer(create_app(RelayConfig(**settings))))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_relay: MakeRelay) -> Client:
    return await make_relay()


async def new_slot(client: Client) -> tuple[str, str]:
    resp = await client.post("/v1/slot/allocate", json={})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    return body["slot_id"], body["slot_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Agent:
    """A test identity: key, signed card, DID and nick (= the DID's handle)."""

    key: SigningKey
    card: AgentCard
    nick: str

    @property
    def did(self) -> str:
        return self.card.did

    def event(self, *, type_: str = "pair_drop", kind: int = 1100, body: Any = None, to: str = "did:wire:x") -> Any:
        unsigned = build_event(
            from_did=self.did,
            to=to,
            type=type_,
            kind=kind,
            body={"card": self.card.to_json()} if body is None else body,
            timestamp=datetime(2027, 1, 15, 8, 0, tzinfo=UTC),
        )
        return sign_event(unsigned, self.key, self.did)


def make_agent(nick: str, seed: int = 1, profile: dict[str, Any] | None = None) -> Agent:
    key = SigningKey(bytes([seed]) * 32)
    return Agent(key=key, card=build_agent_card(key, nick, profile=profile), nick=nick)


def claim_proof(agent: Agent, slot_id: str, relay_url: str, now: float | None = None) -> dict[str, Any]:
    """A fresh proof of key possession for ``agent`` claiming its nick on ``slot_id`` at ``relay_url``."""
    when = int(time.time() if now is None else now)
    return build_claim_proof(
        agent.key, nick=agent.nick, slot_id=slot_id, relay_url=relay_url, now=when, nonce=secrets.token_hex(16)
    )


async def claim(client: Client, agent: Agent, slot_id: str, token: str, **extra: Any) -> Any:
    """Claim ``agent``'s nick with a proof (pass ``proof=None`` to claim without one)."""
    proof = claim_proof(agent, slot_id, str(client.make_url("/")), client.app[CONFIG].clock())
    body = {"nick": agent.nick, "slot_id": slot_id, "relay_url": None, "card": agent.card.to_json(), "proof": proof}
    body.update(extra)
    return await client.post("/v1/handle/claim", json=body, headers=bearer(token))
