# SPDX-License-Identifier: MIT
"""Several identities on one machine: ``wire session …`` and ``wire mesh status``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wire_cli.commands import JsonOpt
from wire_cli.context import cli
from wire_cli.output import CliError, clean

if TYPE_CHECKING:
    from wire_client import SessionRegistry

__all__ = ["register", "session_list"]

session_app = typer.Typer(help="Isolated identities per project on one machine.", no_args_is_help=True)
mesh_app = typer.Typer(help="The mesh of sister sessions on this machine.", no_args_is_help=True)


def _registry() -> SessionRegistry:
    from wire_client import SessionRegistry

    return SessionRegistry.for_home()


@session_app.command("new")
def session_new(  # noqa: PLR0917 - typer maps parameters to options
    name: Annotated[str | None, typer.Argument(help="Session name (default: from the cwd).")] = None,
    relay: Annotated[str | None, typer.Option("--relay", help="Federation relay for a slot.")] = None,
    with_local: Annotated[bool, typer.Option("--with-local", help="Also a slot on the local relay.")] = False,
    local_relay: Annotated[str, typer.Option("--local-relay")] = "http://127.0.0.1:8771",
    lan_relay: Annotated[str | None, typer.Option("--lan-relay", help="Also a LAN slot on this relay.")] = None,
    uds_socket: Annotated[str | None, typer.Option("--uds-socket", help="Also a Unix-socket slot.")] = None,
    local_only: Annotated[bool, typer.Option("--local-only", help="Only the local relay, no federation.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Create (or re-register) the session for this directory."""
    with cli(json_) as ctx:
        if local_only and relay:
            raise CliError("--local-only and --relay exclude each other", code="usage", exit_code=2)
        local = local_relay if (with_local or local_only) else None
        registry = _registry()
        result = ctx.run(
            registry.new(
                name,
                relay_url=None if local_only else relay,
                local_relay=local,
                lan_relay=lan_relay,
                uds_socket=uds_socket,
            )
        )
        for note in result.notes:
            ctx.out.warn(note)
        if local_only and not any(ep.scope.value == "local" for ep in result.endpoints):
            raise CliError(
                f"--local-only but no local slot was obtained on {local_relay}",
                hint="start it: `wire relay-server --bind 127.0.0.1:8771 --local-only &`",
            )
        data = {
            "name": result.name,
            "home_dir": str(result.home_dir),
            "cwd": result.cwd,
            "did": result.did,
            "handle": result.handle,
            "status": result.status,
            "endpoints": [ep.redacted() for ep in result.endpoints],
            "export": result.export,
        }
        human = f"session {clean(result.name)} {result.status.replace('_', ' ')} ({result.did})\n"
        human += f"activate with:\n  {result.export}"
        ctx.out.emit(data, human)


@session_app.command("list")
def session_list(json_: JsonOpt = False) -> None:
    """Every session on this machine."""
    with cli(json_) as ctx:
        from wire_protocol import character_for

        sessions = _registry().list()
        data = [s.to_json() for s in sessions]

        def human() -> None:
            if not sessions:
                ctx.out.line("no sessions yet — `wire session new` in a project directory")
                return
            for s in sessions:
                persona = ctx.out.persona(character_for(s.did)) if s.did else "?"
                daemon = "up" if s.daemon_running else "down"
                ctx.out.line(
                    f"{persona:<32} {clean(s.name):<20} {clean(s.handle or '-'):<16} daemon {daemon:<5} {s.cwd or '-'}"
                )

        ctx.out.emit(data, human)


@session_app.command("list-local")
def session_list_local(json_: JsonOpt = False) -> None:
    """Sessions reachable through a local relay, grouped by relay (tokens redacted)."""
    with cli(json_) as ctx:
        data: dict[str, Any] = dict(_registry().list_local())

        def human() -> None:
            local: dict[str, Any] = data.get("local") or {}
            federation_only: list[Any] = data.get("federation_only") or []
            for url, entries in local.items():
                ctx.out.line(f"{url}:")
                for e in entries:
                    ctx.out.line(f"  {clean(e.get('name'))} ({clean(e.get('handle') or '-')}) {e.get('cwd') or ''}")
            for e in federation_only:
                ctx.out.line(f"federation only: {clean(e.get('name'))}")
            if not local and not federation_only:
                ctx.out.line("no sessions yet")

        ctx.out.emit(data, human)


@session_app.command("env")
def session_env(name: Annotated[str | None, typer.Argument()] = None, json_: JsonOpt = False) -> None:
    """`export WIRE_HOME=…` for a session (use with eval)."""
    with cli(json_) as ctx:
        registry = _registry()
        chosen = name or registry.current() or registry.find_for_cwd()
        if chosen is None:
            raise CliError(
                "no session registered for this directory", hint="`wire session new` creates one", code="not_found"
            )
        export = registry.env(chosen)
        ctx.out.emit({"name": chosen, "home_dir": str(registry.root / chosen), "export": export}, export)


