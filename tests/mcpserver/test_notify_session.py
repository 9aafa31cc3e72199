# SPDX-License-Identifier: MIT
"""Resource notifications in both eras, wire_wait wake-up from the inbox files, home resolution."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning

from tests.helpers.mcp import eventually, make_server, ok
from wire_client import Daemon, Identity, SessionRegistry, WireAgent, WireHome, daemon_status
from wire_mcp.session import resolve_home
from wire_mcp.views import unframe
from wire_protocol import build_event, kind_for_name, sign_event


def _signed_event(sender: Identity, to: str, body: str) -> dict[str, Any]:
    event = build_event(
        from_did=sender.did,
        to=f"did:wire:{to}",
        type="claim",
        kind=kind_for_name("claim"),
        body=body,
        timestamp=datetime.now(UTC),
    )
    return sign_event(event, sender.key, sender.did)


def _land(home: WireHome, peer: str, event: dict[str, Any]) -> None:
    """What a separate daemon does: append one verified event line to inbox/<peer>.jsonl."""
    home.inbox_dir.mkdir(parents=True, exist_ok=True)
    with home.inbox_path(peer).open("ab") as handle:
        handle.write(json.dumps(event).encode() + b"\n")


def _setup(tmp_path: Path) -> tuple[WireHome, Identity]:
    """bob's home with carol pinned (so her events verify); carol's identity to sign with."""
    bob_home = WireHome.at(tmp_path / "bob")
    bob, _ = Identity.create(bob_home, "bob")
    carol, _ = Identity.create(WireHome.at(tmp_path / "carol"), "carol")
    WireAgent(bob_home, bob).pin(carol.card)
    return bob_home, carol


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_wait_wakes_when_a_daemon_writes_the_inbox(tmp_path: Path, mode: str) -> None:
    bob_home, carol = _setup(tmp_path)
    notes: list[str] = []

    async def on_message(message: Any) -> None:
        uri = getattr(getattr(message, "params", None), "uri", "")
        notes.append(f"{getattr(message, 'method', '')} {uri}")

    server = make_server(tmp_path / "bob", receive=False)
    async with Client(server, mode=mode, message_handler=on_message) as client:
        ok(await client.call_tool("wire_peers", {}))  # warm-up: opens the identity
        latencies = []
        for n in range(3):
            waiter = asyncio.create_task(client.call_tool("wire_wait", {"peer": "carol", "timeout_s": 5}))
            await asyncio.sleep(0.15)
            landed = time.monotonic()
            _land(bob_home, "carol", _signed_event(carol, "bob", f"ping {n}"))
            result = ok(await waiter)
            latencies.append(time.monotonic() - landed)
            assert [unframe(e["body"], e["body_type"]) for e in result["events"]] == [f"ping {n}"]
        print(f"\n[{mode}] wire_wait wake after an inbox append: " + ", ".join(f"{x * 1000:.0f} ms" for x in latencies))
        assert max(latencies) < 0.5

        # events that arrive between two waits are not lost: the next wait returns them at once
        _land(bob_home, "carol", _signed_event(carol, "bob", "while away"))
        await asyncio.sleep(0.1)
        quick = ok(await client.call_tool("wire_wait", {"timeout_s": 5}))
        assert [unframe(e["body"], e["body_type"]) for e in quick["events"]] == ["while away"]

        if mode == "legacy":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await client.subscribe_resource("wire://inbox/carol")
            _land(bob_home, "carol", _signed_event(carol, "bob", "notify me"))
            await eventually(lambda: _true(any("updated wire://inbox/carol" in n for n in notes)), within=5)
            # a new peer changes the resource list
            dave, _ = Identity.create(WireHome.at(tmp_path / "dave"), "dave")
            WireAgent(bob_home, Identity.load(bob_home)).pin(dave.card)
            await eventually(lambda: _true(any("list_changed" in n for n in notes)), within=5)
        else:
            async with client.listen(
                resource_subscriptions=["wire://inbox/carol", "wire://inbox/all"], resources_list_changed=True
            ) as sub:
                _land(bob_home, "carol", _signed_event(carol, "bob", "notify me"))
                seen: set[str] = set()
                async with asyncio.timeout(5):
                    async for event in sub:
                        seen.add(str(getattr(event, "uri", type(event).__name__)))
                        if {"wire://inbox/carol", "wire://inbox/all"} <= seen:
                            break
                dave, _ = Identity.create(WireHome.at(tmp_path / "dave"), "dave")
                WireAgent(bob_home, Identity.load(bob_home)).pin(dave.card)
                async with asyncio.timeout(5):
                    async for event in sub:
                        if type(event).__name__ == "ResourcesListChanged":
                            break
        text = (await client.read_resource("wire://inbox/carol")).contents[0]
        assert "notify me" in getattr(text, "text", "")


async def _true(value: bool) -> bool:
    return value


def test_home_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    default = WireHome.from_env({})
    registry = SessionRegistry.for_home(default)
    Identity.create(registry.home("proj"), "proj")
    project = tmp_path / "work" / "proj"
    (project / "src").mkdir(parents=True)
    registry.bind("proj", cwd=project)

    found = resolve_home({}, project / "src")  # parent walk, like the CLI
    assert (found.source, found.session) == ("session", "proj")
    assert found.home == registry.home("proj")
    explicit = resolve_home({"WIRE_HOME": str(tmp_path / "explicit")}, project)
    assert explicit.source == "env"
    assert explicit.home == WireHome.at(tmp_path / "explicit")
    assert resolve_home({}, tmp_path).source == "default"


async def test_respects_a_running_daemon_then_takes_over(tmp_path: Path) -> None:
    home = WireHome.at(tmp_path / "solo")
    Identity.create(home, "solo")
    daemon = Daemon(home, notifications=False)
    daemon.acquire()  # another receiver (the daemon) serves this home
    try:
        async with Client(make_server(tmp_path / "solo"), mode="legacy") as client:
            assert ok(await client.call_tool("wire_whoami", {}))["receiving"] == "daemon"
            daemon.release()

            async def taken_over() -> bool:
                return bool(ok(await client.call_tool("wire_whoami", {}))["receiving"] == "in-process")

            await eventually(taken_over, within=6, interval=0.2)
        assert daemon_status(home) is None  # our in-process receiver released the lock and pidfile
    finally:
        daemon.release()
