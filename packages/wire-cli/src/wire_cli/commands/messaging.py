# SPDX-License-Identifier: MIT
"""Messages: send, tail, monitor, pull, push, ping."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wire_cli import local_inbox
from wire_cli.commands import JsonOpt, argument, option
from wire_cli.context import Ctx, cli
from wire_cli.local_verbs import INCLUDE_HANDSHAKE_FLAG, LIMIT_OPTION, OFFLINE_FLAG, SINCE_OPTION, TAIL_PEER
from wire_cli.names import resolve_peer
from wire_cli.output import CliError, clean

if TYPE_CHECKING:
    from wire_client import WireAgent

__all__ = ["follow", "register"]


# --- send ---------------------------------------------------------------------------------------


def send(  # noqa: PLR0917 - typer maps parameters to options
    peer: Annotated[str, typer.Argument(help="Handle, nickname or nick@domain of a paired peer.")],
    kind_or_body: Annotated[str, typer.Argument(help="Kind (when a body follows) or the body.")],
    body: Annotated[str | None, typer.Argument(help="Body: text, JSON, '-' for stdin, '@file'.")] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Answer wanted by: 30m, 2h, 1d or RFC 3339.")
    ] = None,
    check_cap: Annotated[
        str | None, typer.Option("--check-cap", help="Refuse unless the peer advertises this.")
    ] = None,
    queue: Annotated[bool, typer.Option("--queue", help="Only queue; the daemon delivers.")] = False,
    again: Annotated[
        bool, typer.Option("--again", help="Send even if the same message went to this peer in the last 10 min.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Sign and deliver a message now; says delivered, duplicate, or queued (and why).

    Re-running the same send within 10 minutes is an exact retry: nothing new goes out, the earlier
    event is reported as a duplicate (--again sends a second message).
    """
    from wire_cli.sending import run_send

    run_send(
        peer,
        kind_or_body,
        body,
        deadline=deadline,
        check_cap=check_cap,
        queue=queue,
        json_flag=json_,
        again=again,
    )


# --- tail ---------------------------------------------------------------------------------------


def tail(  # noqa: PLR0917 - typer maps parameters to options
    peer: Annotated[str | None, argument(TAIL_PEER)] = None,
    since: Annotated[str | None, option(SINCE_OPTION)] = None,
    limit: Annotated[int, option(LIMIT_OPTION)] = 50,
    follow_: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new events.")] = False,
    offline: Annotated[bool, option(OFFLINE_FLAG)] = False,
    include_handshake: Annotated[bool, option(INCLUDE_HANDSHAKE_FLAG)] = False,
    json_: JsonOpt = False,
) -> None:
    """Show received messages, oldest first, each re-verified (JSON: one object per line)."""

    def keep_following(
        ctx: Ctx, handle: str | None, show: Callable[[str, dict[str, Any]], None], offsets: dict[str, int]
    ) -> None:
        from wire_cli.views import HANDSHAKE_TYPES

        def on_event(name: str, event: dict[str, Any]) -> bool:
            if (handle is not None and name != handle) or (
                not include_handshake and event.get("type") in HANDSHAKE_TYPES
            ):
                return False
            show(name, event)
            return True

        ctx.run(follow(ctx, ctx.agent(), on_event, offsets))

    local_inbox.tail(json_, peer, since, limit, offline, include_handshake, follow=keep_following if follow_ else None)


async def follow(
    ctx: Ctx,
    agent: WireAgent,
    on_event: Callable[[str, dict[str, Any]], bool],
    offsets: dict[str, int] | None = None,
    *,
    interval: float = 0.5,
    receive: bool = True,
    duration: float | None = None,
    max_events: int | None = None,
) -> int:
    """Poll the inbox (receiving in-process when no daemon does) until stopped; returns events shown.

    ``on_event`` returns whether the event counted. Errors are reported once and polling goes on.
    """
    import asyncio
    import contextlib
    import signal

    from wire_client import InboxReader

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    watcher = InboxReader(agent.home.inbox_dir, offsets=offsets)
    shown = 0
    last_error = ""
    async with agent:
        if receive and agent.endpoints():
            try:
                if await agent.start_receiving():
                    ctx.out.note("no daemon serves this home: receiving in this process (`wire daemon` runs one)")
            except Exception as exc:  # noqa: BLE001 - monitor survives errors
                ctx.out.warn(f"cannot receive in this process: {exc}")
        deadline = None if duration is None else loop.time() + duration
        while not stop.is_set():
            try:
                for name, event in watcher.poll():
                    if on_event(name, event):
                        shown += 1
                ctx.out.flush()
                last_error = ""
            except BrokenPipeError:
                raise
            except Exception as exc:  # noqa: BLE001 - one bad poll must not end the stream
                if str(exc) != last_error:
                    ctx.out.warn(f"inbox poll failed ({exc}); still watching")
                    last_error = str(exc)
            if (max_events is not None and shown >= max_events) or (deadline is not None and loop.time() >= deadline):
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    return shown


