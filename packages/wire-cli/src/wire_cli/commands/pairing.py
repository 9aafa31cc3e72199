# SPDX-License-Identifier: MIT
"""Pairing: dial, pending, accept, reject, invite, accept-invite, pair-host/join/confirm, plus the
deprecated hidden aliases (pair-accept, pair-reject, pair-list-inbound, add) that nag once."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wire_cli import local_inbox
from wire_cli.commands import JsonOpt
from wire_cli.context import Ctx, cli
from wire_cli.output import CliError, clean
from wire_cli.progress import with_progress

if TYPE_CHECKING:
    from wire_client import WireAgent

__all__ = ["nag", "register"]

_INVITE_PREFIXES = ("wire://pair?",)


def nag(ctx: Ctx, verb: str, replacement: str) -> None:
    """The deprecation banner: human mode only, once per process, silenced by WIRE_DEPRECATION_NAGGED_<verb>."""
    marker = "WIRE_DEPRECATION_NAGGED_" + verb.replace("-", "_")
    if ctx.json or os.environ.get(marker):
        return
    os.environ[marker] = "1"
    ctx.out.note(
        f"wire {verb}: DEPRECATED in v0.9 — use `wire {replacement}`. Will be removed in v1.0. "
        f"Suppress: set {marker}=1."
    )


def _pairing(agent: WireAgent) -> Any:
    pairing = getattr(agent, "pairing", None)
    if pairing is None:
        raise CliError(
            "this wire-client has no pairing API yet",
            hint="upgrade wire-client from where you installed it (meanwhile embedders can use `agent.add_peer`)",
            code="unsupported",
        )
    return pairing


async def _fetched_first(ctx: Ctx, agent: WireAgent, step: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``step`` after fetching new events (when no daemon does): a pair request dialled a moment
    ago is on the relay, not yet in ``pending``."""
    await local_inbox.pull_if_no_daemon(ctx, agent)
    return await step()


