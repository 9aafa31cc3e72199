# SPDX-License-Identifier: MIT
"""``wire setup``: register ``wire mcp`` in the MCP configs of installed agent apps.

Unlike the reference (features notes §8), a file that does not parse as a JSON object is never
replaced (it is reported and the run exits non-zero), apps that are not installed are skipped
rather than given new config files, and every changed file is backed up first.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PORTABLE_ENTRY", "Plan", "Target", "apply", "mcp_entry", "plan", "targets"]

SERVER_NAME = "wire"


def wire_command() -> str:
    """The ``wire`` executable to register: this one when it is on disk, else ``wire`` from PATH."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name in ("wire", "wire.exe") and argv0.is_file():
        return str(argv0.absolute())
    found = shutil.which("wire")
    return found or "wire"


def mcp_entry(command: str | None = None) -> dict[str, Any]:
    return {"command": command or wire_command(), "args": ["mcp"]}


#: a project's ``.mcp.json`` is shared (committed, used on other machines): it names ``wire`` from PATH,
#: never this machine's virtualenv path
PORTABLE_ENTRY: dict[str, Any] = {"command": "wire", "args": ["mcp"]}


@dataclass(frozen=True, slots=True)
class Target:
    """One MCP config file. ``installed_marker`` must exist for the app to count as installed."""

    app: str
    path: Path
    installed_marker: Path
    create: bool = False  # write the file even when it does not exist yet
    portable: bool = False  # a shared file: register ``wire`` from PATH (PORTABLE_ENTRY)
    host_cli: tuple[str, ...] = ()  # the app's own registration command, preferred when it is installed


@dataclass(slots=True)
class Plan:
    target: Target
    status: str  # absent | unparseable | unchanged | update | create
    old_text: str = ""
    new_text: str = ""
    reason: str | None = None
    backup: str | None = None

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old_text.splitlines(keepends=True),
                self.new_text.splitlines(keepends=True),
                fromfile=str(self.target.path) if self.old_text else "/dev/null",
                tofile=str(self.target.path),
            )
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"app": self.target.app, "path": str(self.target.path), "status": self.status}
        if self.reason:
            data["reason"] = self.reason
        if self.backup:
            data["backup"] = self.backup
        return data


def targets(home: Path, cwd: Path, *, platform: str = sys.platform, project: bool = False) -> list[Target]:
    """The known MCP config files, in order (Claude Code, its project file, Claude Desktop, Cursor)."""
    found = [
        Target("Claude Code", home / ".claude.json", home / ".claude.json", host_cli=_CLAUDE_ADD),
        Target(
            "Claude Code (project)",
            cwd / ".mcp.json",
            cwd if project else cwd / ".mcp.json",
            create=project,
            portable=True,
        ),
    ]
    if (home / ".claude").is_dir():  # Claude Code installed but never wrote ~/.claude.json yet
        found[0] = Target("Claude Code", home / ".claude.json", home / ".claude", create=True, host_cli=_CLAUDE_ADD)
    if platform == "darwin":
        desktop = home / "Library" / "Application Support" / "Claude"
        found.append(Target("Claude Desktop", desktop / "claude_desktop_config.json", desktop, create=True))
    elif platform == "win32":
        appdata = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming") / "Claude"
        found.append(Target("Claude Desktop", appdata / "claude_desktop_config.json", appdata, create=True))
    found.append(Target("Cursor", home / ".cursor" / "mcp.json", home / ".cursor", create=True))
    return found


_CLAUDE_ADD = ("claude", "mcp", "add", "--scope", "user", SERVER_NAME, "--")


def _render(data: dict[str, Any], like: str = "") -> str:
    """Pretty JSON, or compact when the file we merge into was compact (one line)."""
    if like.strip() and "\n" not in like.strip():
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + ("\n" if like.endswith("\n") else "")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def plan(target: Target, entry: dict[str, Any]) -> Plan:
    """What setup would do to ``target`` (nothing is written here)."""
    entry = PORTABLE_ENTRY if target.portable else entry
    path = target.path
    if not path.exists():
        if not (target.create and target.installed_marker.exists()):
            return Plan(
                target,
                "absent",
                reason="app not installed" if not target.installed_marker.exists() else "no config file",
            )
        return Plan(target, "create", new_text=_render({"mcpServers": {SERVER_NAME: entry}}))
    try:
        old_text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Plan(target, "unparseable", reason=f"cannot read it: {exc}")
    try:
        data = json.loads(old_text) if old_text.strip() else {}
    except ValueError as exc:
        return Plan(target, "unparseable", old_text=old_text, reason=f"not valid JSON ({exc}); left untouched")
    if not isinstance(data, dict):
        return Plan(target, "unparseable", old_text=old_text, reason="not a JSON object; left untouched")
    servers = data.get("mcpServers", {})
    if not isinstance(servers, dict):
        return Plan(target, "unparseable", old_text=old_text, reason="`mcpServers` is not an object; left untouched")
    if servers.get(SERVER_NAME) == entry:
        return Plan(target, "unchanged", old_text=old_text, new_text=old_text)
    merged = dict(data)
    merged["mcpServers"] = {**servers, SERVER_NAME: entry}
    return Plan(target, "update", old_text=old_text, new_text=_render(merged, old_text))


def apply(item: Plan, entry: dict[str, Any] | None = None) -> Plan:
    """Write one planned change: through the app's own CLI when it is installed (``claude mcp add``),
    else backup first, then an atomic replace that keeps the file mode."""
    path = item.target.path
    if item.status not in ("update", "create"):
        return item
    if item.target.host_cli and entry is not None and _host_cli_added(item, entry):
        return item
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o600
    if path.exists():
        mode = path.stat().st_mode & 0o777
        backup = path.with_name(f"{path.name}.wire-backup-{time.strftime('%Y%m%d-%H%M%S')}")
        counter = 1
        while backup.exists():
            backup = path.with_name(f"{path.name}.wire-backup-{time.strftime('%Y%m%d-%H%M%S')}-{counter}")
            counter += 1
        shutil.copy2(path, backup)
        item.backup = str(backup)
    tmp = path.with_name(f".{path.name}.wire-tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(item.new_text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    item.status = "updated" if item.status == "update" else "created"
    return item


def _host_cli_added(item: Plan, entry: dict[str, Any]) -> bool:
    """Register through the host's own CLI; False (fall back to the merge) when it is absent or fails."""
    import subprocess

    tool = shutil.which(item.target.host_cli[0])
    if tool is None:
        return False
    argv = [tool, *item.target.host_cli[1:], str(entry["command"]), *entry["args"]]
    if item.status == "update":  # `mcp add` refuses an existing name: remove ours first
        remove = [tool, "mcp", "remove", "--scope", "user", SERVER_NAME]
        subprocess.run(remove, capture_output=True, timeout=30, check=False)  # noqa: S603
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, check=False)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return False
    if done.returncode != 0:
        return False
    item.status = "updated" if item.status == "update" else "created"
    item.reason = f"via `{item.target.host_cli[0]} mcp add`"
    return True
