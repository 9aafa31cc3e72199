# SPDX-License-Identifier: MIT
"""Identity, messaging and attention tools: thin adapters over wire-client.

whoami, here, peers, whois, send, tail, verify, init, wait. Each spec is ``ToolSpec``: name,
description, function, and per-parameter schema hints (descriptions, bounds) merged into the schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult

from wire_client import HandleClaimError, Identity, PeerInfo, SessionRegistry, WireAgent, signed_part
from wire_mcp.models import (
    HereOut,
    InitOut,
    PeersOut,
    PingOut,
    SendOut,
    TailOut,
    VerifyOut,
    WaitOut,
    WhoamiOut,
    WhoisOut,
)
from wire_mcp.results import ToolSpec, guarded, name_tools, reply
from wire_mcp.runtime import Runtime
from wire_mcp.views import FRAME_TAG, character_view, event_view, frame_untrusted, unframe
from wire_protocol import HANDSHAKE_TYPES, VerificationError, b64encode, parse_address, verify_card, verify_event

__all__ = ["MAX_WAIT", "core_tools"]

MAX_WAIT = 300.0
MAX_TAIL = 1000


def _handle_of(agent: WireAgent, name: str) -> str:
    """The pinned handle ``name`` stands for (wire-client's one name resolver), else ``name`` as typed."""
    return agent.pairing.resolve_name(name).pinned_handle or name


def _char(did: str) -> dict[str, Any]:
    return {"character": character_view(did)}


def core_tools(rt: Runtime) -> list[ToolSpec]:
    """The non-pairing tools."""
    return _identity_tools(rt) + _message_tools(rt) + _setup_tools(rt)


def _identity_tools(rt: Runtime) -> list[ToolSpec]:
    @guarded
    async def wire_whoami() -> Annotated[CallToolResult, WhoamiOut]:
        agent = rt.agent()
        card = agent.card
        character = agent.identity.character()
        receiving = await rt.ensure_receiving()
        out: WhoamiOut = {
            "did": card.did,
            "handle": card.handle,
            "fingerprint": card.fingerprint,
            "key_id": card.key_id,
            "public_key_b64": b64encode(card.public_key),
            "capabilities": card.capabilities,
            "character": {"nickname": character.nickname, "emoji": character.emoji},
            "wire_home": rt.choice.path,
            "endpoints": [ep.redacted() for ep in agent.endpoints()],
            "receiving": receiving,
        }
        if rt.choice.session is not None:
            out["session"] = rt.choice.session
        count = len(out["endpoints"])
        slots = f"{count} slot(s)" if count else "no relay slot (call wire_init with relay_url)"
        return reply(out, f"{character.short()} {card.handle} ({card.did}); {slots}; receiving: {receiving}")

    @guarded
    async def wire_here() -> Annotated[CallToolResult, HereOut]:
        if not rt.home.is_initialized:
            first = "not initialized: call wire_init with a handle"
            return reply(HereOut(initialized=False, hint=first), first)
        agent = rt.agent()
        sisters: list[dict[str, Any]] = []
        seen: set[str] = set()
        local = SessionRegistry.for_home(rt.home).list_local().get("local")
        for group in local.values() if isinstance(local, dict) else []:
            for entry in group if isinstance(group, list) else []:
                did = entry.get("did") if isinstance(entry, dict) else None
                if isinstance(entry, dict) and isinstance(did, str) and did != agent.did and did not in seen:
                    seen.add(did)
                    sisters.append({"session": entry.get("name"), "handle": entry.get("handle"), **_char(did)})
        peers = [
            {"handle": p.handle, "did": p.did, "tier": p.tier.name, "state": p.state, "reachable": p.reachable}
            | _char(p.did)
            for p in agent.peers()
        ]
        me = {
            "handle": agent.handle,
            "did": agent.did,
            "character": character_view(agent.did),
            "cwd": str(Path.cwd()),
            "wire_home": rt.choice.path,
            "session": rt.choice.session,
        }
        out = HereOut(initialized=True, sister_sessions=sisters, pinned_peers=peers)
        out["self"] = me
        if not sisters and not peers:
            out["hint"] = "no neighbors yet: wire_dial nick@relay, or wire_invite"
        return reply(out, f"{agent.handle}: {len(peers)} peer(s), {len(sisters)} sister session(s)")

    @guarded
    async def wire_peers() -> Annotated[CallToolResult, PeersOut]:
        peers = rt.agent().peers()
        listed = ", ".join(f"{p.handle} ({_state_text(p)})" for p in peers)
        return reply(PeersOut(peers=[p.to_json() for p in peers]), f"{len(peers)} peer(s): {listed or 'none'}")

    @guarded
    async def wire_whois(name: str | None = None) -> Annotated[CallToolResult, WhoisOut]:
        agent = rt.agent()
        if not name:
            record = {"did": agent.did, "profile": agent.identity.profile()}
            return reply(WhoisOut(found=True, kind="self", record=record), f"self: {agent.handle} ({agent.did})")
        if "@" in name:
            address = parse_address(name)
            payload = await agent.relay(address.relay_url).resolve_handle(address.nick)
            card = verify_card(payload.get("card"))  # a relay must not be able to forge a card
            found = {k: v for k, v in payload.items() if k != "card"} | {"did": card.did, "handle": card.handle}
            out = WhoisOut(found=True, kind="federation", record=found)
            return reply(out, f"{name} is {card.did} (card signature verified)")
        resolution = agent.pairing.resolve_name(name)
        match = resolution.match
        if match is not None and match.tier is not None:
            pinned = {
                "handle": match.handle,
                "did": match.did,
                "tier": match.tier.name,
                "state": _state_of(agent, match.handle),
                **_char(match.did),
            }
            return reply(
                WhoisOut(found=True, kind="pinned_peer", record=pinned),
                f"{name} is pinned peer {match.did} ({pinned['state']})",
            )
        if match is not None:
            sister = {"handle": match.handle, "did": match.did, "session": match.session, **_char(match.did)}
            out = WhoisOut(found=True, kind="local_sister", record=sister)
            return reply(out, f"{name} is the sister session {match.session} on this machine (not paired yet)")
        candidates = list(resolution.candidates)
        more = f" Did you mean: {', '.join(candidates)}?" if candidates else " Try wire_dial nick@relay-domain."
        return reply(WhoisOut(found=False, candidates=candidates), f"no peer matched {name!r}.{more}")

    return [
        ToolSpec(
            "wire_whoami", "Your wire identity: handle, DID, fingerprint, relay slots, receive mode.", wire_whoami
        ),
        ToolSpec("wire_here", "Where you are: self, sister sessions on this machine, pinned peers.", wire_here),
        ToolSpec("wire_peers", "Pinned peers with trust tier and reachability.", wire_peers),
        ToolSpec(
            "wire_whois",
            "Look up a peer, local name or nick@domain (card verified). No name: self.",
            wire_whois,
            {"name": {"description": "handle, nickname, DID or nick@domain"}},
        ),
    ]


def _message_tools(rt: Runtime) -> list[ToolSpec]:
    @guarded
    async def wire_send(
        peer: str, body: Any, type: str = "claim", deadline: str | None = None, again: bool = False
    ) -> Annotated[CallToolResult, SendOut]:
        agent = rt.agent()
        result = await agent.send(_handle_of(agent, peer), body, type=type, deadline=deadline, repeat=again)
        why = f" ({result.reason})" if result.reason else ""
        return reply(result.to_json(), f"{result.status} to {result.peer}{why}")

    @guarded
    async def wire_tail(
        peer: str | None = None, limit: int = 50, raw: bool = False
    ) -> Annotated[CallToolResult, TailOut]:
        if not 1 <= limit <= MAX_TAIL:
            raise ToolError(f"limit must be between 1 and {MAX_TAIL}")
        agent = rt.agent()
        peers = [_handle_of(agent, peer)] if peer is not None else agent.inbox.peers()
        rows: list[dict[str, Any]] = []
        for name in peers:
            for event in agent.inbox.read(name):
                if event.get("type") in HANDSHAKE_TYPES:
                    continue  # pairing handshakes are not messages (the CLI's tail hides them too)
                try:
                    verify_event(signed_part(event), agent.trust)
                    verified = True
                except VerificationError:
                    verified = False
                view = event_view(name, event, verified=verified)
                if raw:  # the signed event as JSON text, framed like the body (wire_verify takes it as it is)
                    view["raw"] = frame_untrusted(signed_part(event))[0]
                rows.append(view)
        rows.sort(key=lambda r: str(r.get("timestamp") or ""))
        rows = rows[-limit:]
        return reply(TailOut(events=rows), f"{len(rows)} event(s), oldest first")

    @guarded
    async def wire_ping(peer: str, timeout_s: float = 5.0) -> Annotated[CallToolResult, PingOut]:
        if not 0.1 <= timeout_s <= 60:
            raise ToolError("timeout_s must be between 0.1 and 60")
        agent = rt.agent()
        result = await agent.ping(_handle_of(agent, peer), wait_seconds=timeout_s)
        text = (
            f"{result.peer} is alive: {result.rtt_ms} ms round trip"
            if result.alive
            else (f"{result.peer} did not answer: {result.reason}")
        )
        return reply(result.to_json(), text)

    @guarded
    async def wire_verify(event: dict[str, Any] | str) -> Annotated[CallToolResult, VerifyOut]:
        agent = rt.agent()
        if isinstance(event, str) and event.startswith(f"<{FRAME_TAG} "):
            event = unframe(event, "json")  # as wire_tail raw and the inbox resources frame it
        data: Any = json.loads(event) if isinstance(event, str) else event
        try:
            verified = verify_event(data, agent.trust)
        except VerificationError as exc:
            reason = f"{exc.code}: {exc}"
            return reply(VerifyOut(verified=False, reason=reason), f"NOT verified: {reason}")
        out = VerifyOut(verified=True, event_id=verified.event_id, sender=verified.sender_handle)
        return reply(out, f"verified: signed by {verified.sender_handle}")

    return [
        ToolSpec(
            "wire_send",
            "Send a signed event to a pinned peer. Result: delivered, duplicate, or queued with the reason.",
            wire_send,
            {
                "peer": {"description": "handle or nickname"},
                "body": {"description": "text or any JSON"},
                "type": {"description": "event type, e.g. claim, ack, decision"},
                "deadline": {"description": "time_sensitive_until: 30m, 2h, 1d or RFC 3339"},
                "again": {
                    "description": "send a new event even if the same type and body went to this peer in the last "
                    "10 minutes (otherwise that is an exact retry: reported as duplicate, nothing sent)"
                },
            },
        ),
        ToolSpec(
            "wire_tail",
            "Recent inbox events (re-verified), oldest first.",
            wire_tail,
            {
                "limit": {"minimum": 1, "maximum": MAX_TAIL},
                "raw": {"description": "include the signed events (framed JSON text)"},
            },
        ),
        ToolSpec(
            "wire_ping",
            "Is a peer's daemon up? Sends a liveness probe; alive + round-trip ms, or not alive with the reason.",
            wire_ping,
            {"peer": {"description": "handle or nickname"}, "timeout_s": {"minimum": 0.1, "maximum": 60}},
        ),
        ToolSpec(
            "wire_verify",
            "Verify a signed event (object, JSON text, or a framed raw event) against your trust ring.",
            wire_verify,
        ),
    ]


def _setup_tools(rt: Runtime) -> list[ToolSpec]:
    @guarded
    async def wire_init(
        handle: str, name: str | None = None, relay_url: str | None = None
    ) -> Annotated[CallToolResult, InitOut]:
        identity, result = Identity.create(rt.home, handle, name=name)
        agent = rt.adopt(identity)
        notes = ""
        if relay_url is not None:  # the same steps as `wire init --relay`: slot, then the handle claimed
            try:
                attached = await agent.attach_relay(relay_url)
            except HandleClaimError as exc:  # the slot is ours and works; only the directory entry failed
                notes = f"; slot on {exc.relay_url}; handle NOT claimed ({exc.reason}): {exc.message}"
            else:
                where = attached.endpoint.relay_url
                notes = f"; slot allocated on {where}" if attached.newly_bound else f"; already on {where}"
                notes += "; handle claimed"
        elif not agent.endpoints():
            notes = "; no relay slot yet: call again with relay_url to receive messages"
        await rt.ensure_receiving()
        out: InitOut = {
            "status": result.status,
            "did": result.did,
            "handle": result.handle,
            "wire_home": rt.choice.path,
            "endpoints": [ep.redacted() for ep in agent.endpoints()],
        }
        return reply(out, f"{result.status}: {result.handle} ({result.did}){notes}")

    @guarded
    async def wire_wait(
        peer: str | None = None, timeout_s: float = 60.0, since: int | None = None
    ) -> Annotated[CallToolResult, WaitOut]:
        if not 0 <= timeout_s <= MAX_WAIT:
            raise ToolError(f"timeout_s must be between 0 and {MAX_WAIT:g}")
        if rt.home.is_initialized:
            await rt.ensure_receiving()
            if peer is not None:
                peer = _handle_of(rt.agent(), peer)
        items, cursor, timed_out = await rt.watcher.wait(peer=peer, seconds=timeout_s, since=since)
        events = [i.data for i in items if i.kind == "event"]
        requests = [i.data for i in items if i.kind == "pair_request"]
        out = WaitOut(events=events, pair_requests=requests, cursor=cursor, timed_out=timed_out)
        if timed_out:
            return reply(out, f"nothing new in {timeout_s:g}s; call wire_wait again to keep listening")
        parts = []
        if events:
            parts.append(f"{len(events)} new event(s) from {', '.join(sorted({str(e['peer']) for e in events}))}")
        if requests:
            who = ", ".join(str(r.get("peer_handle")) for r in requests)
            parts.append(f"pair request(s) from {who}: ask the operator before wire_accept")
        return reply(out, "; ".join(parts))

    return [
        ToolSpec(
            "wire_init",
            "Create this home's identity (same handle again is a no-op); relay_url also allocates a mailbox slot.",
            wire_init,
            {"handle": {"description": "letters, digits, _ and -"}},
        ),
        ToolSpec(
            "wire_wait",
            "Block until new messages or pair requests arrive, then return them. Loop on it to stay attentive.",
            wire_wait,
            {
                "peer": {"description": "only events from this peer"},
                "timeout_s": {"minimum": 0, "maximum": MAX_WAIT},
                "since": {"description": "cursor of an earlier result (default: all not yet returned)"},
            },
        ),
    ]


def _state_text(peer: PeerInfo) -> str:
    """``wire_peers`` prose: the one state (``REFUSED``/``PENDING_ACK``/tier), with the refusal's note."""
    if peer.state == "REFUSED" and peer.refusal is not None:
        return f"REFUSED: {name_tools(peer.refusal.text())}"
    return peer.state + ("" if peer.reachable else ", no slot yet")


def _state_of(agent: WireAgent, handle: str) -> str:
    return next((p.state for p in agent.peers() if p.handle == handle), "UNKNOWN")