def _call(ctx: Ctx, agent: WireAgent, step: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run one async pairing call with the agent open, inside one event loop."""

    async def go() -> Any:
        async with agent:
            return await step(_pairing(agent))

    return ctx.run(go())


# --- dial / pending / accept / reject -----------------------------------------------------------


def dial(
    name: Annotated[str, typer.Argument(help="nick@domain, a pinned peer, or a sister session.")],
    message: Annotated[str | None, typer.Argument(help="Optional first message (kind claim).")] = None,
    relay: Annotated[str | None, typer.Option("--relay", help="Resolve nick@domain through this relay.")] = None,
    allow_unproven: Annotated[
        bool,
        typer.Option(
            "--allow-unproven",
            help="Dial a directory record that carries no valid claim proof (a reference relay, or a relay "
            "that accepts unproven claims): only if you trust that relay. Env: WIRE_ALLOW_UNPROVEN_CLAIMS=1.",
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Go talk to this name: send a pair request to nick@domain, or pair a sister session."""
    _dial(name, message, relay, json_, "dial", allow_unproven=allow_unproven)


def _dial(
    name: str, message: str | None, relay: str | None, json_: bool, verb: str, *, allow_unproven: bool = False
) -> None:
    with cli(json_) as ctx:
        if verb != "dial":
            nag(ctx, verb, "dial")
        agent = ctx.agent()
        result = _call(ctx, agent, lambda p: p.dial(name, message, relay_url=relay, allow_unproven=allow_unproven))
        data = result.to_json()
        if not data.get("found", True):
            if ctx.json:
                ctx.out.json(data)
                return
            from wire_cli.names import miss_error

            raise miss_error(name, list(data.get("candidates") or []))
        ctx.out.emit(data, lambda: _dial_human(ctx, data))


def _dial_human(ctx: Ctx, data: dict[str, Any]) -> None:
    handle = clean(data.get("resolved_handle") or data.get("peer_handle") or "?")
    who = f"{local_inbox.persona_of(ctx, data.get('paired_with'), data.get('character'))} ({handle})"
    status = data.get("status")
    if status == "drop_sent":
        ctx.out.line(f"📞 pair request sent to {who}" if ctx.out.emoji else f"pair request sent to {who}")
        ctx.out.line("  they see it in `wire pending`; once they `wire accept` you, messages flow both ways")
    elif status == "already_paired":
        ctx.out.line(f"already paired with {who}")
    elif status == "accepted":
        ctx.out.line(f"{who} had already asked you — accepted; you are paired")
    else:
        ctx.out.line(f"paired with {who} ({clean(data.get('via') or status)})")
    for step in data.get("steps") or []:
        if isinstance(step, dict) and step.get("step") == "sent":
            ctx.out.line(f"  message: {clean(step.get('status') or 'sent')}")
        elif isinstance(step, dict) and step.get("step") == "send_failed":
            ctx.out.warn(f"the message was not sent: {step.get('error')}")


def pending(json_: JsonOpt = False) -> None:
    """Pair requests waiting for your answer (accept or reject them)."""
    _pending(json_, "pending")


def _pending(json_: bool, verb: str) -> None:
    local_inbox.pending(json_, before=None if verb == "pending" else lambda ctx: nag(ctx, verb, "pending"))


def accept(
    target: Annotated[str, typer.Argument(help="A pending requester (handle/nickname), or an invite URL.")],
    json_: JsonOpt = False,
) -> None:
    """Accept a pair request from `wire pending` (or an invite URL): pin them and send your ack."""
    _accept(target, json_, "accept")


def _accept(target: str, json_: bool, verb: str) -> None:
    if target.startswith(_INVITE_PREFIXES) or ("://" in target and "/i/" in target):
        accept_invite(target, json_=json_)
        return
    with cli(json_) as ctx:
        if verb != "accept":
            nag(ctx, verb, "accept")
        agent = ctx.agent()
        data = _call(ctx, agent, lambda p: _fetched_first(ctx, agent, lambda: p.accept(target))).to_json()
        ack = data.get("ack") or {}
        tail = (
            ""
            if ack.get("status") in (None, "delivered", "duplicate")
            else f" (ack {ack.get('status')}: {ack.get('reason')})"
        )
        who = clean(data.get("peer_handle") or target)
        ctx.out.emit(
            data,
            f'paired with {who} — `wire send {who} "hi"`{tail}',
        )


def reject(
    peer: Annotated[str, typer.Argument(help="The requester to refuse.")],
    quietly: Annotated[
        bool, typer.Option("--quietly", help="Do not tell them (by default they learn their request was declined).")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Refuse a pair request: they are told it was declined (unless --quietly); it does not come back."""
    _reject(peer, json_, "reject", notify=not quietly)


def _reject(peer: str, json_: bool, verb: str, *, notify: bool = True) -> None:
    with cli(json_) as ctx:
        if verb != "reject":
            nag(ctx, verb, "reject")
        agent = ctx.agent()

        async def go() -> tuple[Any, list[str]]:
            async with agent:
                pairing = _pairing(agent)
                result = await _fetched_first(ctx, agent, lambda: pairing.reject(peer, notify=notify))
                return result, [str(r.peer_handle) for r in pairing.pending()]

        result, waiting = ctx.run(go())
        data = result.to_json()
        if not data.get("had_pending"):
            raise _no_pending_error(peer, waiting, verb="reject")
        if data.get("notified") is False:
            ctx.out.warn(f"could not tell {clean(peer)} (their request is still rejected): {data.get('notify_error')}")
        told = {True: " — they were told", False: "", None: " quietly (they were not told)"}[data.get("notified")]
        ctx.out.emit(data, f"rejected {clean(peer)}{told}")


def forget(
    peer: Annotated[str, typer.Argument(help="The pinned peer to unpair from (handle, nickname or DID).")],
    json_: JsonOpt = False,
) -> None:
    """Unpair: remove the peer's pin; its later events land in rejections, not your inbox."""
    with cli(json_) as ctx:
        from wire_cli.names import resolve_peer

        agent = ctx.agent()
        handle = resolve_peer(agent, peer)  # did-you-mean on a miss, like every verb that takes a peer
        data = _call(ctx, agent, lambda p: p.forget(handle)).to_json()
        revoked = {
            True: "their delivery token on your relay is revoked",
            False: "revoking their delivery token failed (relay unreachable?); the next revocation retries it",
            None: "they held no delivery token of yours; anything they still post is refused on arrival",
        }[data.get("token_revoked")]
        ctx.out.emit(data, f"unpaired from {clean(data['peer'])}: their later events land in rejections; {revoked}")


def _no_pending_error(name: str, waiting: list[str], *, verb: str) -> CliError:
    """No pending request matches ``name``: did-you-mean among the requests that are waiting."""
    import difflib

    close = difflib.get_close_matches(name, waiting, n=3, cutoff=0.5)
    candidates = close or waiting[:3]
    if candidates:
        hint = "did you mean: " + ", ".join(f"`wire {verb} {clean(c)}`" for c in candidates) + "?"
    else:
        hint = "no pair requests are waiting; `wire pending` lists them as they arrive"
    return CliError(
        f"no pending pair request from `{clean(name)}`",
        hint=hint,
        code="not_found",
        data={"found": False, "candidates": candidates},
    )


# --- invites ------------------------------------------------------------------------------------


def invite(
    ttl: Annotated[int, typer.Option("--ttl", help="Seconds the invite stays valid.")] = 3600,
    uses: Annotated[int, typer.Option("--uses", help="How many peers may use it.")] = 1,
    share: Annotated[bool, typer.Option("--share", help="Also register a short https URL.")] = False,
    relay: Annotated[str | None, typer.Option("--relay", help="Relay for the short URL.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Mint a one-paste invite URL (a bearer secret: share it privately)."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        data = _call(
            ctx, agent, lambda p: p.mint_invite(ttl_seconds=ttl, uses=uses, share=share, relay_url=relay)
        ).to_json()
        url = data.get("short_url") or data.get("invite_url")
        ctx.out.emit(
            data, f"{url}\n  valid {ttl} s for {uses} use(s); the other side runs `wire accept-invite '<url>'`"
        )


def accept_invite(
    url: Annotated[str, typer.Argument(help="wire://pair?… or https://<relay>/i/<token>.")],
    json_: JsonOpt = False,
) -> None:
    """Pair using an invite URL someone shared with you."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        data = _call(ctx, agent, lambda p: p.accept_invite(url)).to_json()
        ctx.out.emit(data, f"paired with {clean(data.get('peer_handle') or '?')} ({data.get('status')})")


# --- SAS ----------------------------------------------------------------------------------------


def _sas_human(ctx: Ctx, data: dict[str, Any]) -> None:
    state = data.get("state")
    if data.get("code_phrase") and state == "waiting":
        ctx.out.line(f"code phrase: {data['code_phrase']}  (read it to the other operator)")
    if data.get("sas"):
        if state == "sas_ready":
            ctx.out.line(f"SAS: {data['sas']} — compare with the other side, then type their digits back")
        else:
            ctx.out.line(f"SAS: {data['sas']}")
    ctx.out.line(f"state: {state}; session {data.get('session_id')}")
    hint = _sas_next(data)
    if hint:
        ctx.out.line(f"next: {hint}")


def _sas_next(data: dict[str, Any]) -> str:
    """What the operator types next, in CLI verbs (wire-client's ``next`` speaks for every front end)."""
    session = clean(str(data.get("session_id") or ""))
    state = data.get("state")
    if state == "waiting":
        return (
            f"read the code phrase to the other operator; once they ran `wire pair-join`, "
            f"`wire pair-confirm {session}` waits for the SAS and asks for their digits"
        )
    if state == "sas_ready":
        return f"`wire pair-confirm {session} <the digits the OTHER side shows>`"
    if state == "finalizing":
        return f"waiting for the other side to confirm; `wire pair-confirm {session}` or `wire pull` finishes it"
    return str(data.get("next") or "")


def _announce(ctx: Ctx, data: dict[str, Any]) -> None:
    """The host's code phrase, before waiting for the other side (they cannot join without it).

    Human mode: prose on stdout. JSON mode: the status as one compact JSON line on stderr, so stdout
    still carries exactly one document (the final status).
    """
    if data.get("role") == "host":
        if ctx.json:
            ctx.out.stderr.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
            ctx.out.stderr.flush()
        else:
            ctx.out.line(f"code phrase: {data['code_phrase']}  (read it to the other operator)")
            ctx.out.flush()


def _sas_flow(ctx: Ctx, agent: WireAgent, start: Callable[[Any], Awaitable[Any]], wait: int, detach: bool) -> None:
    """Open the session (one step: our SPAKE2 message is on the relay), show the code phrase, then
    wait up to ``wait`` s for the SAS; on a terminal, ask for the other side's digits and confirm."""

    async def go() -> Any:
        async with agent:
            pairing = _pairing(agent)
            status = await start(pairing)
            if detach or wait <= 0 or status.state != "waiting":
                return status
            _announce(ctx, status.to_json())
            waiting = pairing.pair_check(status.session_id, wait_seconds=wait)
            return await with_progress(ctx, "waiting for the other side's SAS", waiting, limit=wait)

    data = ctx.run(go()).to_json()
    if ctx.json or wait <= 0 or data.get("state") != "sas_ready" or not _interactive():
        ctx.out.emit(data, lambda: _sas_human(ctx, data))
        return
    _sas_human(ctx, data)
    digits = typer.prompt("type the 6 digits the OTHER side shows")
    session = str(data["session_id"])
    final = _call(
        ctx,
        agent,
        lambda p: with_progress(
            ctx, "waiting for the other side to confirm", p.pair_confirm(session, digits, wait_seconds=wait), limit=wait
        ),
    ).to_json()
    ctx.out.emit(final, lambda: _sas_human(ctx, final))


def _interactive() -> bool:
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()


def pair_host(
    relay: Annotated[str | None, typer.Option("--relay", help="Relay for the rendezvous (default: yours).")] = None,
    wait: Annotated[int, typer.Option("--wait", help="Seconds to wait for the other side (0: return at once).")] = 300,
    detach: Annotated[bool, typer.Option("--detach", help="Let the daemon finish the handshake.")] = False,
    json_: JsonOpt = False,
) -> None:
    """SAS pairing, host side: prints a code phrase to read to the other operator, then waits.

    The code phrase is shown at once (JSON mode: on stderr), then the SAS once the other side joined;
    on a terminal you are asked for their digits. --wait 0 returns at once: `wire pair-confirm`,
    `wire pull` or the daemon advance the pairing later.
    """
    with cli(json_) as ctx:
        agent = ctx.agent()
        _sas_flow(ctx, agent, lambda p: p.pair_host(relay_url=relay, wait_seconds=0, detach=detach), wait, detach)


def pair_join(
    code: Annotated[str, typer.Argument(help="The code phrase the host read to you (NN-XXXXXX).")],
    relay: Annotated[str | None, typer.Option("--relay", help="Relay for the rendezvous (default: yours).")] = None,
    wait: Annotated[int, typer.Option("--wait", help="Seconds to wait for the SAS.")] = 60,
    detach: Annotated[bool, typer.Option("--detach", help="Let the daemon finish the handshake.")] = False,
    json_: JsonOpt = False,
) -> None:
    """SAS pairing, guest side."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        _sas_flow(ctx, agent, lambda p: p.pair_join(code, relay_url=relay, wait_seconds=0, detach=detach), wait, detach)


def pair_check(
    session: Annotated[str, typer.Argument(help="Session id (or code phrase) of the SAS pairing.")],
    wait: Annotated[int, typer.Option("--wait", help="Seconds to wait for the next state.")] = 8,
    json_: JsonOpt = False,
) -> None:
    """Advance a SAS pairing and wait (bounded) until the SAS is ready, it is paired, or aborted."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        data = _call(
            ctx,
            agent,
            lambda p: with_progress(
                ctx, "waiting for the pairing", p.pair_check(session, wait_seconds=wait), limit=wait
            ),
        ).to_json()
        ctx.out.emit(data, lambda: _sas_human(ctx, data))


def pair_confirm(
    session: Annotated[str, typer.Argument(help="Session id (or code phrase) of the SAS pairing.")],
    digits: Annotated[
        str | None, typer.Argument(help="The 6 digits the OTHER side shows (prompted for on a terminal).")
    ] = None,
    wait: Annotated[int, typer.Option("--wait", help="Seconds to wait for completion (0: the daemon finishes).")] = 30,
    json_: JsonOpt = False,
) -> None:
    """Confirm a SAS pairing with the digits typed back; a mismatch aborts it for good (exit 1).

    A session still waiting for the other side's code-phrase message is advanced first (bounded by
    --wait), so a host that did not wait in `pair-host` can confirm directly.
    """
    with cli(json_) as ctx:
        if digits is None:
            if ctx.json or not _interactive():
                raise CliError(
                    "pair-confirm needs the 6 digits the other side shows",
                    hint=f"run `wire pair-confirm {clean(session)} <digits>`",
                    code="usage",
                    exit_code=2,
                )
            digits = typer.prompt("type the 6 digits the OTHER side shows")
        typed = digits
        agent = ctx.agent()

        async def go() -> Any:
            from wire_client import PairingFailedError

            async with agent:
                pairing = _pairing(agent)
                confirming = "waiting for the other side to confirm"
                try:
                    return await with_progress(
                        ctx, confirming, pairing.pair_confirm(session, typed, wait_seconds=wait), limit=wait
                    )
                except PairingFailedError as exc:
                    if exc.reason != "sas_not_ready":
                        raise
                checked = await with_progress(
                    ctx,
                    "waiting for the other side to join",
                    pairing.pair_check(session, wait_seconds=wait),
                    limit=wait,
                )
                if checked.state != "sas_ready":
                    raise CliError(
                        f"pairing {checked.session_id} is not ready for digits yet ({checked.state})",
                        hint="the other side has not joined with the code phrase yet; run this again once it has",
                        code="pairing_failed",
                        data={"reason": "sas_not_ready"},
                    )
                return await with_progress(
                    ctx, confirming, pairing.pair_confirm(session, typed, wait_seconds=wait), limit=wait
                )

        data = ctx.run(go()).to_json()
        ctx.out.emit(data, lambda: _sas_human(ctx, data))


def pair_list(json_: JsonOpt = False) -> None:
    """SAS pairings in progress."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        items = [s.to_json() for s in _pairing(agent).pair_list()]
        lines = [f"{s.get('session_id')} {s.get('role')} {s.get('state')} {s.get('code_phrase') or ''}" for s in items]
        ctx.out.emit(items, "\n".join(lines) or "no SAS pairings in progress")


def pair_cancel(session: Annotated[str, typer.Argument()], json_: JsonOpt = False) -> None:
    """Cancel a SAS pairing in progress."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        data = _call(ctx, agent, lambda p: p.pair_cancel(session))
        data = data.to_json() if hasattr(data, "to_json") else {"session_id": session, "state": "cancelled"}
        ctx.out.emit(data, f"cancelled {clean(session)}")


# --- deprecated aliases -------------------------------------------------------------------------


def _pair_accept(peer: Annotated[str, typer.Argument()], json_: JsonOpt = False) -> None:
    """Deprecated: `wire accept`."""
    _accept(peer, json_, "pair-accept")


def _pair_reject(peer: Annotated[str, typer.Argument()], json_: JsonOpt = False) -> None:
    """Deprecated: `wire reject`."""
    _reject(peer, json_, "pair-reject")


def _pair_list_inbound(json_: JsonOpt = False) -> None:
    """Deprecated: `wire pending`."""
    _pending(json_, "pair-list-inbound")


def _add(
    name: Annotated[str, typer.Argument()],
    message: Annotated[str | None, typer.Argument()] = None,
    relay: Annotated[str | None, typer.Option("--relay")] = None,
    json_: JsonOpt = False,
) -> None:
    """Deprecated: `wire dial`."""
    _dial(name, message, relay, json_, "add")


def register(app: typer.Typer) -> None:
    for func in (dial, pending, accept, reject, forget, invite):
        app.command()(func)
    app.command("accept-invite")(accept_invite)
    app.command("pair-host")(pair_host)
    app.command("pair-join")(pair_join)
    app.command("join", hidden=True)(pair_join)
    app.command("pair-confirm")(pair_confirm)
    app.command("pair-check", hidden=True)(pair_check)
    app.command("pair-list", hidden=True)(pair_list)
    app.command("pair-cancel", hidden=True)(pair_cancel)
    app.command("pair-accept", hidden=True)(_pair_accept)
    app.command("pair-reject", hidden=True)(_pair_reject)
    app.command("pair-list-inbound", hidden=True)(_pair_list_inbound)
    app.command("add", hidden=True)(_add)
