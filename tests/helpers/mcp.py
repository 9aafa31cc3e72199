# SPDX-License-Identifier: MIT
"""Helpers for tests that talk to the wire MCP server through real MCP client sessions."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mcp_types import CallToolResult

from wire_client import WireHome
from wire_mcp.server import WireMCPServer, build_server
from wire_mcp.session import HomeChoice


def unique(name: str) -> str:
    """A handle no other test claimed on the shared relay."""
    return f"{name}-{secrets.token_hex(3)}"


def make_server(root: Path, *, receive: bool = True) -> WireMCPServer:
    env = {} if receive else {"WIRE_MCP_SKIP_AUTO_UP": "1"}
    return build_server(HomeChoice(WireHome.at(root), "env"), env=env)


class Recorder:
    """Every tool result seen in a test (to check none of them leaks a secret)."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, result: CallToolResult) -> CallToolResult:
        for block in result.content:
            self.texts.append(getattr(block, "text", ""))
        if result.structured_content is not None:
            self.texts.append(json.dumps(result.structured_content))
        return result


def ok(result: CallToolResult) -> dict[str, Any]:
    """The structured result of a successful call (fails the test with the error text otherwise)."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    text = getattr(result.content[0], "text", "")
    summary, _, data = text.partition("\n")
    assert summary
    assert "\n" not in summary
    assert json.loads(data) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert "Traceback" not in text
    return text


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


def secrets_of(*roots: Path) -> list[str]:
    """Every slot token and private-key form stored under the given homes."""
    import base64

    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "slot_token" and isinstance(item, str) and item:
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for root in roots:
        home = WireHome.at(root)
        if home.relay_state.exists():
            walk(json.loads(home.relay_state.read_text()))
        if home.private_key.exists():
            seed = home.private_key.read_bytes()
            found += [seed.hex(), base64.b64encode(seed).decode().rstrip("=")]
    return found
