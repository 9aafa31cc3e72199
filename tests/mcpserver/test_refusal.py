# SPDX-License-Identifier: MIT
"""A declined dial through MCP (real client sessions, a real relay): wire_reject tells the dialer,
whose wire_peers/wire_whois say REFUSED and whose wire_send fails at once; the library raises too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.helpers.mcp import error_text, eventually, make_server, ok, unique
from tests.helpers.relay_process import RelayProcess
from wire_client import Identity, PeerRefusedError, WireAgent, WireHome

pytestmark = pytest.mark.timeout(60)


async def test_declined_dial_through_mcp(tmp_path: Path, relay: RelayProcess) -> None:
    alice_name, bob_name = unique("alice"), unique("bob")
    a_root, b_root = tmp_path / alice_name, tmp_path / bob_name
    async with Client(make_server(a_root), mode="auto") as alice, Client(make_server(b_root), mode="auto") as bob:

        async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
            return ok(await client.call_tool(tool, args))

        await call(alice, "wire_init", handle=alice_name, relay_url=relay.url)
        await call(bob, "wire_init", handle=bob_name, relay_url=relay.url)
        assert (await call(alice, "wire_dial", name=f"{bob_name}@{relay.url.removeprefix('http://')}"))[
            "status"
        ] == "drop_sent"
        await eventually(lambda: _pending(bob, call), within=10)

        result = await bob.call_tool("wire_reject", {"name": alice_name})
        rejected = ok(result)
        assert (rejected["rejected"], rejected["notified"]) == (True, True)
        assert "they were told" in getattr(result.content[0], "text", "")

        async def alice_sees_refused() -> bool:
            peers = (await call(alice, "wire_peers"))["peers"]
            return [(p["handle"], p["state"]) for p in peers] == [(bob_name, "REFUSED")]

        await eventually(alice_sees_refused, within=10)
        listed = await alice.call_tool("wire_peers", {})
        assert f"REFUSED: {bob_name} declined your pair request" in getattr(listed.content[0], "text", "")
        assert (await call(alice, "wire_whois", name=bob_name))["record"]["state"] == "REFUSED"
        assert [p["state"] for p in (await call(alice, "wire_here"))["pinned_peers"]] == ["REFUSED"]
        failed = error_text(await alice.call_tool("wire_send", {"peer": bob_name, "body": "hello?"}))
        assert f"{bob_name} declined your pair request at " in failed
        assert "nothing was sent" in failed
        assert "wire_dial" in failed  # the next step, named as the MCP tool

    home = WireHome.at(a_root)
    async with WireAgent(home, Identity.load(home)) as agent:
        with pytest.raises(PeerRefusedError) as caught:
            await agent.send(bob_name, "from the library")
        assert (caught.value.peer, caught.value.code) == (bob_name, "peer_refused")
        assert agent.sender.outbox.backlog() == {}  # nothing was queued either


async def _pending(bob: Client, call: Any) -> bool:
    return bool((await call(bob, "wire_pending"))["pending"])
