# SPDX-License-Identifier: MIT
"""Keeping the line up: status, doctor, daemon, notify."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wire_cli import local_status
from wire_cli.commands import JsonOpt, option
from wire_cli.context import Ctx, cli
from wire_cli.local_verbs import DOCTOR_OFFLINE_FLAG
from wire_cli.output import CliError, clean

if TYPE_CHECKING:
    from wire_client import WireAgent, WireHome

__all__ = ["register"]


async def _peer_health(agent: WireAgent, handle: str) -> dict[str, Any]:
    from wire_client import RelayError, TransportError, order_for_sending

    endpoints = order_for_sending(agent.relay_state.peer_endpoints(handle), agent.endpoints())
    if not endpoints:
        return {
            "peer": handle,
            "transport": {"status": "error", "error": "no usable endpoint (pairing not completed?)"},
            "attention": {"status": "unknown"},
            "responder": {"status": "not_reported"},
        }
    endpoint = endpoints[0]
    relay = agent.relay(endpoint.relay_url)
    started = time.monotonic()
    transport: dict[str, Any] = {"relay_url": endpoint.relay_url, "scope": endpoint.scope.value}
    ok = await relay.healthz(probe_timeout=5.0)
    transport |= {"status": "ok" if ok else "error", "latency_ms": round((time.monotonic() - started) * 1000, 1)}
    attention: dict[str, Any] = {"status": "unknown"}
    responder: dict[str, Any] = {"status": "not_reported"}
    try:
        state = await relay.slot_state(endpoint)
    except RelayError as exc:
        if exc.status == 403:  # a write-only deposit token: the peer keeps its slot state private
            attention = {"status": "private", "reason": "the peer's relay gave us a post-only deposit token"}
        else:
            attention = {"status": "error", "error": exc.message}
    except TransportError as exc:
        attention = {"status": "error", "error": exc.message}
    else:
        last = state.get("last_pull_at_unix")
        if not isinstance(last, int | float) or isinstance(last, bool):
            attention = {"status": "never_pulled", "event_count": state.get("event_count")}
        else:
            age = round(time.time() - float(last))
            attention = {
                "status": "ok" if age <= 300 else "stale",
                "last_pull_at_unix": last,
                "age_seconds": age,
                "event_count": state.get("event_count"),
            }
        record = state.get("responder_health") or state.get("responder")
        if record:
            responder = {"status": "reported", "record": record}
    return {"peer": handle, "transport": transport, "attention": attention, "responder": responder}


def status(
    peer: Annotated[str | None, typer.Option("--peer", help="Probe one peer: transport, attention, responder.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Identity, slots, peers, queues, daemon and pending requests — or one peer's health."""
    if peer is None:
        local_status.status(json_)
        return
    with cli(json_) as ctx:
        if local_status.not_initialized(ctx):
            return
        agent = ctx.agent()
        from wire_cli.names import resolve_peer

        handle = resolve_peer(agent, peer)

        async def probe() -> dict[str, Any]:
            async with agent:
                return await _peer_health(agent, handle)

        health = ctx.run(probe())
        t, a = health["transport"], health["attention"]
        lines = [
            f"{clean(handle)}: transport {t['status']}" + (f" ({t.get('latency_ms')} ms)" if "latency_ms" in t else ""),
            f"  attention {a['status']}" + (f", last pull {a['age_seconds']} s ago" if "age_seconds" in a else ""),
            f"  responder {health['responder']['status']}",
        ]
        ctx.out.emit(health, "\n".join(lines))


def doctor(json_: JsonOpt = False, offline: Annotated[bool, option(DOCTOR_OFFLINE_FLAG)] = False) -> None:
    """Check identity, relay reachability, slot, daemon, pending requests and inbox files; print the fixes."""
    local_status.doctor(json_, offline)


# --- daemon / notify ----------------------------------------------------------------------------


