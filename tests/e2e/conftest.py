# SPDX-License-Identifier: MIT
"""The e2e world: relay A (SQLite), relay B (two processes on one PostgreSQL), three agents.

* alice — CLI home bound to relay A, with a ``wire daemon`` process;
* bob   — CLI home bound to relay B1, with a ``wire daemon`` process;
* carol — a ``wire-mcp`` stdio server (opened per test with :func:`carol_session`) bound to relay B2,
  receiving in-process while a session is open (as an MCP host would run it).

B1 and B2 are two relay processes on one database: one relay "domain" as far as agents can tell
(handles claimed through one are resolved through the other, events posted to one stream on the other).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.cli.conftest import Result, Wire, parallel
from tests.e2e.support import CliDaemon
from tests.helpers import postgres as pg
from tests.helpers.relay_process import RelayProcess
from tests.mcpserver.conftest import ok

pg_server = pg.pg_server

WIRE_MCP = Path(sys.executable).with_name("wire-mcp")


@dataclass
class World:
    root: Path
    relay_a: RelayProcess
    relay_b1: RelayProcess
    relay_b2: RelayProcess
    alice: Wire
    bob: Wire
    carol_root: Path
    daemons: dict[str, CliDaemon] = field(default_factory=dict)
    dids: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def host(relay: RelayProcess) -> str:
        return f"127.0.0.1:{relay.port}"

    def start_daemon(self, name: str) -> CliDaemon:
        wire = {"alice": self.alice, "bob": self.bob}[name]
        daemon = CliDaemon(wire, self.root / f"{name}-daemon.log").wait_ready()
        self.daemons[name] = daemon
        return daemon


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, pg_server: pg.PostgresServer) -> Iterator[World]:
    root = tmp_path_factory.mktemp("e2e")
    (root / "user").mkdir()
    b_url = pg_server.create_database()
    with (
        RelayProcess(root / "relay-a") as relay_a,
        RelayProcess(root / "relay-b1", store_url=b_url) as relay_b1,
        RelayProcess(root / "relay-b2", store_url=b_url) as relay_b2,
    ):
        w = World(
            root=root,
            relay_a=relay_a,
            relay_b1=relay_b1,
            relay_b2=relay_b2,
            alice=Wire(root / "alice", root / "user"),
            bob=Wire(root / "bob", root / "user"),
            carol_root=root / "carol",
        )
        inits: list[Result] = parallel(
            lambda: w.alice("init", "alice", "--relay", relay_a.url),
            lambda: w.bob("init", "bob", "--relay", relay_b1.url),
        )
        for name, result in zip(("alice", "bob"), inits, strict=True):
            assert result.code == 0, str(result)
            assert result.json()["claimed"] is True
            w.dids[name] = result.json()["did"]
        try:
            w.start_daemon("alice")
            w.start_daemon("bob")
            yield w
        finally:
            for daemon in w.daemons.values():
                daemon.stop()


def _mcp_params(root: Path) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRE_")}
    env |= {"WIRE_HOME": str(root), "WIRE_NO_TOASTS": "1"}
    root.parent.mkdir(parents=True, exist_ok=True)
    return StdioServerParameters(command=str(WIRE_MCP), env=env, cwd=str(root.parent))


class Mcp:
    """A ``wire-mcp`` stdio session: ``await carol("wire_send", peer=..., body=...)`` → structured result."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def __call__(self, tool: str, **args: Any) -> dict[str, Any]:
        return ok(await self.client.call_tool(tool, args))

    async def raw(self, tool: str, **args: Any) -> Any:
        return await self.client.call_tool(tool, args)


@contextlib.asynccontextmanager
async def carol_session(world: World) -> AsyncIterator[Mcp]:
    """Carol's MCP server for the duration of the block (receiving in-process while open)."""
    if not WIRE_MCP.exists():
        pytest.skip("wire-mcp console script not installed")
    async with Client(_mcp_params(world.carol_root), mode="legacy") as client:
        yield Mcp(client)
