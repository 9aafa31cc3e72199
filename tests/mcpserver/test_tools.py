# SPDX-License-Identifier: MIT
"""The tool logic through the SDK's real client, in process, in both protocol eras."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning

from tests.helpers.mcp import Recorder, error_text, eventually, make_server, ok, secrets_of, unique
from tests.helpers.relay_process import RelayProcess
from wire_client import Identity, WireAgent, WireHome
from wire_mcp.views import unframe

MODES = ["auto", "legacy"]


@pytest.mark.parametrize("mode", MODES)
async def test_init_identity_and_clear_errors(tmp_path: Path, mode: str) -> None:
    async with Client(make_server(tmp_path / "a", receive=False), mode=mode) as client:
        assert "wire_init" in error_text(await client.call_tool("wire_whoami", {}))
        here = ok(await client.call_tool("wire_here", {}))
        assert here["initialized"] is False

        created = ok(await client.call_tool("wire_init", {"handle": "alice"}))
        assert created["status"] == "created"
        assert created["did"].startswith("did:wire:alice-")
        again = ok(await client.call_tool("wire_init", {"handle": "alice"}))
        assert again["status"] == "already_initialized"
        assert "refusing" in error_text(await client.call_tool("wire_init", {"handle": "mallory"}))

        who = ok(await client.call_tool("wire_whoami", {}))
        assert who["handle"] == "alice"
        assert who["receiving"] == "off"  # WIRE_MCP_SKIP_AUTO_UP
        assert ok(await client.call_tool("wire_peers", {}))["peers"] == []
        assert ok(await client.call_tool("wire_whois", {}))["kind"] == "self"

        assert "nobody" in error_text(await client.call_tool("wire_send", {"peer": "nobody", "body": "x"}))
        error_text(await client.call_tool("wire_tail", {"peer": "../../etc"}))
        error_text(await client.call_tool("wire_tail", {"limit": 0}))
        bad = ok(await client.call_tool("wire_verify", {"event": {"from": "did:wire:x"}}))
        assert bad["verified"] is False
        waited = ok(await client.call_tool("wire_wait", {"timeout_s": 0.05}))
        assert waited["timed_out"] is True

        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        assert {"wire://inbox/all", "wire://pending/all"} <= uris
        contents = (await client.read_resource("wire://inbox/all")).contents
        assert getattr(contents[0], "text", None) == ""
        assert contents[0].mime_type == "application/x-ndjson"


def test_tools_list_is_lean_and_states_consent(tmp_path: Path) -> None:
    async def run() -> tuple[int, set[str], str]:
        async with Client(make_server(tmp_path / "a", receive=False), mode="legacy") as client:
            listed = await client.list_tools()
            data = listed.model_dump(mode="json", by_alias=True, exclude_none=True)
            size = len(json.dumps(data, separators=(",", ":")).encode())
            names = {t.name for t in listed.tools}
            confirm = next(t for t in listed.tools if t.name == "wire_pair_confirm")
            assert confirm.output_schema is not None
            assert all(t.input_schema.get("type") == "object" for t in listed.tools)
            return size, names, (confirm.description or "") + "\n" + (client.instructions or "")

    size, names, text = asyncio.run(run())
    expected = {
        "wire_whoami", "wire_here", "wire_peers", "wire_whois", "wire_send", "wire_tail", "wire_verify",
        "wire_init", "wire_dial", "wire_pending", "wire_accept", "wire_reject", "wire_pair_initiate",
        "wire_pair_join", "wire_pair_check", "wire_pair_confirm", "wire_invite", "wire_accept_invite",
        "wire_wait", "wire_forget", "wire_ping",
    }  # fmt: skip
    # the deprecated aliases wire_add, wire_pair_list_inbound, wire_pair_accept and wire_pair_reject stay
    # callable but are not advertised
    assert names == expected
    assert "MUST be typed by the user" in text
    assert "Never accept a pair request on your own" in text
    assert "wire_wait" in text
    print(f"\ntools/list: {len(names)} tools, {size} bytes ≈ {size // 4} tokens")
    assert size < 20_000


async def test_every_tool_is_annotated_and_aliases_stay_callable(tmp_path: Path) -> None:
    async with Client(make_server(tmp_path / "a", receive=False), mode="auto") as client:
        tools = (await client.list_tools()).tools
        for tool in tools:
            hints = tool.annotations
            assert hints is not None, tool.name
            assert hints.read_only_hint is not None, tool.name
            assert hints.open_world_hint is not None, tool.name
            if not hints.read_only_hint:
                assert hints.destructive_hint is not None, tool.name
                assert hints.idempotent_hint is not None, tool.name
        by_name = {t.name: t.annotations for t in tools}
        assert by_name["wire_peers"].read_only_hint is True  # type: ignore[union-attr]
        assert by_name["wire_forget"].destructive_hint is True  # type: ignore[union-attr]
        assert by_name["wire_send"].idempotent_hint is True  # type: ignore[union-attr]  # exact retries
        assert by_name["wire_dial"].open_world_hint is True  # type: ignore[union-attr]
        ok(await client.call_tool("wire_init", {"handle": "alice"}))
        assert ok(await client.call_tool("wire_pair_list_inbound", {}))["pending"] == []  # alias, unlisted
        missing = error_text(await client.call_tool("wire_send", {"peer": "nobody", "body": "x"}))
        assert "wire_peers" in missing  # errors name MCP tools, not CLI verbs
        assert "`wire " not in missing


@pytest.mark.parametrize("mode", MODES)
async def test_two_agents_pair_and_talk(tmp_path: Path, relay: RelayProcess, mode: str) -> None:
    """Dial → pending → accept with the operator's consent → messages both ways; wire_wait wakes fast."""
    alice_name, bob_name = unique("alice"), unique("bob")
    a_root, b_root = tmp_path / alice_name, tmp_path / bob_name
    seen = Recorder()
    notes: list[str] = []

    async def on_message(message: Any) -> None:
        params = getattr(getattr(message, "params", None), "uri", None)
        notes.append(f"{getattr(message, 'method', type(message).__name__)} {params or ''}".strip())

    async with (
        Client(make_server(a_root), mode=mode) as alice,
        Client(make_server(b_root), mode=mode, message_handler=on_message) as bob,
    ):

        async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
            return ok(seen.add(await client.call_tool(tool, args)))

        await call(alice, "wire_init", handle=alice_name, relay_url=relay.url)
        await call(bob, "wire_init", handle=bob_name, relay_url=relay.url)
        assert (await call(bob, "wire_init", handle=bob_name, relay_url=relay.url))["status"] == "already_initialized"
        assert (await call(bob, "wire_whoami"))["receiving"] == "in-process"
        async with WireAgent(WireHome.at(b_root), Identity.load(WireHome.at(b_root))) as setup:
            await setup.claim()  # bob claims his nick in the relay directory (no MCP tool for that)

        domain = relay.url.removeprefix("http://")
        dialed = await call(alice, "wire_dial", name=f"{bob_name}@{domain}")
        assert dialed["status"] == "drop_sent"

        woke = await call(bob, "wire_wait", timeout_s=10)
        assert [r["peer_handle"] for r in woke["pair_requests"]] == [alice_name]
        pending = await call(bob, "wire_pending")
        assert [p["peer_handle"] for p in pending["pending"]] == [alice_name]
        refused = seen.add(await bob.call_tool("wire_accept", {"name": alice_name, "operator_approved": False}))
        assert "operator" in error_text(refused)
        accepted = await call(bob, "wire_accept", name=alice_name, operator_approved=True)
        assert accepted["status"] == "bilateral_accepted"

        async def alice_can_reach_bob() -> bool:
            peers = (await call(alice, "wire_peers"))["peers"]
            return any(p["handle"] == bob_name and p["reachable"] for p in peers)

        await eventually(alice_can_reach_bob, within=10)

        if mode == "legacy":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await bob.subscribe_resource(f"wire://inbox/{alice_name}")
                await bob.subscribe_resource("wire://inbox/all")

        waiter = asyncio.create_task(bob.call_tool("wire_wait", {"peer": alice_name, "timeout_s": 10}))
        await asyncio.sleep(0.3)  # the waiter is parked
        sent = await call(alice, "wire_send", peer=bob_name, body="hello bob")
        delivered_at = time.monotonic()
        assert sent["status"] == "delivered"
        got = ok(seen.add(await waiter))
        latency = time.monotonic() - delivered_at
        landed = time.time() - WireHome.at(b_root).inbox_path(alice_name).stat().st_mtime
        assert [unframe(e["body"], e["body_type"]) for e in got["events"]] == ["hello bob"]
        assert got["events"][0]["peer"] == alice_name
        print(
            f"\n[{mode}] wire_wait returned {landed * 1000:.1f} ms after the event landed in the inbox, "
            f"{latency * 1000:.1f} ms after the sender's wire_send returned"
        )
        assert latency < 0.5
        assert landed < 0.5

        retried = await call(alice, "wire_send", peer=bob_name, body="hello bob")  # an agent's naive retry
        assert retried["status"] == "duplicate"
        assert retried["event_id"] == sent["event_id"]
        assert "exact retry" in retried["reason"]
        repeated = await call(alice, "wire_send", peer=bob_name, body="hello bob", again=True)
        assert repeated["status"] == "delivered"
        assert repeated["event_id"] != sent["event_id"]
        await call(bob, "wire_wait", peer=alice_name, timeout_s=10)

        reply = await call(bob, "wire_send", peer=alice_name, body={"answer": 42}, type="decision")
        assert reply["status"] == "delivered"
        back = await call(alice, "wire_wait", timeout_s=10)
        assert unframe(back["events"][0]["body"], back["events"][0]["body_type"]) == {"answer": 42}
        tail = await call(alice, "wire_tail", peer=bob_name, raw=True)
        assert tail["events"][-1]["verified"] is True
        # bob's pair_drop_ack sits in alice's inbox file; like the CLI's tail, the tool shows messages only
        assert {unframe(e["raw"], "json")["type"] for e in tail["events"]} == {"decision"}
        assert ok(await alice.call_tool("wire_verify", {"event": tail["events"][-1]["raw"]}))["verified"] is True
        everything = getattr((await alice.read_resource("wire://inbox/all")).contents[0], "text", "")
        assert all(unframe(json.loads(line)["event"], "json")["type"] == "decision" for line in everything.splitlines())

        ndjson = getattr((await bob.read_resource(f"wire://inbox/{alice_name}")).contents[0], "text", "")
        lines = [json.loads(line) for line in ndjson.splitlines()]
        # the opened body and the signed (sealed) event, each framed as peer data
        assert unframe(lines[-1]["body"], lines[-1]["body_type"]) == "hello bob"
        assert lines[-1]["sealed"] is True
        assert "ct" in unframe(lines[-1]["event"], "json")["body"]
        assert lines[-1]["verified"] is True
        uris = {str(r.uri) for r in (await bob.list_resources()).resources}
        assert f"wire://inbox/{alice_name}" in uris
        if mode == "legacy":
            await eventually(lambda: _async(any(n.endswith(f"wire://inbox/{alice_name}") for n in notes)), within=5)
            assert any(n.startswith("notifications/resources/list_changed") for n in notes)

        unasked = seen.add(await bob.call_tool("wire_forget", {"name": alice_name, "operator_approved": False}))
        assert "operator" in error_text(unasked)
        assert [p["handle"] for p in (await call(bob, "wire_peers"))["peers"]] == [alice_name]
        forgot = await call(bob, "wire_forget", name=alice_name, operator_approved=True)
        assert forgot["removed"] is True
        assert forgot["peer"] == alice_name
        assert (await call(bob, "wire_peers"))["peers"] == []
        assert "wire_peers" in error_text(
            seen.add(await bob.call_tool("wire_forget", {"name": alice_name, "operator_approved": True}))
        )

    leaked = [s for s in secrets_of(a_root, b_root) if any(s in text for text in seen.texts)]
    assert seen.texts
    assert not leaked


async def _async(value: bool) -> bool:
    return value