def _daemon_stop(ctx: Ctx, home: WireHome) -> None:
    """SIGTERM the home's daemon and wait (bounded) until its pidfile says it is gone."""
    import os
    import signal

    from wire_client import daemon_status

    status = daemon_status(home)
    if status is None or not status.running:
        ctx.out.emit({"stopped": False, "was_running": False}, "no daemon runs for this home")
        return
    os.kill(status.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (current := daemon_status(home)) is not None and current.running:
        time.sleep(0.1)
    current = daemon_status(home)
    if current is not None and current.running:
        raise CliError(
            f"the daemon (pid {status.pid}) did not stop within 10 s",
            hint=f"look at {home.daemon_log}; `kill {status.pid}` to insist",
            code="daemon_stop_failed",
        )
    ctx.out.emit(
        {"stopped": True, "was_running": True, "pid": status.pid},
        f"stopped the daemon (pid {status.pid}); a service manager may start it again (`wire service status`)",
    )


def daemon(  # noqa: PLR0917 - typer maps parameters to options
    action: Annotated[
        str | None, typer.Argument(help="stop or status; leave out to run the daemon in the foreground.")
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between polls of a relay without streams.")
    ] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="One push + pull, then exit.")] = False,
    no_toasts: Annotated[bool, typer.Option("--no-toasts", help="No desktop notifications.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Run the daemon in the foreground: streams every slot, pushes the outbox (one per identity).

    `wire daemon status` says whether one runs for this home; `wire daemon stop` stops it.
    """
    with cli(json_) as ctx:
        home = ctx.require_home()
        if action not in (None, "stop", "status"):
            raise CliError(
                f"unknown daemon action {clean(action)!r}",
                hint="use `wire daemon stop` or `wire daemon status`",
                code="usage",
                exit_code=2,
            )
        if action == "status":
            data = local_status.daemon_json(home)
            running = f"running, pid {data['pid']}" if data["running"] else "not running (`wire daemon` starts one)"
            ctx.out.emit(data, f"daemon: {running}")
            return
        if action == "stop":
            _daemon_stop(ctx, home)
            return
        if once:
            agent = ctx.agent()

            async def cycle() -> dict[str, Any]:
                async with agent:
                    pushed = await agent.push()
                    reports = await agent.pull()
                    pairings = await agent.pairing.pair_tick()
                return {
                    "pushed": len([r for r in pushed if r.delivered]),
                    "pulled": sum(len(r.inboxed) for r in reports),
                    "rejected": sum(len(r.rejected) for r in reports),
                    "pairings": [p.to_json() for p in pairings],
                }

            data = ctx.run(cycle())
            ctx.out.emit(data, f"daemon: pushed={data['pushed']} pulled={data['pulled']} rejected={data['rejected']}")
            return
        import logging

        from wire_client import run_daemon

        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        ctx.out.note(f"wire daemon for {home.root or home.config_dir} (Ctrl-C stops it)")
        run_daemon(home, notifications=not no_toasts, poll_interval=max(interval, 1.0))


def notify(
    peer: Annotated[str | None, typer.Option("--peer", help="Only this peer.")] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls.")] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Handle what is new, then exit.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Desktop notification per new message (cursor kept in state/notify.cursor); --json prints instead."""
    with cli(json_) as ctx:
        import contextlib
        import signal

        from wire_cli.commands.messaging import _monitor_json
        from wire_cli.views import HANDSHAKE_TYPES, body_preview, reverify
        from wire_client import InboxReader, toast

        agent = ctx.agent()
        cursor_path = agent.home.notify_cursor
        offsets: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(cursor_path.read_text(encoding="utf-8"))
            offsets = {k: v for k, v in loaded.items() if isinstance(v, int)} if isinstance(loaded, dict) else {}
        watcher = InboxReader(agent.home.inbox_dir, offsets=offsets)
        stop = False

        def on_signal(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, on_signal)
        count = 0
        while True:
            for name, event in watcher.poll():
                if (peer is not None and name != peer) or event.get("type") in HANDSHAKE_TYPES:
                    continue
                verified = reverify(event, agent.trust)
                count += 1
                if ctx.json:
                    ctx.out.json(_monitor_json(name, event, verified), compact=True)
                else:
                    title = f"wire ← {name}" + ("" if verified else " (UNVERIFIED)")
                    toast(title, f"{event.get('type')}: {body_preview(event)}")
            ctx.out.flush()
            _save_cursor(cursor_path, watcher.offsets)
            if once or stop:
                break
            time.sleep(max(interval, 0.1))
        if not ctx.json:
            ctx.out.note(f"notify: {count} new event(s)")


def _save_cursor(path: Any, offsets: dict[str, int]) -> None:
    import os

    tmp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(json.dumps(offsets), encoding="utf-8")
    os.replace(tmp, path)


def register(app: typer.Typer) -> None:
    app.command()(status)
    app.command()(doctor)
    app.command()(daemon)
    app.command()(notify)
