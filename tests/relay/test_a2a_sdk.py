# SPDX-License-Identifier: MIT
"""The relay's A2A card, read and called by the official A2A SDK (``a2a-sdk``) over real HTTP.

The card must parse *strictly* (no unknown field), carry every field A2A v1.0 calls REQUIRED (the
SDK's protobuf types do not enforce them), and name a JSON-RPC URL the SDK's own client can call.
The call must fail loudly with how to pair: a wire agent takes nothing from an unpaired caller, and
a fake success would swallow the message.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, create_client
from a2a.types import AgentCard, Message, Part, Role, SendMessageRequest
from a2a.utils.errors import UnsupportedOperationError
from google.protobuf.json_format import ParseDict

from tests.relay.conftest import Client, claim, make_agent, new_slot
from wire_protocol import A2A_EXTENSION_URI, parse_a2a_card


async def _claimed(client: Client, nick: str) -> Any:
    agent = make_agent(nick, profile={"display_name": "Alice A.", "motto": "hi"})
    slot_id, token = await new_slot(client)
    assert (await claim(client, agent, slot_id, token)).status == 201
    return agent


def _check_required(card: AgentCard) -> None:
    present = {
        "name": card.name,
        "description": card.description,
        "version": card.version,
        "interface url": card.supported_interfaces[0].url if card.supported_interfaces else "",
        "capabilities": card.HasField("capabilities"),
        "default input modes": list(card.default_input_modes),
        "default output modes": list(card.default_output_modes),
        "skills": list(card.skills),
    }
    for skill in card.skills:
        present |= {f"skill {skill.id!r} {name}": getattr(skill, name) for name in ("id", "name", "description")}
        present[f"skill {skill.id!r} tags"] = list(skill.tags)
    assert [name for name, value in present.items() if not value] == []


async def test_card_parses_strictly_with_the_sdk(client: Client) -> None:
    alice = await _claimed(client, "alice")
    doc = await (await client.get("/.well-known/agent-card.json?handle=alice")).json()
    card = ParseDict(doc, AgentCard())  # strict: raises on any field A2A v1.0 does not define
    _check_required(card)
    assert card.supported_interfaces[0].protocol_binding == "JSONRPC"
    assert card.supported_interfaces[0].protocol_version == "1.0"
    (extension,) = card.capabilities.extensions
    assert extension.uri == A2A_EXTENSION_URI
    assert parse_a2a_card(doc).card == alice.card  # and our own resolver still reads the record


async def test_sdk_resolver_and_client_get_a_clear_answer(client: Client) -> None:
    alice = await _claimed(client, "alice")
    base = str(client.make_url("")).rstrip("/")
    async with httpx.AsyncClient(timeout=10) as http:
        card = await A2ACardResolver(http, base, "/.well-known/agent-card.json?handle=alice").get_agent_card()
        _check_required(card)
        assert card.supported_interfaces[0].url == f"{base}/a2a/alice"
        sdk = await create_client(card, ClientConfig(streaming=False, httpx_client=http))
        message = Message(role=Role.ROLE_USER, message_id="m-1", parts=[Part(text="hello alice")])

        async def send() -> None:
            async for _ in sdk.send_message(SendMessageRequest(message=message)):
                pytest.fail("the relay must not pretend the message was delivered")

        with pytest.raises(UnsupportedOperationError) as refused:
            await send()
    text = str(refused.value)
    assert "nothing was delivered" in text
    assert "wire dial alice@" in text
    raw = await client.post("/a2a/alice", json={"jsonrpc": "2.0", "id": 7, "method": "SendMessage", "params": {}})
    answer = await raw.json()
    assert (raw.status, answer["id"], answer["error"]["code"]) == (200, 7, -32004)
    assert answer["error"]["data"]["wire"]["did"] == alice.card.did


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/a2a/nobody", {"jsonrpc": "2.0", "id": 1, "method": "SendMessage"}, 404, -32004),
        ("/a2a/alice", {"jsonrpc": "2.0", "id": 1, "method": "Shutdown"}, 200, -32601),
        ("/a2a/alice", {"id": 1, "method": "SendMessage"}, 200, -32600),
        ("/a2a/alice", ["not", "an", "object"], 200, -32600),
        ("/a2a/alice", "1" * 5000, 200, -32700),  # a 5,000-digit integer: Python's int limit, clean error
    ],
)
async def test_bad_calls_get_json_rpc_errors(client: Client, path: str, body: Any, status: int, code: int) -> None:
    await _claimed(client, "alice")
    data = body if isinstance(body, str) else None
    resp = await (
        client.post(path, data=data, headers={"Content-Type": "application/json"})
        if data
        else client.post(path, json=body)
    )
    assert resp.status == status
    assert (await resp.json())["error"]["code"] == code


async def test_oversized_call_is_refused_before_parsing(client: Client) -> None:
    await _claimed(client, "alice")
    resp = await client.post(
        "/a2a/alice", data=b"{" + b" " * (70 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert "error" in await resp.json()
