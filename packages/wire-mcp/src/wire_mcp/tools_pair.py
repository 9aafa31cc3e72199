# SPDX-License-Identifier: MIT
"""Pairing tools over ``agent.pairing`` (wire-client): dial, pending, accept/reject, SAS, invites.

Consent is the point of pairing: every tool that pins or unpins a peer goes through the one gate in
:mod:`wire_mcp.consent` (the host's own prompt when the client can elicit, else ``operator_approved``).
With elicitation the SAS digits are shown only inside that prompt, never in a result; without it the
user types them. Legacy names stay as aliases.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult

from wire_client import SasStatus, WireAgent
from wire_mcp.consent import elicitation_available
from wire_mcp.models import AcceptOut, DialOut, ForgetOut, InviteOut, PairOut, PendingOut, RejectOut
from wire_mcp.results import ToolSpec, guarded, reply
from wire_mcp.runtime import Runtime
from wire_mcp.subjects import (
    directory_subject,
    invite_subject,
    pending_subject,
    pinned_subject,
    resolve_invite_url,
    sas_subject,
)
from wire_protocol import display_handle_from_did

__all__ = ["pair_tools"]

MAX_PAIR_WAIT = 60.0
_RELAY = {"description": "relay URL (default: your own)"}
_WAIT = {"minimum": 0, "maximum": MAX_PAIR_WAIT, "description": "seconds to wait for progress"}
_CONFIRM = (
    "Finish SAS pairing. If the host prompts its user, the user compares the code there and answers there "
    "(send no digits). Otherwise the 6 digits MUST be typed by the user after comparing them with the peer's, "
    "never copied from a tool result. A mismatch aborts the pairing."
)
#: the flag's description: on a host that can prompt its user, the prompt decides and this counts for nothing
_APPROVED = {"description": "true only once the operator said yes; a host prompt, if any, decides instead"}
Ctx = Context[Any, Any] | None
_IDS = frozenset({"session_id", "code_phrase", "relay_url", "peer_did", "peer_handle"})  # never rewritten


def _wait(seconds: float) -> float:
    if not 0 <= seconds <= MAX_PAIR_WAIT:
        raise ToolError(f"max_wait_secs must be between 0 and {MAX_PAIR_WAIT:g}")
    return seconds


def _sas_reply(ctx: Ctx, status: SasStatus) -> CallToolResult:
    """A SAS result; when the host prompts its user, without the digits (they go only into that prompt)."""
    data: dict[str, Any] = status.to_json()
    if elicitation_available(ctx) and status.sas:
        data = _without_digits(data, status.sas)
        if data.get("state") == "sas_ready":
            data["next"] = "call wire_pair_confirm with this session_id: the host shows the code to the user"
    return reply(data, _sas_summary(data))


def _without_digits(value: Any, sas: str) -> Any:
    if isinstance(value, dict):
        return {k: v if k in _IDS else _without_digits(v, sas) for k, v in value.items() if k != "sas"}
    if isinstance(value, str):
        return value.replace(f"{sas[:3]}-{sas[3:]}", "<shown to the user>").replace(sas, "<shown to the user>")
    return value


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
    async def wire_forget(
        name: str, operator_approved: bool = False, ctx: Ctx = None
    ) -> Annotated[CallToolResult, ForgetOut]:
        agent = rt.agent()
        subject = pinned_subject(agent, name)
        refusal = f"ask the operator whether to unpair from {name!r} first"
        await rt.consent.require(ctx, subject, operator_approved=operator_approved, refusal=refusal)
        data: dict[str, Any] = (await agent.pairing.forget(name)).to_json()
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
            "operator_approved": _APPROVED,
        },
    )


def sas_tools(rt: Runtime) -> list[ToolSpec]:
    """SAS pairing with a code phrase; with a host prompt the digits never reach the model."""

    @guarded
    async def wire_pair_initiate(
        relay_url: str | None = None, max_wait_secs: float = 0, ctx: Ctx = None
    ) -> Annotated[CallToolResult, PairOut]:
        status = await rt.agent().pairing.pair_host(relay_url=relay_url, wait_seconds=_wait(max_wait_secs))
        return _sas_reply(ctx, status)

    @guarded
    async def wire_pair_join(
        code_phrase: str, relay_url: str | None = None, max_wait_secs: float = 8, ctx: Ctx = None
    ) -> Annotated[CallToolResult, PairOut]:
        status = await rt.agent().pairing.pair_join(code_phrase, relay_url=relay_url, wait_seconds=_wait(max_wait_secs))
        return _sas_reply(ctx, status)

    @guarded
    async def wire_pair_check(
        session_id: str, max_wait_secs: float = 8, ctx: Ctx = None
    ) -> Annotated[CallToolResult, PairOut]:
        status = await rt.agent().pairing.pair_check(session_id, wait_seconds=_wait(max_wait_secs))
        return _sas_reply(ctx, status)

    @guarded
    async def wire_pair_confirm(
        session_id: str, user_typed_digits: str | None = None, max_wait_secs: float = 30, ctx: Ctx = None
    ) -> Annotated[CallToolResult, PairOut]:
        agent = rt.agent()
        if elicitation_available(ctx):
            digits = await _sas_digits_from_operator(rt, agent, ctx, session_id)
        elif user_typed_digits is None:
            raise ToolError("user_typed_digits is required: the 6 digits the user typed after comparing them")
        else:
            digits = user_typed_digits
        status = await agent.pairing.pair_confirm(session_id, digits, wait_seconds=_wait(max_wait_secs))
        return _sas_reply(ctx, status)

    return [
        ToolSpec(
            "wire_pair_initiate",
            "Start SAS pairing; returns a code phrase for the other side.",
            wire_pair_initiate,
            {"relay_url": _RELAY, "max_wait_secs": _WAIT},
        ),
        ToolSpec(
            "wire_pair_join",
            "Join SAS pairing with the other side's code phrase.",
            wire_pair_join,
            {"code_phrase": {"description": "e.g. 12-ABCDEF"}, "relay_url": _RELAY, "max_wait_secs": _WAIT},
        ),
        ToolSpec(
            "wire_pair_check",
            "Progress of a SAS pairing; when ready, the code to compare (unless the host prompts its user).",
            wire_pair_check,
            {"max_wait_secs": _WAIT},
        ),
        ToolSpec(
            "wire_pair_confirm",
            _CONFIRM,
            wire_pair_confirm,
            {
                "user_typed_digits": {"description": "exactly as the user typed them (only without a host prompt)"},
                "max_wait_secs": _WAIT,
            },
        ),
    ]


def pair_tools(rt: Runtime) -> list[ToolSpec]:
    """The pairing tools, aliases included."""

    @guarded
    async def wire_dial(
        name: str,
        message: str | None = None,
        relay_url: str | None = None,
        operator_approved: bool = False,
        allow_unproven: bool = False,
        *,
        ctx: Ctx = None,
    ) -> Annotated[CallToolResult, DialOut]:
        agent = rt.agent()
        approve, approved = await _dial_consent(rt, agent, ctx, name, relay_url, operator_approved=operator_approved)
        result = await agent.pairing.dial(
            name, message, relay_url=relay_url, approve_pending=approve, allow_unproven=allow_unproven
        )
        if approved is not None and result.peer_did not in (None, approved) and result.resolved_handle:
            await agent.pairing.forget(result.resolved_handle)  # the directory changed its answer: keep nothing
            raise ToolError(f"{name} resolved to {result.peer_did}, not {approved} as the operator approved; unpinned")
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
    async def wire_accept(
        name: str, operator_approved: bool = False, ctx: Ctx = None
    ) -> Annotated[CallToolResult, AcceptOut]:
        agent = rt.agent()
        refusal = f"ask the operator whether to pair with {name!r} first"
        await rt.consent.require(
            ctx, pending_subject(agent, name), operator_approved=operator_approved, refusal=refusal
        )
        data: dict[str, Any] = (await agent.pairing.accept(name)).to_json()
        peer = str(data.get("peer_handle") or name)
        return reply(data, f"{data.get('status')}: paired with {peer}; you can wire_send now")

    @guarded
    async def wire_reject(name: str, notify: bool = True) -> Annotated[CallToolResult, RejectOut]:
        data: dict[str, Any] = (await rt.agent().pairing.reject(name, notify=notify)).to_json()
        return reply(data, _reject_summary(data, name))

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
    async def wire_accept_invite(
        url: str, operator_approved: bool = False, ctx: Ctx = None
    ) -> Annotated[CallToolResult, InviteOut]:
        agent = rt.agent()
        full = await resolve_invite_url(agent, url)  # what the operator approves is what gets accepted
        refusal = "accepting an invite pins its issuer: ask the operator first"
        await rt.consent.require(ctx, invite_subject(full), operator_approved=operator_approved, refusal=refusal)
        data: dict[str, Any] = (await agent.pairing.accept_invite(full)).to_json()
        return reply(data, f"{data.get('status')}: pairing with {data.get('peer_handle')}; their ack completes it")

    name = {"description": "peer handle, nickname or DID"}
    notify = {"description": "tell the dialer its request was declined (default true); false rejects quietly"}
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
                    "pair request (dialing it accepts it); a host prompt, if any, decides instead"
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
            accept := {"name": name, "operator_approved": _APPROVED},
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
        *sas_tools(rt),
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


async def _dial_consent(
    rt: Runtime, agent: WireAgent, ctx: Ctx, name: str, relay_url: str | None, *, operator_approved: bool
) -> tuple[bool, str | None]:
    """``(approve_pending, approved DID)`` for ``wire_dial``.

    Without a host prompt: the flag decides whether a pending request may be accepted, as before.
    With one, dialing ``nick@domain`` that pins someone new asks the operator first: the pending
    requester's card when there is one (dialing accepts it), else the card the directory gives (the
    dial pins it before the request leaves). Pinned peers and this user's own local sessions add no
    new trust and are not asked about.
    """
    if not elicitation_available(ctx):
        return operator_approved, None
    if "@" not in name:
        return False, None
    resolved = await agent.pairing.resolve(name, relay_url)
    pending = agent.pairing.inbound.find(resolved.did) is not None
    if pending:
        subject = pending_subject(agent, resolved.did)
    elif resolved.card is None or agent.trust.get(display_handle_from_did(resolved.did)) is not None:
        return False, None  # nothing new to pin: the dial reports what it finds
    else:
        subject = directory_subject(resolved.card, name, proven=resolved.proven)
    await rt.consent.require(ctx, subject, operator_approved=operator_approved, refusal="")
    return pending, subject.did


async def _sas_digits_from_operator(rt: Runtime, agent: WireAgent, ctx: Ctx, session_id: str) -> str:
    """The session's own digits once the operator said in the host's prompt that both sides show them.

    Digits that differ (or a decline) abort the pairing; a dismissed or unanswered prompt leaves it
    waiting, so ``wire_pair_confirm`` can ask again.
    """
    if ctx is None:
        raise ToolError("no host prompt to ask the user through")
    status = await agent.pairing.pair_check(session_id, wait_seconds=0)
    if status.state != "sas_ready" or not status.sas:
        raise ToolError(f"pairing {status.session_id} is {status.state}, not ready to compare codes; wire_pair_check")
    answer = await rt.consent.ask(ctx, sas_subject(status.sas))
    if answer == "approved":
        return status.sas
    if answer == "declined":
        await agent.pairing.pair_cancel(session_id)
        raise ToolError(
            f"the user did not confirm that both sides show the same code: pairing {status.session_id} is "
            "aborted and nothing was pinned. Start again with a new code phrase if they still want to pair."
        )
    why = "did not answer the host's prompt in time" if answer == "timeout" else "dismissed the host's prompt"
    raise ToolError(
        f"the user {why}: nothing was pinned; pairing {status.session_id} still waits (wire_pair_confirm asks again)"
    )


def _reject_summary(data: dict[str, Any], name: str) -> str:
    peer = data.get("peer") or name
    if not data.get("had_pending"):
        return f"nothing pending from {peer}"
    if data.get("notified") is True:
        return f"rejected {peer}; they were told"
    if data.get("notified") is False:
        return f"rejected {peer}; telling them failed: {data.get('notify_error')}"
    return f"rejected {peer} quietly (not told)"
