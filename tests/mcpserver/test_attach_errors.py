# SPDX-License-Identifier: MIT
"""MCP ``wire_init`` with a relay that cannot give us a slot: a tool error naming the reason, no slot kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from tests.helpers.agents import unused_port
from tests.helpers.mcp import error_text, make_server, ok

pytestmark = pytest.mark.timeout(60)


async def test_wire_init_on_a_closed_port_is_an_error_and_keeps_no_slot(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    async with Client(make_server(tmp_path / "a", receive=False), mode="auto") as client:
        failed = error_text(await client.call_tool("wire_init", {"handle": "alice", "relay_url": url}))
        assert "unreachable" in failed
        assert url in failed
        again = ok(await client.call_tool("wire_init", {"handle": "alice"}))  # the keys were made and kept
        assert again["status"] == "already_initialized"
        assert again["endpoints"] == []
