# SPDX-License-Identifier: AGPL-3.0-or-later
"""The A2A face of the directory: a v1.0 agent card per claimed nick and the JSON-RPC URL it names.

``GET /.well-known/agent-card.json?handle=<nick>`` serves a card the official A2A SDK parses strictly
(the wire record rides in ``capabilities.extensions``). Its one interface, ``POST /a2a/<nick>``,
answers A2A JSON-RPC calls honestly: a wire agent only takes signed events from peers it paired
with, so every A2A operation gets ``UnsupportedOperationError`` (-32004) saying that nothing was
delivered and how to pair — never a fake success that would swallow the message.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from wire_protocol import a2a_card_for_claim, is_valid_nick
from wire_relay.errors import json_response, read_body
from wire_relay.routes_directory import queried_record
from wire_relay.routes_pages import base_url, domain_of
from wire_relay.state import STORE

__all__ = ["A2A_MAX_BODY_BYTES", "public_routes"]

public_routes = web.RouteTableDef()

#: an A2A request to a wire agent carries nothing we keep; 64 KiB is plenty to read its id
A2A_MAX_BODY_BYTES = 64 * 1024

# JSON-RPC 2.0 and A2A v1.0 error codes
_PARSE_ERROR = -32700
_INVALID_REQUEST = -32600
_METHOD_NOT_FOUND = -32601
_UNSUPPORTED_OPERATION = -32004
_A2A_METHODS = frozenset(
    {
        "SendMessage",
        "SendStreamingMessage",
        "GetTask",
        "ListTasks",
        "CancelTask",
        "SubscribeToTask",
        "CreateTaskPushNotificationConfig",
        "GetTaskPushNotificationConfig",
        "ListTaskPushNotificationConfigs",
        "DeleteTaskPushNotificationConfig",
        "GetExtendedAgentCard",
        # v0.3 names, still sent by older clients
        "message/send",
        "message/stream",
        "tasks/get",
        "tasks/cancel",
    }
)


@public_routes.get("/.well-known/agent-card.json")
async def well_known_a2a(request: web.Request) -> web.Response:
    record = await queried_record(request)
    return json_response(
        a2a_card_for_claim(
            nick=record.nick,
            did=record.did,
            card=record.card,
            slot_id=record.slot_id,
            relay_url=record.relay_url,
            claimed_at=record.claimed_at,
            relay_base=base_url(request),
        )
    )


def _rpc_error(request_id: object, code: int, message: str, *, status: int = 200, data: object = None) -> web.Response:
    error: dict[str, object] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return json_response({"jsonrpc": "2.0", "id": request_id, "error": error}, status=status)


def _request_id(value: object) -> object:
    """The caller's id echoed back only when JSON-RPC allows it (string, integer or null)."""
    return value if value is None or (isinstance(value, str | int) and not isinstance(value, bool)) else None


@public_routes.post("/a2a/{nick}")
async def a2a_rpc(request: web.Request) -> web.Response:
    nick = request.match_info["nick"]
    body = await read_body(request, A2A_MAX_BODY_BYTES)
    try:
        call: Any = json.loads(body)
    except (ValueError, RecursionError):
        return _rpc_error(None, _PARSE_ERROR, "parse error: the body is not JSON")
    if not isinstance(call, dict) or call.get("jsonrpc") != "2.0" or not isinstance(call.get("method"), str):
        return _rpc_error(None, _INVALID_REQUEST, "invalid request: expected a JSON-RPC 2.0 call object")
    request_id = _request_id(call.get("id"))
    method: str = call["method"]
    record = await request.app[STORE].get_handle(nick) if is_valid_nick(nick) else None
    if record is None:
        return _rpc_error(request_id, _UNSUPPORTED_OPERATION, f"nobody has claimed {nick!r} on this relay", status=404)
    if method not in _A2A_METHODS:
        return _rpc_error(request_id, _METHOD_NOT_FOUND, f"method not found: {method[:64]!r}")
    domain = domain_of(request)
    base = base_url(request)
    return _rpc_error(
        request_id,
        _UNSUPPORTED_OPERATION,
        f"{nick} talks over wire, not A2A: nothing was delivered. Pair once with "
        f"`wire dial {nick}@{domain}` (signed agent-to-agent messages), then `wire send {nick} ...`.",
        data={
            "wire": {
                "handle": f"{nick}@{domain}",
                "did": record.did,
                "directory": f"{base}/.well-known/wire/agent?handle={quote(nick)}",
            }
        },
    )
