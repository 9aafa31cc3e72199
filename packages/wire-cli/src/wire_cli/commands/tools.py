# SPDX-License-Identifier: MIT
"""Around the line: relay-server, mcp, setup, service, upgrade, completions, demo."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from wire_cli.commands import JsonOpt
from wire_cli.context import Ctx, cli
from wire_cli.output import CliError

__all__ = ["register"]

service_app = typer.Typer(help="Run the daemon (or a local relay) at login.", no_args_is_help=True)


def relay_server(ctx: typer.Context) -> None:
    """Run the wire-relay program (self-hosted mailbox relay); arguments are passed through."""
    from wire_cli.demo import relay_command

    with cli(False) as wctx:
        command = relay_command()
        if command is None:
            raise CliError(
                "wire-relay is not installed",
                hint="install wire-relay from the same source as wire-cli (AGPL-3.0, a separate package; in a checkout "
                "`pip install ./packages/wire-relay`), then `wire relay-server --help`",
                code="relay_missing",
            )
        args = [*command, *ctx.args]
        wctx.out.flush()
        if os.name == "posix":
            os.execv(args[0], args)  # noqa: S606 - replacing ourselves with the relay
        import subprocess

        raise typer.Exit(subprocess.call(args))  # noqa: S603


def mcp(ctx: typer.Context) -> None:
    """Run the MCP server over stdio (for Claude Code, Cursor, Claude Desktop)."""
    try:
        from wire_mcp.__main__ import main as mcp_main  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        with cli(False):
            raise CliError(
                "the MCP server (wire-mcp) is not installed",
                hint="install wire-mcp into the same environment as wire-cli, from the same source (in a checkout: "
                "`pip install ./packages/wire-mcp`), then `wire setup --apply`",
                code="mcp_missing",
            ) from None
    sys.argv = ["wire mcp", *ctx.args]
    result: Any = mcp_main()
    raise typer.Exit(result if isinstance(result, int) else 0)


def setup(
    apply: Annotated[bool, typer.Option("--apply", help="Write the changes (with backups).")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the unified diff of what --apply would write.")
    ] = False,
    project: Annotated[bool, typer.Option("--project", help="Also create ./.mcp.json in this directory.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Register `wire mcp` with the installed agent apps (Claude Code, Claude Desktop, Cursor)."""
    with cli(json_) as ctx:
        from wire_cli import setup_apply

        home = Path(os.environ.get("HOME") or Path.home())
        entry = setup_apply.mcp_entry()
        plans = [setup_apply.plan(t, entry) for t in setup_apply.targets(home, Path.cwd(), project=project)]
        if apply and not dry_run:
            plans = [setup_apply.apply(p, entry) for p in plans]
        refused = [p for p in plans if p.status == "unparseable"]
        data: dict[str, Any] = {
            "entry": {"mcpServers": {"wire": entry}},
            "applied": apply and not dry_run,
            "targets": [p.to_json() for p in plans],
        }
        if dry_run:
            data["diff"] = "".join(p.diff() for p in plans if p.status in ("update", "create"))

        def human() -> None:
            out = ctx.out
            if not apply and not dry_run:
                import json

                out.line("wire's MCP entry:")
                out.line(json.dumps(data["entry"], indent=2))
            for p in plans:
                label = {
                    "absent": "skipped (not installed)",
                    "unchanged": "already set up",
                    "update": "would update",
                    "create": "would create",
                    "updated": "updated",
                    "created": "created",
                    "unparseable": "REFUSED",
                }[p.status]
                ok = {"absent": None, "unparseable": False}.get(p.status, True)
                extra = f" — {p.reason}" if p.reason and p.status in ("unparseable", "updated", "created") else ""
                backup = f" (backup {p.backup})" if p.backup else ""
                out.line(f"{out.mark(ok)} {p.target.app:<22} {label}{extra}{backup}  {p.target.path}")
            if dry_run and data.get("diff"):
                out.line("")
                out.line(str(data["diff"]).rstrip("\n"))
            if not apply and not dry_run:
                out.line("run `wire setup --apply` to write these (`--dry-run` shows the diff)")
            elif apply and not dry_run and any(p.status in ("updated", "created") for p in plans):
                out.line("restart the app(s) so they load wire's MCP tools")

        ctx.out.emit(data, human)
        if refused:
            for p in refused:
                ctx.out.warn(f"{p.target.path}: {p.reason} — fix or move it, then run `wire setup --apply` again")
            raise typer.Exit(1)