# --- monitor ------------------------------------------------------------------------------------


def _monitor_json(name: str, event: dict[str, Any], verified: bool) -> dict[str, Any]:
    from wire_cli.views import body_preview, redact_event, seal_fields
    from wire_client import signed_part

    return {
        "peer": name,
        "event_id": event.get("event_id"),
        "type": event.get("type"),
        "kind": event.get("kind"),
        "body_preview": body_preview(event),
        "verified": verified,
        "timestamp": event.get("timestamp"),
        **seal_fields(event),
        "raw": redact_event(signed_part(event)),
    }


def monitor(  # noqa: PLR0917 - typer maps parameters to options
    peer: Annotated[str | None, typer.Option("--peer", help="Only this peer.")] = None,
    replay: Annotated[int, typer.Option("--replay", help="First show the last N events.")] = 0,
    include_handshake: Annotated[
        bool, typer.Option("--include-handshake", help="Also pair_drop, pair_drop_ack, heartbeat.")
    ] = False,
    interval_ms: Annotated[int, typer.Option("--interval-ms", help="Poll interval (min 50).")] = 500,
    no_receive: Annotated[bool, typer.Option("--no-receive", help="Only watch files; never fetch in-process.")] = False,
    max_events: Annotated[int | None, typer.Option("--max-events", help="Exit after N events.")] = None,
    duration: Annotated[float | None, typer.Option("--duration", help="Exit after this many seconds.")] = None,
    json_: JsonOpt = False,
) -> None:
    """One line per new message, as it arrives (arm this in your agent harness)."""
    with cli(json_) as ctx:
        from wire_cli.views import HANDSHAKE_TYPES, event_line, reverify
        from wire_client import InboxReader

        agent = ctx.agent()
        handle = resolve_peer(agent, peer) if peer is not None else None

        def wanted(name: str, event: dict[str, Any]) -> bool:
            return (handle is None or name == handle) and (
                include_handshake or event.get("type") not in HANDSHAKE_TYPES
            )

        def show(name: str, event: dict[str, Any]) -> bool:
            if not wanted(name, event):
                return False
            verified = reverify(event, agent.trust)
            if ctx.json:
                ctx.out.json(_monitor_json(name, event, verified), compact=True)
            else:
                ctx.out.line(event_line(ctx.out, name, event, verified))
            return True

        reader = InboxReader(agent.home.inbox_dir, from_end=False)
        events = reader.drain()
        offsets = reader.offsets
        if replay > 0:
            chosen = sorted((e for e in events if wanted(*e)), key=lambda item: str(item[1].get("timestamp", "")))
            for name, event in chosen[-replay:]:
                show(name, event)
        ctx.out.flush()
        ctx.run(
            follow(
                ctx,
                agent,
                show,
                offsets,
                interval=max(interval_ms, 50) / 1000,
                receive=not no_receive,
                duration=duration,
                max_events=max_events,
            )
        )


# --- pull / push --------------------------------------------------------------------------------


