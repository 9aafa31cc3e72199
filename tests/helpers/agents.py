# SPDX-License-Identifier: MIT
"""Helpers for tests that drive wire-client in-process: homes, identities, agents, manual pairing, bounded waits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from tests.helpers.relay_process import RelayProcess
from wire_client import Endpoint, Identity, Scope, WireAgent, WireHome


def make_home(root: Path, handle: str) -> tuple[WireHome, Identity]:
    home = WireHome.at(root / handle)
    identity, _ = Identity.create(home, handle)
    return home, identity


def make_agent(root: Path, handle: str) -> WireAgent:
    home, identity = make_home(root, handle)
    return WireAgent(home, identity)


def fake_endpoint(slot: str = "a" * 32, url: str = "http://127.0.0.1:9", scope: Scope = Scope.FEDERATION) -> Endpoint:
    return Endpoint(relay_url=url, slot_id=slot, slot_token="b" * 64, scope=scope)


def pair_manually(a: WireAgent, b: WireAgent) -> None:
    """What pairing will do later: pin each other's card and record each other's slots."""
    a.add_peer(b.card, b.endpoints())
    b.add_peer(a.card, a.endpoints())


def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def paired_agents(root: Path, relay_url: str, *names: str) -> list[WireAgent]:
    agents = [make_agent(root, name) for name in names]
    for agent in agents:
        await agent.bind_relay(relay_url)
    for index, first in enumerate(agents):
        for second in agents[index + 1 :]:
            pair_manually(first, second)
    return agents


async def wait_for(condition: Callable[[], bool], within: float = 15.0, what: str = "condition") -> None:
    """Bounded wait: poll ``condition`` until true or fail the test after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.01)


def raw_inbox_lines(agent: WireAgent, peer: str) -> list[dict[str, object]]:
    """The inbox lines exactly as stored (signed events, sealed ones with their local ``opened`` member)."""
    path = agent.home.inbox_path(peer)
    if not path.exists():
        return []
    text = path.read_text()
    complete = text[: text.rfind("\n") + 1]  # a line still being appended is not read yet
    return [json.loads(line) for line in complete.split("\n") if line.strip()]  # not splitlines(): U+2028


def inbox_lines(agent: WireAgent, peer: str) -> list[dict[str, object]]:
    """The inbox lines as an agent reads them: ``body`` is the readable body (opened when sealed)."""
    readable: list[dict[str, object]] = []
    for raw in raw_inbox_lines(agent, peer):
        opened = raw.get("opened")
        if "enc" in raw and isinstance(opened, dict) and "body" in opened:
            plain = {k: v for k, v in raw.items() if k not in ("opened", "enc")}
            readable.append(plain | {"body": opened["body"]})
        else:
            readable.append(raw)
    return readable


def uniq(prefix: str) -> str:
    """A handle no other test on a shared relay has claimed (6 hex: never mistaken for a DID suffix)."""
    import secrets

    return f"{prefix}-{secrets.token_hex(3)}"


async def claimed_agent(root: Path, prefix: str, relay: RelayProcess) -> WireAgent:
    """A fresh identity bound to ``relay`` with its handle claimed there; address ``handle@127.0.0.1:port``."""
    agent = make_agent(root, uniq(prefix))
    await agent.bind_relay(relay.url)
    await agent.claim()
    return agent


def address_of(agent: WireAgent, relay: RelayProcess) -> str:
    return f"{agent.handle}@127.0.0.1:{relay.port}"


async def pair_by_dial(target: WireAgent, dialer: WireAgent, relay: RelayProcess) -> None:
    """The handle path end to end: ``dialer`` dials ``target``'s address, ``target`` accepts, ``dialer``
    takes the ack; afterwards each holds the other's coordinates."""
    await dialer.pairing.dial(address_of(target, relay))
    await target.pull()
    await target.pairing.accept(dialer.handle)
    await dialer.pull()