# --- service ------------------------------------------------------------------------------------

KindOpt = Annotated[bool, typer.Option("--local-relay", help="The local relay (127.0.0.1:8771) instead of the daemon.")]
PlatformOpt = Annotated[str | None, typer.Option("--platform", help="systemd, launchd or windows (default: this OS).")]


def _service(local_relay: bool, platform: str | None) -> Any:
    from wire_cli.service import PLATFORMS, service_for

    if platform is not None and platform not in PLATFORMS:
        raise CliError(f"--platform must be one of {', '.join(PLATFORMS)}", code="usage", exit_code=2)
    return service_for("local-relay" if local_relay else "daemon", platform)


@service_app.command("install")
def service_install(
    local_relay: KindOpt = False,
    platform: PlatformOpt = None,
    no_start: Annotated[bool, typer.Option("--no-start", help="Only write the file.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written where; change nothing.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Write the service definition (pointing at this interpreter) and start it.

    The daemon's unit is named after the WIRE_HOME it serves, so each session gets its own.
    """
    with cli(json_) as ctx:
        from wire_cli.service import detect_platform

        svc = _service(local_relay, platform)
        if dry_run:
            text = svc.render().decode("utf-16" if svc.platform == "windows" else "utf-8")
            data = svc.to_json("dry-run") | {"content": text}
            ctx.out.emit(data, f"would write {svc.path} ({svc.name}):\n{text}")
            return
        svc.write()
        status = "written" if no_start or svc.platform != detect_platform() else svc.start()
        data = svc.to_json(status)
        human = f"{svc.kind} service {status}: {svc.path}"
        if status == "written" and not no_start and svc.platform == detect_platform():
            human += f"\n  could not start it here; run: {' && '.join(svc.commands_run) or 'your service manager'}"
        ctx.out.emit(data, human)


@service_app.command("uninstall")
def service_uninstall(local_relay: KindOpt = False, platform: PlatformOpt = None, json_: JsonOpt = False) -> None:
    """Stop and remove the service definition."""
    with cli(json_) as ctx:
        svc = _service(local_relay, platform)
        status = svc.stop_and_remove()
        ctx.out.emit(svc.to_json(status), f"{svc.kind} service {status}")


@service_app.command("status")
def service_status(local_relay: KindOpt = False, platform: PlatformOpt = None, json_: JsonOpt = False) -> None:
    """Whether the service is installed and running."""
    with cli(json_) as ctx:
        svc = _service(local_relay, platform)
        state = svc.state()
        data = svc.to_json(state) | {"stale": svc.stale}
        stale = " (points at another interpreter: `wire upgrade`)" if svc.stale else ""
        ctx.out.emit(data, f"{svc.kind} service: {state}{stale}  {svc.path}")


# --- upgrade ------------------------------------------------------------------------------------


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    found: dict[str, str | None] = {}
    for dist in ("wire-cli", "wire-client", "wire-agent-protocol", "wire-mcp", "wire-relay"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = None
    return found


def _restart_daemon(ctx: Ctx, services: list[Any]) -> str:
    """Restart the daemon: through its service when one is installed, else stop + respawn detached."""
    import signal
    import subprocess
    import time

    daemon_svc = next((s for s in services if s.kind == "daemon" and s.installed), None)
    if daemon_svc is not None:
        return "restarted via service" if daemon_svc.restart() else "service restart failed"
    home = ctx.home()
    if not home.is_initialized:
        return "no identity"
    from wire_client import daemon_status

    status = daemon_status(home)
    if status is None or not status.running:
        return "not running"
    os.kill(status.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (current := daemon_status(home)) is not None and current.running:
        time.sleep(0.1)
    home.state_dir.mkdir(parents=True, exist_ok=True)
    with home.daemon_log.open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "wire_cli", "daemon"],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return "restarted"


def upgrade(
    check: Annotated[bool, typer.Option("--check", help="Only report what is out of date.")] = False,
    json_: JsonOpt = False,
) -> None:
    """After upgrading wire-cli: refresh installed service files and restart the daemon."""
    with cli(json_) as ctx:
        from wire_cli.service import KINDS, service_for

        services = [service_for(kind) for kind in KINDS]
        installed = [s for s in services if s.installed]
        stale = [s for s in installed if s.stale]
        daemon: dict[str, Any] = {}
        home = ctx.home()
        if home.is_initialized:
            from wire_cli.local_status import daemon_json

            daemon = daemon_json(home)
        data: dict[str, Any] = {
            "versions": _versions(),
            "interpreter": sys.executable,
            "services": [{"kind": s.kind, "path": str(s.path), "stale": s.stale} for s in installed],
            "daemon": daemon,
            "up_to_date": not stale and not daemon.get("version_mismatch"),
        }
        if not check:
            for svc in stale:
                svc.write()
            data["refreshed"] = [str(s.path) for s in stale]
            data["daemon_restart"] = _restart_daemon(ctx, services)

        def human() -> None:
            out = ctx.out
            out.line("installed: " + ", ".join(f"{k} {v}" for k, v in data["versions"].items() if v))
            for s in installed:
                out.line(
                    f"{out.mark(not s.stale if check else True)} {s.kind} service {s.path}"
                    + (" (stale)" if check and s.stale else "")
                )
            if daemon.get("version_mismatch"):
                mismatch = daemon["version_mismatch"]
                out.line(f"{out.mark(None)} daemon runs {mismatch['daemon']}, this CLI is {mismatch['cli']}")
            if check:
                out.line("up to date" if data["up_to_date"] else "run `wire upgrade` to refresh")
            else:
                out.line(f"refreshed {len(stale)} service file(s); daemon: {data['daemon_restart']}")
                out.line(
                    "(new versions come from where you installed wire from: re-run that install, e.g. `git pull` and "
                    "`pip install -U ./packages/wire-cli ./packages/wire-mcp` in a checkout)"
                )

        ctx.out.emit(data, human)


def completions(
    shell: Annotated[str, typer.Argument(help="bash, zsh, fish or powershell.")] = "bash",
) -> None:
    """Print the shell completion script (e.g. `wire completions bash >> ~/.bashrc`)."""
    with cli(False) as ctx:
        from typer._completion_shared import get_completion_script  # typer has no public name for it

        if shell not in ("bash", "zsh", "fish", "powershell", "pwsh"):
            raise CliError(f"unknown shell {shell!r}", hint="bash, zsh, fish or powershell", code="usage", exit_code=2)
        # the script calls back `_WIRE_COMPLETE=complete_<shell> wire`, which typer's own completion
        # machinery answers (the root app is built with add_completion=True for that)
        ctx.out.line(get_completion_script(prog_name="wire", complete_var="_WIRE_COMPLETE", shell=shell).rstrip("\n"))


def demo(
    keep: Annotated[bool, typer.Option("--keep", help="Keep the temp dir (relay store, homes).")] = False,
    json_: JsonOpt = False,
) -> None:
    """A local relay and two agents that pair by handle and talk — narrated, a few seconds."""
    with cli(json_) as ctx:
        from wire_cli.demo import run_demo

        summary = run_demo(ctx.out, keep=keep)
        if ctx.json:
            ctx.out.json(summary)


def register(app: typer.Typer) -> None:
    passthrough = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
    app.command("relay-server", context_settings=passthrough, add_help_option=False)(relay_server)
    app.command("mcp", context_settings=passthrough, add_help_option=False)(mcp)
    app.command()(setup)
    app.add_typer(service_app, name="service")
    app.command()(upgrade)
    app.command()(completions)
    app.command()(demo)
