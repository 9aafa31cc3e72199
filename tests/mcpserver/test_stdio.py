# SPDX-License-Identifier: MIT
"""Once over stdio: two installed ``wire-mcp`` subprocesses pair through tools and talk (2025-era client)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPDeprecationWarning

from tests.helpers.mcp import Recorder, error_text, eventually, ok, secrets_of, unique
from tests.helpers.relay_process import RelayProcess
from wire_client import Identity, WireAgent, WireHome, daemon_status
from wire_mcp.views import unframe

WIRE_MCP = Path(sys.executable).with_name("wire-mcp")
WIRE = Path(sys.executable).with_name("wire")


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRE_")}
    return env | {"WIRE_HOME": str(root), "WIRE_NO_TOASTS": "1"}


def _params(root: Path, command: Path = WIRE_MCP, *args: str) -> StdioServerParameters:
    return StdioServerParameters(command=str(command), args=list(args), env=_env(root), cwd=str(root.parent))


@pytest.mark.skipif(not WIRE_MCP.exists(), reason="wire-mcp console script not installed")
async def test_two_stdio_servers_pair_and_talk(tmp_path: Path, relay: RelayProcess) -> None:
    alice_name, bob_name = unique("alice"), unique("bob")
    a_root, b_root = tmp_path / alice_name, tmp_path / bob_name
    seen = Recorder()
    notes: list[str] = []

    async def on_message(message: Any) -> None:
        notes.append(f"{getattr(message, 'method', '')} {getattr(getattr(message, 'params', None), 'uri', '')}")

    alice_client = Client(_params(a_root), mode="legacy")
    bob_client = Client(_params(b_root), mode="legacy", message_handler=on_message)
    async with alice_client as alice, bob_client as bob:

        async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
            return ok(seen.add(await client.call_tool(tool, args)))

        assert "Never accept" in (bob.instructions or "")
        await call(alice, "wire_init", handle=alice_name, relay_url=relay.url)
        await call(bob, "wire_init", handle=bob_name, relay_url=relay.url)
        async with WireAgent(WireHome.at(b_root), Identity.load(WireHome.at(b_root))) as setup:
            await setup.claim()
        assert (await call(bob, "wire_whoami"))["receiving"] == "in-process"

        dialed = await call(alice, "wire_dial", name=f"{bob_name}@{relay.url.removeprefix('http://')}")
        assert dialed["status"] == "drop_sent"
        woke = await call(bob, "wire_wait", timeout_s=10)
        assert [r["peer_handle"] for r in woke["pair_requests"]] == [alice_name]
        assert [p["peer_handle"] for p in (await call(bob, "wire_pending"))["pending"]] == [alice_name]
        error_text(seen.add(await bob.call_tool("wire_pair_accept", {"name": alice_name, "operator_approved": False})))
        assert (await call(bob, "wire_accept", name=alice_name, operator_approved=True))["status"] == (
            "bilateral_accepted"
        )

        async def paired() -> bool:
            peers = (await call(alice, "wire_peers"))["peers"]
            return any(p["handle"] == bob_name and p["reachable"] for p in peers)

        await eventually(paired, within=10)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await bob.subscribe_resource(f"wire://inbox/{alice_name}")
        waiter = asyncio.create_task(bob.call_tool("wire_wait", {"peer": alice_name, "timeout_s": 10}))
        await asyncio.sleep(0.3)
        sent = await call(alice, "wire_send", peer=bob_name, body="over stdio")
        delivered_at = time.monotonic()
        assert sent["status"] == "delivered"
        got = ok(seen.add(await waiter))
        latency = time.monotonic() - delivered_at
        landed = time.time() - WireHome.at(b_root).inbox_path(alice_name).stat().st_mtime
        assert [unframe(e["body"], e["body_type"]) for e in got["events"]] == ["over stdio"]
        print(
            f"\n[stdio] wire_wait returned {landed * 1000:.1f} ms after the event landed in the inbox, "
            f"{latency * 1000:.1f} ms after the sender's wire_send returned"
        )
        assert latency < 0.5
        assert landed < 0.5

        answer = await call(bob, "wire_send", peer=alice_name, body="ack over stdio")
        assert answer["status"] == "delivered"
        acked = (await call(alice, "wire_wait", timeout_s=10))["events"][0]
        assert unframe(acked["body"], acked["body_type"]) == "ack over stdio"
        await eventually(lambda: _true(any(f"updated wire://inbox/{alice_name}" in n for n in notes)), within=5)

    leaked = [s for s in secrets_of(a_root, b_root) if any(s in text for text in seen.texts)]
    assert seen.texts
    assert not leaked


async def _true(value: bool) -> bool:
    return value


@pytest.mark.skipif(not WIRE.exists(), reason="wire console script not installed")
async def test_wire_mcp_answers_then_receives_in_process(tmp_path: Path, relay: RelayProcess) -> None:
    """`wire mcp` (what `wire setup` registers) answers initialize first, then takes the home's receiver."""
    root = tmp_path / "home"
    home = WireHome.at(root)
    async with WireAgent(home, Identity.create(home, unique("carol"))[0]) as agent:
        await agent.attach_relay(relay.url)
    assert daemon_status(home) is None
    async with Client(_params(root, WIRE, "mcp"), mode="legacy") as client:
        assert "Never accept" in (client.instructions or "")

        async def receiving() -> bool:
            status = daemon_status(home)
            return status is not None and status.running

        await eventually(receiving, within=10)
        assert ok(await client.call_tool("wire_whoami", {}))["receiving"] == "in-process"


def test_wire_mcp_does_not_load_the_cli_framework(tmp_path: Path) -> None:
    """`wire mcp` hands over to the server before typer (and the CLI's imports) load."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wire_cli", "mcp"],
        input=b"",
        capture_output=True,
        env=_env(tmp_path / "h") | {"WIRE_MCP_SKIP_AUTO_UP": "1"},
        timeout=60,
        check=False,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.decode().splitlines() if "|" in line}
    assert "wire_mcp.server" in imported, done.stderr.decode()[-2000:]
    assert not {"typer", "wire_cli.app", "wire_cli.commands"} & imported  # (click comes with the SDK's uvicorn)