def pull(json_: JsonOpt = False) -> None:
    """Fetch, verify and file new events from all your relay slots now."""
    with cli(json_) as ctx:
        from wire_cli.views import HANDSHAKE_TYPES, event_line, readable_event, redact_event

        agent = ctx.agent()

        async def go() -> tuple[Any, list[Any], list[Any]]:
            async with agent:
                pulled = await agent.pull()
                # a pair acceptance just pulled may have made queued sends deliverable
                pushed = (await agent.push()) if agent.sender.outbox.backlog() else []
                return pulled, pushed, await agent.pairing.pair_tick()

        reports, pushed, pairings = ctx.run(go())
        inboxed = [e for r in reports for e in r.inboxed]
        rejected = [x.to_json() for r in reports for x in r.rejected]
        problems = [r.relay_problem for r in reports if r.relay_problem]
        data = {
            "endpoints": len(reports),
            "fetched": sum(r.fetched for r in reports),
            "inboxed": len(inboxed),
            "duplicates": sum(r.duplicates for r in reports),
            "held": sorted({h for r in reports for h in r.held}),
            "consumed": sum(r.consumed for r in reports),
            "rejected": rejected[:100],
            "rejected_total": len(rejected),
            "events": [{**redact_event(readable_event(e.event)), "peer": e.peer} for e in inboxed],
            "relay_problems": problems,
            "outbox_delivered": sum(1 for r in pushed if r.status in ("delivered", "duplicate")),
            "pairings": [p.to_json() for p in pairings],
        }

        def human() -> None:
            ctx.out.line(f"pulled {data['fetched']} event(s) from {data['endpoints']} slot(s): {len(inboxed)} new")
            for event in inboxed:
                if event.type not in HANDSHAKE_TYPES:
                    ctx.out.line("  " + event_line(ctx.out, event.peer, event.event, True))
            if data["outbox_delivered"]:
                ctx.out.line(f"  delivered {data['outbox_delivered']} queued message(s) from the outbox")
            for pairing in data["pairings"]:
                ctx.out.line(f"  code-phrase pairing {pairing['session_id']}: now {pairing['state']}")
            if data["consumed"]:
                ctx.out.line(f"  {data['consumed']} pairing event(s) handled — `wire pending` shows requests")
            for rejection in rejected[:20]:
                ctx.out.warn(f"refused {rejection['event_id']}: {rejection['reason']}")
            if len(rejected) > 20:
                ctx.out.warn(f"... and {len(rejected) - 20} more refused (see rejected.jsonl in the state dir)")

        for problem in problems:
            ctx.out.warn(problem)
        ctx.out.emit(data, human)


def push(
    peer: Annotated[str | None, typer.Argument(help="Only this peer's queue.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Deliver what is queued in the outbox now."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        handle = resolve_peer(agent, peer) if peer is not None else None

        async def go() -> tuple[list[Any], dict[str, int]]:
            async with agent:
                results = await agent.push(handle)
                return results, agent.sender.outbox.backlog()

        results, backlog = ctx.run(go())
        counts = {s: sum(1 for r in results if r.status == s) for s in ("delivered", "duplicate", "rejected")}
        data = {**counts, "still_queued": backlog, "results": [r.to_json() for r in results]}
        left = sum(backlog.values())
        human = (
            f"pushed: {counts['delivered']} delivered, {counts['duplicate']} duplicate, {counts['rejected']} refused"
        )
        human += f"; {left} still queued (relay unreachable?)" if left else "; outbox empty"
        ctx.out.emit(data, human)


# --- ping ---------------------------------------------------------------------------------------


def ping(
    peer: Annotated[str, typer.Argument(help="Handle or nickname of a paired peer.")],
    wait: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the answer (0.1-60).")] = 5.0,
    json_: JsonOpt = False,
) -> None:
    """Is the peer's daemon up? Sends a liveness probe and reports the round-trip time (exit 1: no answer)."""
    with cli(json_) as ctx:
        if not 0.1 <= wait <= 60:
            raise CliError("--timeout must be between 0.1 and 60 seconds", code="usage", exit_code=2)
        agent = ctx.agent()
        handle = resolve_peer(agent, peer)

        async def go() -> Any:
            async with agent:
                return await agent.ping(handle, wait_seconds=wait)

        result = ctx.run(go())
        if not result.alive:
            raise CliError(
                f"{clean(handle)} did not answer: {result.reason}",
                hint="its daemon may be down (`wire daemon` on that side), or the relay unreachable",
                code="no_answer",
                data=result.to_json(),
            )
        ctx.out.emit(result.to_json(), f"{clean(handle)} is alive: {result.rtt_ms} ms round trip")


def register(app: typer.Typer) -> None:
    app.command()(send)
    app.command()(tail)
    app.command()(monitor)
    app.command()(pull)
    app.command()(push)
    app.command()(ping)
