# SPDX-License-Identifier: MIT
"""Keeping the line up: status, doctor, daemon, notify."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wire_cli.commands import JsonOpt
from wire_cli.context import Ctx, cli
from wire_cli.output import CliError, clean

if TYPE_CHECKING:
    from collections.abc import Callable

    from wire_client import WireAgent, WireHome

__all__ = ["pending_inbound", "register"]


def pending_inbound(home: WireHome) -> list[dict[str, Any]]:
    """Pending inbound pair requests on disk, oldest first (read-only; tokens stripped)."""
    records: list[dict[str, Any]] = []
    directory = home.pending_inbound_dir
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            record.pop("peer_slot_token", None)
            records.append(record)
    return sorted(records, key=lambda r: str(r.get("received_at", "")))


def _daemon_json(home: WireHome) -> dict[str, Any]:
    from wire_client import __version__, daemon_status

    status = daemon_status(home)
    if status is None:
        return {"running": False, "pid": None}
    data: dict[str, Any] = {
        "running": status.running,
        "pid": status.pid,
        "version": status.version,
        "started_at": status.started_at,
        "did": status.did,
        "relay_url": status.relay_url,
    }
    if status.running and status.version and status.version != __version__:
        data["version_mismatch"] = {"daemon": status.version, "cli": __version__}
    return data


def _status(agent: WireAgent) -> dict[str, Any]:
    home = agent.home
    from wire_cli.views import effective_tier

    peers = [
        {"handle": h, "tier": effective_tier(r.tier.name, agent.relay_state.peer_endpoints(h), agent.refusal(h))}
        for h, r in sorted(agent.trust.agents().items())
        if r.did != agent.did
    ]
    inbox = {p: len(agent.inbox.read(p)) for p in agent.inbox.peers()}
    backlog = agent.sender.outbox.backlog()
    pending = pending_inbound(home)
    return {
        "initialized": True,
        "did": agent.did,
        "handle": agent.handle,
        "fingerprint": agent.card.fingerprint,
        "capabilities": agent.card.capabilities,
        "character": agent.identity.character().to_json(),
        "self_endpoints": [ep.redacted() for ep in agent.endpoints()],
        "peers": peers,
        "peer_slots_count": len(agent.relay_state.peers()),
        "outbox": {
            "peers_with_backlog": sorted(backlog),
            "queued_bytes": sum(backlog.values()),
            # queued for a peer that declined us: kept on disk, not pushed (dialing again releases them)
            "held_for_refused": sorted(p["handle"] for p in peers if p["tier"] == "REFUSED" and p["handle"] in backlog),
        },
        "inbox": {"files": len(inbox), "events": sum(inbox.values())},
        "daemon": _daemon_json(home),
        "pending_pairs": {"inbound_count": len(pending), "inbound_handles": [p.get("peer_handle") for p in pending]},
    }


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
    with cli(json_) as ctx:
        home = ctx.home()
        if not home.is_initialized:
            ctx.out.emit({"initialized": False}, "not initialized — run `wire init <handle> --relay <url>`")
            return
        agent = ctx.agent()
        if peer is not None:
            from wire_cli.names import resolve_peer

            handle = resolve_peer(agent, peer)

            async def probe() -> dict[str, Any]:
                async with agent:
                    return await _peer_health(agent, handle)

            health = ctx.run(probe())
            t, a = health["transport"], health["attention"]
            lines = [
                f"{clean(handle)}: transport {t['status']}"
                + (f" ({t.get('latency_ms')} ms)" if "latency_ms" in t else ""),
                f"  attention {a['status']}" + (f", last pull {a['age_seconds']} s ago" if "age_seconds" in a else ""),
                f"  responder {health['responder']['status']}",
            ]
            ctx.out.emit(health, "\n".join(lines))
            return
        data = _status(agent)
        ctx.out.emit(data, lambda: _status_human(ctx, agent, data))


def _status_human(ctx: Ctx, agent: WireAgent, data: dict[str, Any]) -> None:
    out = ctx.out
    out.line(f"{out.persona(agent.identity.character())} ({agent.handle}) {agent.did}")
    slots = data["self_endpoints"]
    out.line("slots: " + (", ".join(f"{e['scope']} {e['relay_url']}" for e in slots) or "none (offline identity)"))
    out.line(f"peers: {len(data['peers'])}" + "".join(f"  {clean(p['handle'])}:{p['tier']}" for p in data["peers"]))
    out.line(f"inbox: {data['inbox']['events']} event(s) from {data['inbox']['files']} peer(s)")
    backlog = data["outbox"]["peers_with_backlog"]
    out.line("outbox: " + (f"queued for {', '.join(backlog)}" if backlog else "empty"))
    for handle in data["outbox"]["held_for_refused"]:
        out.line(f"  {clean(handle)} declined your pair request: its queued messages are kept, not sent")
    daemon = data["daemon"]
    out.line(f"daemon: {'running, pid ' + str(daemon['pid']) if daemon['running'] else 'not running (`wire daemon`)'}")
    pending = data["pending_pairs"]["inbound_count"]
    if pending:
        out.line(f"pending: {pending} pair request(s) — `wire pending`")


# --- doctor -------------------------------------------------------------------------------------


async def _doctor(ctx: Ctx) -> list[dict[str, Any]]:
    from wire_client import Identity, RelayError, TransportError, WireAgent, WireClientError

    checks: list[dict[str, Any]] = []

    def check(name: str, status: str, detail: str, fix: str | None = None) -> None:
        checks.append({"check": name, "status": status, "detail": detail, "fix": fix})

    home = ctx.home()
    if not home.is_initialized:
        check("identity", "FAIL", f"no identity in {home.config_dir}", "`wire init <handle> --relay <url>`")
        return checks
    try:
        identity = Identity.load(home)
    except WireClientError as exc:
        check(
            "identity", "FAIL", exc.message, "restore the config dir from a backup, or start over with a new WIRE_HOME"
        )
        return checks
    check("identity", "PASS", f"{identity.handle} {identity.did}, card signature valid, key matches")
    async with WireAgent(home, identity) as agent:
        endpoints = agent.endpoints()
        if not endpoints:
            check("slot", "FAIL", "no relay slot: nobody can deliver to you", "`wire init` again with `--relay <url>`")
        for endpoint in endpoints:
            label = f"{endpoint.scope.value} {endpoint.relay_url}"
            relay = agent.relay(endpoint.relay_url)
            if not await relay.healthz(probe_timeout=3.0):
                check("relay", "FAIL", f"{label} does not answer /healthz", f"`curl -v {endpoint.relay_url}/healthz`")
                continue
            check("relay", "PASS", f"{label} reachable")
            try:
                await relay.slot_state(endpoint)
            except RelayError as exc:
                check(
                    "slot",
                    "FAIL",
                    f"slot {endpoint.slot_id} on {label}: {exc.message}",
                    "the slot is gone or its token is stale: re-bind with `wire init <handle> --relay <url>` "
                    "in a new WIRE_HOME, or ask the relay operator",
                )
            except TransportError as exc:
                check("slot", "WARN", f"slot probe failed: {exc.message}")
            else:
                check("slot", "PASS", f"slot {endpoint.slot_id} on {label} accepts our token")
            if endpoint.scope.value == "federation":
                await _handle_check(agent, endpoint.relay_url, check)
    daemon = _daemon_json(home)
    if daemon["running"]:
        mismatch = daemon.get("version_mismatch")
        if mismatch:
            check(
                "daemon",
                "WARN",
                f"pid {daemon['pid']} runs {mismatch['daemon']}, CLI is {mismatch['cli']}",
                "`wire upgrade`",
            )
        else:
            check("daemon", "PASS", f"running, pid {daemon['pid']}")
    else:
        check(
            "daemon",
            "WARN",
            "not running: messages arrive only when you pull",
            "`wire daemon` (or `wire service install`)",
        )
    pending = pending_inbound(home)
    if pending:
        names = ", ".join(str(p.get("peer_handle")) for p in pending)
        check(
            "pending",
            "WARN",
            f"{len(pending)} pair request(s) waiting: {names}",
            "`wire pending`, then `wire accept <name>` or `wire reject <name>`",
        )
    else:
        check("pending", "PASS", "no pair requests waiting")
    checks.append(_inbox_check(home))
    return checks


async def _handle_check(agent: WireAgent, relay_url: str, check: Callable[..., None]) -> None:
    """Whether the relay's directory maps our handle to our DID (a taken handle is not "all good")."""
    from wire_client import RelayError, TransportError

    handle = agent.handle
    retry = (
        f"the handle is part of your identity, so another name is another identity: "
        f"`WIRE_HOME=<new dir> wire init <other-name> --relay {relay_url}`; meanwhile peers can pair "
        "with this one by invite (`wire invite`)"
    )
    try:
        record = await agent.relay(relay_url).resolve_handle(handle)
    except RelayError as exc:
        if exc.status != 404:
            check("handle", "WARN", f"cannot look up {handle!r} on {relay_url}: {exc.message}")
            return
        check(
            "handle", "WARN", f"{handle!r} is not claimed on {relay_url}: nobody can dial you by name", "`wire claim`"
        )
        return
    except TransportError as exc:
        check("handle", "WARN", f"cannot look up {handle!r} on {relay_url}: {exc.message}")
        return
    owner = record.get("did")
    if owner != agent.did:
        check("handle", "FAIL", f"{handle!r} on {relay_url} belongs to another identity ({clean(owner)})", retry)
    else:
        check("handle", "PASS", f"{handle!r} on {relay_url} is yours")


