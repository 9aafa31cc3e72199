# SPDX-License-Identifier: MIT
"""Resources: ``wire://inbox/all``, ``wire://inbox/<peer>`` (NDJSON of verified events) and ``wire://pending/all``.

Inbox resources hold the last :data:`INBOX_LIMIT` events, oldest first, one JSON object per line:
``{peer, verified, encrypted, sealed, …, body, body_type, event}``. What the peer wrote is framed as in
tool results: ``body`` is the readable body inside an ``<untrusted-peer-data NONCE>`` frame, and
``event`` is the full signed event as JSON text inside its own frame (``wire_verify`` takes it as it
is). Only messages that still verify against the current trust ring are listed (pairing handshakes
are not).
``wire://pending/all`` is a JSON array of inbound pair requests without their cards, slot coordinates
or tokens.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.resources import FunctionResource

from wire_client import HomeError, InboxEvent, WireClientError, signed_part
from wire_mcp.results import scrub
from wire_mcp.runtime import Runtime
from wire_mcp.views import frame_untrusted
from wire_protocol import HANDSHAKE_TYPES, VerificationError, verify_event

__all__ = ["INBOX_LIMIT", "NDJSON", "inbox_uri", "register_resources"]

INBOX_LIMIT = 50
NDJSON = "application/x-ndjson"


def inbox_uri(peer: str) -> str:
    return f"wire://inbox/{peer}"


def _ndjson(rt: Runtime, peer: str | None) -> str:
    if not rt.home.is_initialized:
        return ""
    agent = rt.agent()
    peers = [peer] if peer is not None else agent.inbox.peers()
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for name in peers:
        try:
            events = agent.inbox.read(name)
        except HomeError as exc:
            raise ResourceError(exc.message) from None
        rows.extend((str(e.get("timestamp") or ""), name, e) for e in events if e.get("type") not in HANDSHAKE_TYPES)
    rows.sort(key=lambda row: row[0])
    lines = []
    for _, name, event in rows[-INBOX_LIMIT:]:
        try:
            verify_event(signed_part(event), agent.trust)
        except VerificationError:
            continue
        line = InboxEvent(peer=name, event=event).to_json()
        line["body"], line["body_type"] = (None, "none") if line.get("encrypted") else frame_untrusted(line["body"])
        line["event"] = frame_untrusted(line["event"])[0]
        lines.append(json.dumps(scrub(line), ensure_ascii=False))
    return "".join(f"{line}\n" for line in lines)


def register_resources(server: MCPServer[Any], rt: Runtime) -> None:
    """Add the static resources and the per-peer inbox template to ``server``."""

    async def inbox_all() -> str:
        try:
            return _ndjson(rt, None)
        except WireClientError as exc:
            raise ResourceError(exc.message) from None

    async def pending_all() -> str:
        return json.dumps(scrub(rt.pending()), ensure_ascii=False)

    server.add_resource(
        FunctionResource.from_function(
            inbox_all, uri="wire://inbox/all", name="inbox-all", description="All verified events", mime_type=NDJSON
        )
    )
    server.add_resource(
        FunctionResource.from_function(
            pending_all,
            uri="wire://pending/all",
            name="pending-all",
            description="Inbound pair requests awaiting the operator",
            mime_type="application/json",
        )
    )

    @server.resource(
        "wire://inbox/{peer}", name="inbox-peer", description="Verified events from one peer", mime_type=NDJSON
    )
    async def inbox_peer(peer: str) -> str:
        try:
            return _ndjson(rt, peer)
        except WireClientError as exc:
            raise ResourceError(exc.message) from None
