# SPDX-License-Identifier: MIT
"""The other two ceremonies through the tools: SAS code phrase (digits typed back) and invite URLs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mcp import Client

from tests.helpers.mcp import Recorder, error_text, eventually, make_server, ok, secrets_of, unique
from tests.helpers.relay_process import RelayProcess
from wire_mcp.views import unframe


async def _peers_reachable(client: Client, handle: str) -> bool:
    peers = ok(await client.call_tool("wire_peers", {}))["peers"]
    return any(p["handle"] == handle and p["reachable"] for p in peers)


async def test_sas_and_invite_pairing(tmp_path: Path, relay: RelayProcess) -> None:
    names = {k: unique(k) for k in ("host", "guest", "inviter", "invitee")}
    seen = Recorder()
    roots = {k: tmp_path / k for k in names}
    clients = [Client(make_server(roots[k]), mode="legacy") for k in names]
    async with clients[0] as host, clients[1] as guest, clients[2] as inviter, clients[3] as invitee:
        by_name = {"host": host, "guest": guest, "inviter": inviter, "invitee": invitee}

        async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
            return ok(seen.add(await client.call_tool(tool, args)))

        for key, client in by_name.items():
            await call(client, "wire_init", handle=names[key], relay_url=relay.url)

        # SAS: the host shares the code phrase, both sides see the same SAS, the *user* types it back
        started = await call(host, "wire_pair_initiate", relay_url=relay.url)
        assert started["state"] == "waiting"
        joined = await call(guest, "wire_pair_join", code_phrase=started["code_phrase"], relay_url=relay.url)
        host_view = await call(host, "wire_pair_check", session_id=started["session_id"], max_wait_secs=10)
        guest_view = await call(guest, "wire_pair_check", session_id=joined["session_id"], max_wait_secs=10)
        assert host_view["state"] == guest_view["state"] == "sas_ready"
        assert host_view["sas"] == guest_view["sas"]
        typed = str(host_view["sas"])  # what the operator reads on both screens and types back
        wrong = "000-000" if typed != "000-000" else "111-111"
        mismatch = seen.add(
            await guest.call_tool("wire_pair_confirm", {"session_id": "nope", "user_typed_digits": wrong})
        )
        error_text(mismatch)
        done = await asyncio.gather(
            call(host, "wire_pair_confirm", session_id=started["session_id"], user_typed_digits=typed),
            call(guest, "wire_pair_confirm", session_id=joined["session_id"], user_typed_digits=typed),
        )
        assert {d["state"] for d in done} <= {"paired", "finalizing"}
        await eventually(lambda: _peers_reachable(host, names["guest"]), within=15)
        await eventually(lambda: _peers_reachable(guest, names["host"]), within=15)
        assert (await call(guest, "wire_send", peer=names["host"], body="sas ok"))["status"] == "delivered"

        # invite URL: minting is the inviter's consent; the invitee's drop completes the pairing
        invite = await call(inviter, "wire_invite", ttl_secs=600)
        accepted = await call(invitee, "wire_accept_invite", url=invite["invite_url"], operator_approved=True)
        assert accepted["status"] in ("drop_sent", "queued")
        await eventually(lambda: _peers_reachable(inviter, names["invitee"]), within=15)
        await eventually(lambda: _peers_reachable(invitee, names["inviter"]), within=15)
        assert (await call(inviter, "wire_send", peer=names["invitee"], body="hi")).get("status") == "delivered"
        got = await call(invitee, "wire_wait", peer=names["inviter"], timeout_s=10)
        assert [unframe(e["body"], e["body_type"]) for e in got["events"]] == ["hi"]

    leaked = [s for s in secrets_of(*roots.values()) if any(s in text for text in seen.texts)]
    assert not leaked
