# SPDX-License-Identifier: MIT
"""MCP `wire_dial` refuses a directory record without a valid claim proof unless the call says
`allow_unproven: true` (issue 18, client side). Real relay process with `--accept-unproven-claims`."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from mcp import Client

from tests.helpers.mcp import error_text, make_server, ok, unique
from tests.helpers.relay_process import RelayProcess
from wire_protocol import SigningKey, build_agent_card


def _post(url: str, body: dict[str, object], token: str | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


async def test_wire_dial_needs_allow_unproven_for_an_unproven_record(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay", extra_args=["--log-level", "warning", "--accept-unproven-claims"]) as relay:
        carol = unique("carol")
        slot = _post(f"{relay.url}/v1/slot/allocate", {})
        card = build_agent_card(SigningKey.generate(), carol).to_json()
        claim = {"nick": carol, "slot_id": slot["slot_id"], "relay_url": None, "card": card}  # no proof
        _post(f"{relay.url}/v1/handle/claim", claim, str(slot["slot_token"]))
        async with Client(make_server(tmp_path / "alice", receive=False)) as alice:
            ok(await alice.call_tool("wire_init", {"handle": unique("alice"), "relay_url": relay.url}))
            address = f"{carol}@{relay.url.removeprefix('http://')}"
            refused = error_text(await alice.call_tool("wire_dial", {"name": address}))
            assert "allow_unproven" in refused
            assert "claim proof" in refused
            dialed = ok(await alice.call_tool("wire_dial", {"name": address, "allow_unproven": True}))
            assert dialed["status"] == "drop_sent"