@session_app.command("current")
def session_current(json_: JsonOpt = False) -> None:
    """The session registered for exactly this directory."""
    with cli(json_) as ctx:
        name = _registry().current()
        ctx.out.emit({"cwd": str(Path.cwd()), "session": name}, name or "(no session registered for this cwd)")


@session_app.command("bind")
def session_bind(name: Annotated[str | None, typer.Argument()] = None, json_: JsonOpt = False) -> None:
    """Attach this directory to an existing session."""
    with cli(json_) as ctx:
        result = _registry().bind(name)
        if result.previous and result.previous != result.session:
            ctx.out.warn(f"{result.cwd} was bound to {result.previous}; now {result.session}")
        data = {"cwd": result.cwd, "session": result.session, "changed": result.changed, "previous": result.previous}
        ctx.out.emit(data, f"{result.cwd} → session {result.session}" + ("" if result.changed else " (unchanged)"))


@session_app.command("destroy")
def session_destroy(
    name: Annotated[str, typer.Argument()],
    force: Annotated[bool, typer.Option("--force", help="Really delete its identity.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Delete a session and its identity (irrecoverable; needs --force)."""
    with cli(json_) as ctx:
        if not force:
            raise CliError(
                f"destroying {name!r} deletes its identity irrecoverably", hint=f"`wire session destroy {name} --force`"
            )
        destroyed = _registry().destroy(name, force=True)
        ctx.out.emit(
            {"name": name, "destroyed": destroyed},
            f"destroyed {clean(name)}" if destroyed else f"no session {clean(name)}",
        )


@session_app.command("pair-all-local")
def session_pair_all_local(json_: JsonOpt = False) -> None:
    """Pair every sister session with every other one (idempotent).

    Runs from anywhere: when the current home has no identity of its own (the usual shell outside
    any project), one of the sessions drives the pairing — the sessions root is the same.
    """
    with cli(json_) as ctx:
        from wire_cli.commands.pairing import _call

        if ctx.home().is_initialized:
            agent = ctx.agent()
        else:
            from wire_client import Identity, WireAgent

            registry = _registry()
            names = registry.names()
            if not names:
                raise CliError(
                    f"no sessions under {registry.root} to pair",
                    hint="create one per project first: `wire session new --relay <url>` (in each project directory)",
                    code="no_sessions",
                )
            home = registry.home(names[0])
            agent = WireAgent(home, Identity.load(home))
        data = _call(ctx, agent, lambda p: p.pair_all_local()).to_json()
        ctx.out.emit(
            data,
            f"{data.get('pairs_succeeded', 0)} paired, {data.get('pairs_skipped_already_paired', 0)} already, "
            f"{data.get('pairs_failed', 0)} failed",
        )


@mesh_app.command("status")
def mesh_status(json_: JsonOpt = False) -> None:
    """Who is paired with whom among the sister sessions (both directions pinned = bilateral)."""
    with cli(json_) as ctx:
        from wire_client import Identity, RelayStateStore, TrustStore, WireClientError

        registry = _registry()
        sessions: list[dict[str, Any]] = []
        for info in registry.list():
            home = registry.home(info.name)
            try:
                Identity.load(home)
            except WireClientError:
                continue
            pinned = {r.did for r in TrustStore(home).agents().values() if r.did != info.did}
            ready = {h for h, eps in RelayStateStore(home).peers().items() if any(ep.is_ready for ep in eps)}
            sessions.append({"name": info.name, "handle": info.handle, "did": info.did, "pins": pinned, "ready": ready})
        edges = []
        for i, a in enumerate(sessions):
            for b in sessions[i + 1 :]:
                ab, ba = b["did"] in a["pins"], a["did"] in b["pins"]
                if not (ab or ba):
                    continue
                routable = b["handle"] in a["ready"] and a["handle"] in b["ready"]
                status = "healthy" if ab and ba and routable else "asymmetric"
                edges.append({"from": a["name"], "to": b["name"], "bilateral": ab and ba, "status": status})
        summary = {
            "session_count": len(sessions),
            "edge_count": len(edges),
            "healthy": sum(1 for e in edges if e["status"] == "healthy"),
            "asymmetric": sum(1 for e in edges if e["status"] == "asymmetric"),
        }
        data = {"sessions": [s["name"] for s in sessions], "edges": edges, "summary": summary}
        lines = [f"{e['from']} ↔ {e['to']}: {e['status']}" for e in edges] or ["no paired sister sessions"]
        ctx.out.emit(data, "\n".join([*lines, f"{summary['healthy']}/{summary['edge_count']} edge(s) healthy"]))


def register(app: typer.Typer) -> None:
    app.add_typer(session_app, name="session")
    app.add_typer(mesh_app, name="mesh")
