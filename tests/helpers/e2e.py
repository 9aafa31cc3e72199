# SPDX-License-Identifier: MIT
"""Helpers of the e2e world: its parties and the MCP session of carol."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.e2e.support import CliDaemon
from tests.helpers.cli import Wire
from tests.helpers.mcp import ok
from tests.helpers.relay_process import RelayProcess

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