def _inbox_check(home: WireHome) -> dict[str, Any]:
    from wire_client import EventLog

    damaged = EventLog(home.inbox_dir).unreadable()
    if not damaged:
        return {"check": "inbox", "status": "PASS", "detail": "every inbox line is complete JSON", "fix": None}
    where = ", ".join(f"{peer} ({count})" for peer, count in sorted(damaged.items()))
    return {
        "check": "inbox",
        "status": "WARN",
        "detail": f"unreadable inbox line(s), skipped by every reader: {where}",
        "fix": "an incomplete last line (a writer was interrupted) is dropped and its event fetched again by the "
        "next `wire pull` or the daemon; other unreadable lines can be moved aside by hand",
    }


def doctor(json_: JsonOpt = False) -> None:
    """Check identity, relay reachability, slot, daemon, pending requests and inbox files; print the fixes."""
    with cli(json_) as ctx:
        checks = ctx.run(_doctor(ctx))
        failed = sum(1 for c in checks if c["status"] == "FAIL")
        data = {"ok": failed == 0, "checks": checks}

        def human() -> None:
            for c in checks:
                ok = {"PASS": True, "FAIL": False}.get(c["status"])
                ctx.out.line(f"{ctx.out.mark(ok)} {c['status']:<4} {c['check']:<8} {c['detail']}")
                if c["fix"] and c["status"] != "PASS":
                    ctx.out.line(f"           fix: {c['fix']}")
            ctx.out.line("all good" if not failed else f"{failed} check(s) failed")

        ctx.out.emit(data, human)
        if failed:
            raise typer.Exit(1)


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
            data = _daemon_json(home)
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
