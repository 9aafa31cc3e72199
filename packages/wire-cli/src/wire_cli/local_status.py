# SPDX-License-Identifier: MIT
"""``wire status`` and ``wire doctor`` without typer (``wire_cli.local_verbs``): they read the home's files,
and only ``doctor`` touches the network, through wire-client's stdlib transport (never aiohttp)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from wire_cli.context import Ctx, LocalHome, cli
from wire_cli.output import clean

if TYPE_CHECKING:
    from collections.abc import Callable

    from wire_client import Endpoint, Identity, WireAgent, WireHome

__all__ = ["daemon_json", "doctor", "not_initialized", "pending_inbound", "status"]


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


def daemon_json(home: WireHome) -> dict[str, Any]:
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


def _status(agent: LocalHome) -> dict[str, Any]:
    home = agent.home
    from wire_cli.views import effective_tier

    peers = [
        {"handle": h, "tier": effective_tier(r.tier.name, agent.relay_state.peer_endpoints(h), agent.refusal(h))}
        for h, r in sorted(agent.trust.agents().items())
        if r.did != agent.did
    ]
    inbox = {p: len(agent.inbox.read(p)) for p in agent.inbox.peers()}
    backlog = agent.outbox.backlog()
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
        "daemon": daemon_json(home),
        "pending_pairs": {"inbound_count": len(pending), "inbound_handles": [p.get("peer_handle") for p in pending]},
    }


def not_initialized(ctx: Ctx) -> bool:
    """Say so (``{"initialized": false}``) when this home has no identity yet."""
    if ctx.home().is_initialized:
        return False
    ctx.out.emit({"initialized": False}, "not initialized — run `wire init <handle> --relay <url>`")
    return True


def status(json_: bool = False) -> None:
    """``wire status``: identity, slots, peers, queues, daemon and pending requests, from the home's files."""
    with cli(json_) as ctx:
        if not_initialized(ctx):
            return
        agent = ctx.local()
        data = _status(agent)
        ctx.out.emit(data, lambda: _status_human(ctx, agent, data))


def _status_human(ctx: Ctx, agent: LocalHome, data: dict[str, Any]) -> None:
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


def _doctor(ctx: Ctx, *, offline: bool) -> list[dict[str, Any]]:
    from wire_client import Identity, WireClientError

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
    endpoints = LocalHome(home, identity).endpoints()
    if not endpoints:
        check("slot", "FAIL", "no relay slot: nobody can deliver to you", "`wire init` again with `--relay <url>`")
    elif not offline:
        ctx.run(_relay_checks(home, identity, endpoints, check))
    daemon = daemon_json(home)
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


async def _relay_checks(
    home: WireHome, identity: Identity, endpoints: list[Endpoint], check: Callable[..., None]
) -> None:
    """Each slot's relay answers, accepts our token, and (federation) maps our handle to us."""
    from wire_client import RelayError, TransportError, WireAgent

    async with WireAgent(home, identity, transport="oneshot") as agent:
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


def doctor(json_: bool = False, offline: bool = False) -> None:
    """``wire doctor``: identity, relays (unless ``offline``), slot, daemon, pending requests, inbox files."""
    with cli(json_) as ctx:
        checks = _doctor(ctx, offline=offline)
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
            raise SystemExit(1)
