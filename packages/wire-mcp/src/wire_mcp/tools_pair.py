# SPDX-License-Identifier: MIT
"""Pairing tools over ``agent.pairing`` (wire-client): dial, pending, accept/reject, SAS, invites.

Consent is the point of pairing: accepting needs ``operator_approved=true`` (set only after the
operator said yes), and the SAS digits are typed by the user. Legacy names stay as aliases.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult

from wire_mcp.models import AcceptOut, DialOut, ForgetOut, InviteOut, PairOut, PendingOut, RejectOut
from wire_mcp.results import ToolSpec, guarded, reply
from wire_mcp.runtime import Runtime

__all__ = ["pair_tools"]

MAX_PAIR_WAIT = 60.0
_WAIT = {"minimum": 0, "maximum": MAX_PAIR_WAIT, "description": "seconds to wait for progress"}
_CONFIRM = (
    "Finish SAS pairing with the 6 digits the USER typed after comparing them with the peer's. The digits "
    "MUST be typed by the user, never copied from a tool result. A mismatch aborts the pairing."
)


def _wait(seconds: float) -> float:
    if not 0 <= seconds <= MAX_PAIR_WAIT:
        raise ToolError(f"max_wait_secs must be between 0 and {MAX_PAIR_WAIT:g}")
    return seconds


def _sas_summary(status: dict[str, Any]) -> str:
    state = status.get("state")
    parts = [f"SAS pairing {state}"]
    if state == "waiting" and status.get("code_phrase"):
        parts.append(f"code phrase {status['code_phrase']} (give it to the other side)")
    if status.get("sas"):
        parts.append(f"SAS {status['sas']}: the user compares it with the peer's and types it into wire_pair_confirm")
    if status.get("peer_handle"):
        parts.append(f"peer {status['peer_handle']}")
    if status.get("reason"):
        parts.append(f"reason: {status['reason']}")
    return "; ".join(parts)


def forget_tool(rt: Runtime) -> ToolSpec:
    """``wire_forget``: unpair (destructive, so the operator approves, as for accepting)."""

    @guarded
    async def wire_forget(name: str, operator_approved: bool) -> Annotated[CallToolResult, ForgetOut]:
        if not operator_approved:
            raise ToolError(f"ask the operator whether to unpair from {name!r} first; never unpair on your own")
        data: dict[str, Any] = (await rt.agent().pairing.forget(name)).to_json()
        if not data.get("removed"):
            raise ToolError(f"no pinned peer {name!r}; wire_peers lists them")
        revoked = "their delivery token is revoked" if data.get("token_revoked") else "their later events are refused"
        return reply(data, f"unpaired from {data['peer']}; {revoked}")

    return ToolSpec(
        "wire_forget",
        "Unpair from a peer (operator approval required): drops the pin; its later events are refused.",
        wire_forget,
        {
            "name": {"description": "handle or nickname"},
            "operator_approved": {"description": "true only once the operator said yes"},
        },
    )


def pair_tools(rt: Runtime) -> list[ToolSpec]:
    """The pairing tools, aliases included."""

    @guarded
    async def wire_dial(
        name: str,
        message: str | None = None,
        relay_url: str | None = None,
        operator_approved: bool = False,
        allow_unproven: bool = False,
    ) -> Annotated[CallToolResult, DialOut]:
        pairing = rt.agent().pairing
        result = await pairing.dial(
            name, message, relay_url=relay_url, approve_pending=operator_approved, allow_unproven=allow_unproven
        )
        data: dict[str, Any] = result.to_json()
        status = str(data.get("status"))
        if status == "not_found":
            candidates = data.get("candidates") or []
            more = f" Did you mean: {', '.join(map(str, candidates))}?" if candidates else ""
            return reply(data, f"no peer matched {name!r}.{more}")
        peer = data.get("peer_handle") or data.get("resolved_handle")
        nxt = " The peer must accept; wire_wait reports the ack." if status == "drop_sent" else ""
        return reply(data, f"{status}: {peer}.{nxt}")

    @guarded
    async def wire_pending() -> Annotated[CallToolResult, PendingOut]:
        requests = [r.to_json() for r in rt.agent().pairing.pending()]
        who = ", ".join(str(r.get("peer_handle")) for r in requests)
        summary = (
            f"{len(requests)} pair request(s) from {who}: ask the operator, then wire_accept or wire_reject"
            if requests
            else "no pending pair requests"
        )
        return reply(PendingOut(pending=requests), summary)

    @guarded
    async def wire_accept(name: str, operator_approved: bool) -> Annotated[CallToolResult, AcceptOut]:
        if not operator_approved:
            raise ToolError(f"ask the operator whether to pair with {name!r} first; never accept on your own")
        data: dict[str, Any] = (await rt.agent().pairing.accept(name)).to_json()
        peer = str(data.get("peer_handle") or name)
        return reply(data, f"{data.get('status')}: paired with {peer}; you can wire_send now")

    @guarded
    async def wire_reject(name: str, notify: bool = True) -> Annotated[CallToolResult, RejectOut]:
        data: dict[str, Any] = (await rt.agent().pairing.reject(name, notify=notify)).to_json()
        return reply(data, _reject_summary(data, name))

    @guarded
    async def wire_pair_initiate(
        relay_url: str | None = None, max_wait_secs: float = 0
    ) -> Annotated[CallToolResult, PairOut]:
        status = await rt.agent().pairing.pair_host(relay_url=relay_url, wait_seconds=_wait(max_wait_secs))
        data: dict[str, Any] = status.to_json()
        return reply(data, _sas_summary(data))

    @guarded
    async def wire_pair_join(
        code_phrase: str, relay_url: str | None = None, max_wait_secs: float = 8
    ) -> Annotated[CallToolResult, PairOut]:
        status = await rt.agent().pairing.pair_join(code_phrase, relay_url=relay_url, wait_seconds=_wait(max_wait_secs))
        data: dict[str, Any] = status.to_json()
        return reply(data, _sas_summary(data))

    @guarded
    async def wire_pair_check(session_id: str, max_wait_secs: float = 8) -> Annotated[CallToolResult, PairOut]:
        status = await rt.agent().pairing.pair_check(session_id, wait_seconds=_wait(max_wait_secs))
        data: dict[str, Any] = status.to_json()
        return reply(data, _sas_summary(data))

    @guarded
    async def wire_pair_confirm(
        session_id: str, user_typed_digits: str, max_wait_secs: float = 30
    ) -> Annotated[CallToolResult, PairOut]:
        pairing = rt.agent().pairing
        status = await pairing.pair_confirm(session_id, user_typed_digits, wait_seconds=_wait(max_wait_secs))
        data: dict[str, Any] = status.to_json()
        return reply(data, _sas_summary(data))

    @guarded
    async def wire_invite(
        ttl_secs: int = 3600, uses: int = 1, share: bool = False, relay_url: str | None = None
    ) -> Annotated[CallToolResult, InviteOut]:
        if not (60 <= ttl_secs <= 7 * 86400 and 1 <= uses <= 100):
            raise ToolError("ttl_secs must be 60..604800 and uses 1..100")
        pairing = rt.agent().pairing
        result = await pairing.mint_invite(ttl_seconds=ttl_secs, uses=uses, share=share, relay_url=relay_url)
        data: dict[str, Any] = {**result.to_json(), "status": "minted"}
        return reply(data, f"invite minted ({uses} use(s), {ttl_secs}s): give the URL only to the intended peer")

    @guarded
    async def wire_accept_invite(url: str, operator_approved: bool) -> Annotated[CallToolResult, InviteOut]:
        if not operator_approved:
            raise ToolError("accepting an invite pins its issuer: ask the operator first; never accept on your own")
        data: dict[str, Any] = (await rt.agent().pairing.accept_invite(url)).to_json()
        return reply(data, f"{data.get('status')}: pairing with {data.get('peer_handle')}; their ack completes it")

    name = {"description": "peer handle, nickname or DID"}
    notify = {"description": "tell the dialer its request was declined (default true); false rejects quietly"}
    relay = {"description": "relay URL (default: your own)"}
    return [
        ToolSpec(
            "wire_dial",
            "Pair with nick@domain (signed request; they must accept), or reach a pinned peer / local session.",
            wire_dial,
            dial := {
                "name": {"description": "nick@domain or a local name"},
                "message": {"description": "optional"},
                "operator_approved": {
                    "description": "true only once the operator said yes: needed when the name has a pending "
                    "pair request (dialing it accepts the request)"
                },
                "allow_unproven": {
                    "description": "dial a directory record without a valid claim proof (only on the user's say-so)"
                },
            },
        ),
        ToolSpec("wire_add", "Alias of wire_dial.", wire_dial, dial),
        ToolSpec("wire_pending", "Inbound pair requests waiting for the operator's decision.", wire_pending),
        ToolSpec("wire_pair_list_inbound", "Alias of wire_pending.", wire_pending),
        ToolSpec(
            "wire_accept",
            "Accept a pending pair request. Only after the operator approved it; never on your own.",
            wire_accept,
            accept := {"name": name, "operator_approved": {"description": "true only once the operator said yes"}},
        ),
        ToolSpec("wire_pair_accept", "Alias of wire_accept (operator approval required).", wire_accept, accept),
        ToolSpec(
            "wire_reject",
            "Reject a pending pair request (it will not come back); the dialer is told unless notify=false.",
            wire_reject,
            {"name": name, "notify": notify},
        ),
        ToolSpec("wire_pair_reject", "Alias of wire_reject.", wire_reject, {"name": name, "notify": notify}),
        forget_tool(rt),
        ToolSpec(
            "wire_pair_initiate",
            "Start SAS pairing; returns a code phrase for the other side.",
            wire_pair_initiate,
            {"relay_url": relay, "max_wait_secs": _WAIT},
        ),
        ToolSpec(
            "wire_pair_join",
            "Join SAS pairing with the other side's code phrase.",
            wire_pair_join,
            {"code_phrase": {"description": "e.g. 12-ABCDEF"}, "relay_url": relay, "max_wait_secs": _WAIT},
        ),
        ToolSpec(
            "wire_pair_check",
            "Progress of a SAS pairing; shows the SAS to compare when ready.",
            wire_pair_check,
            {"max_wait_secs": _WAIT},
        ),
        ToolSpec(
            "wire_pair_confirm",
            _CONFIRM,
            wire_pair_confirm,
            {"user_typed_digits": {"description": "exactly as the user typed them"}, "max_wait_secs": _WAIT},
        ),
        ToolSpec(
            "wire_invite",
            "Mint a pairing invite URL (a secret: share only with the intended peer).",
            wire_invite,
            {
                "ttl_secs": {"minimum": 60, "maximum": 7 * 86400},
                "uses": {"minimum": 1, "maximum": 100},
                "share": {"description": "also register a short https URL"},
            },
        ),
        ToolSpec(
            "wire_accept_invite",
            "Accept a pairing invite URL from a peer. Only after the operator approved it; never on your own.",
            wire_accept_invite,
            {
                "url": {"description": "wire://pair?... or a short invite URL"},
                "operator_approved": accept["operator_approved"],
            },
        ),
    ]


def _reject_summary(data: dict[str, Any], name: str) -> str:
    peer = data.get("peer") or name
    if not data.get("had_pending"):
        return f"nothing pending from {peer}"
    if data.get("notified") is True:
        return f"rejected {peer}; they were told"
    if data.get("notified") is False:
        return f"rejected {peer}; telling them failed: {data.get('notify_error')}"
    return f"rejected {peer} quietly (not told)"
