# SPDX-License-Identifier: MIT
"""``wire service``: run the daemon (or a local relay) at login — systemd user unit, launchd agent,
or a Windows scheduled task — always pointing at this interpreter (``sys.executable -m wire_cli``)."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

__all__ = ["KINDS", "Service", "detect_platform", "service_for"]

KINDS = ("daemon", "local-relay")
PLATFORMS = ("systemd", "launchd", "windows")
LOCAL_RELAY_BIND = "127.0.0.1:8771"
_TIMEOUT = 20


def detect_platform() -> str:
    if sys.platform == "darwin":
        return "launchd"
    if sys.platform == "win32":
        return "windows"
    return "systemd"


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def program_args(kind: str, platform: str | None = None) -> list[str]:
    base = [sys.executable, "-m", "wire_cli"]
    if kind == "daemon" and platform == "windows":
        # a scheduled task has no environment of its own: the home goes on the command line
        home = _wire_home()
        return [
            sys.executable,
            "-m",
            "wire_client",
            "daemon",
            *(["--home", home] if home else []),
            "--poll-interval",
            "5",
        ]
    if kind == "daemon":
        return [*base, "daemon", "--interval", "5"]
    return [*base, "relay-server", "--bind", LOCAL_RELAY_BIND, "--local-only"]


def _wire_home() -> str | None:
    value = os.environ.get("WIRE_HOME", "").strip()
    return str(Path(value).expanduser().absolute()) if value else None


def unit_suffix(kind: str) -> str:
    """``-<8 hex>`` of the WIRE_HOME a daemon serves (none for the default home or the shared local relay), so
    two sessions' units do not overwrite each other."""
    home = _wire_home()
    if kind != "daemon" or home is None:
        return ""
    import hashlib

    return "-" + hashlib.sha256(home.encode("utf-8")).hexdigest()[:8]


def _environment() -> dict[str, str]:
    env = {"PYTHONUNBUFFERED": "1"}
    home = _wire_home()
    if home:
        env["WIRE_HOME"] = home
    return env


@dataclass(slots=True)
class Service:
    """One service definition on one platform: where it goes, what it says, how to start it."""

    kind: str
    platform: str
    path: Path
    name: str
    commands_run: list[str] = field(default_factory=list)

    # --- rendering -------------------------------------------------------------------------------

    def render(self) -> bytes:
        args = program_args(self.kind, self.platform)
        env = _environment()
        what = "wire daemon (agent phone line)" if self.kind == "daemon" else "wire local relay (127.0.0.1:8771)"
        if self.platform == "systemd":
            exec_start = " ".join(_systemd_quote(a) for a in args)
            lines = [
                "[Unit]",
                f"Description={what}",
                "After=network-online.target",
                "Wants=network-online.target",
                "",
                "[Service]",
                "Type=simple",
                f"ExecStart={exec_start}",
                *(f"Environment={_systemd_quote(f'{k}={v}')}" for k, v in sorted(env.items())),
                "Restart=on-failure",
                "RestartSec=5",
                "",
                "[Install]",
                "WantedBy=default.target",
                "",
            ]
            return "\n".join(lines).encode()
        if self.platform == "launchd":
            logs = _home() / "Library" / "Logs" / f"{self.name}.log"
            plist = {
                "Label": self.name,
                "ProgramArguments": args,
                "EnvironmentVariables": env,
                "RunAtLoad": True,
                "KeepAlive": True,
                "ProcessType": "Background",
                "StandardOutPath": str(logs),
                "StandardErrorPath": str(logs),
            }
            return plistlib.dumps(plist)
        command, arguments = args[0], subprocess.list2cmdline(args[1:])
        home_note = escape(f" for WIRE_HOME={env['WIRE_HOME']}") if "WIRE_HOME" in env else ""
        xml = f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Description>{escape(what)}{home_note}</Description></RegistrationInfo>
  <Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>
  <Principals>
    <Principal id="Author"><LogonType>InteractiveToken</LogonType><RunLevel>LeastPrivilege</RunLevel></Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Hidden>true</Hidden>
    <RestartOnFailure><Interval>PT1M</Interval><Count>3</Count></RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec><Command>{escape(command)}</Command><Arguments>{escape(arguments)}</Arguments></Exec>
  </Actions>
</Task>
"""
        return xml.encode("utf-16")

    # --- lifecycle -------------------------------------------------------------------------------

    def _run(self, *argv: str) -> bool:
        self.commands_run.append(shlex.join(argv))
        if shutil.which(argv[0]) is None:
            return False
        try:
            done = subprocess.run(argv, capture_output=True, timeout=_TIMEOUT, check=False)  # noqa: S603
        except (OSError, subprocess.SubprocessError):
            return False
        return done.returncode == 0

    @property
    def installed(self) -> bool:
        return self.path.exists()

    @property
    def stale(self) -> bool:
        """The installed file differs from what this interpreter would write (e.g. after an upgrade)."""
        try:
            return self.path.read_bytes() != self.render()
        except OSError:
            return False

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_bytes(self.render())
        os.replace(tmp, self.path)

    def start(self) -> str:
        """Load/enable the written definition; returns the resulting status word."""
        if self.platform == "systemd":
            ok = self._run("systemctl", "--user", "daemon-reload") and self._run(
                "systemctl", "--user", "enable", "--now", self.path.name
            )
            return "enabled" if ok else "written"
        if self.platform == "launchd":
            domain = f"gui/{os.getuid()}" if hasattr(os, "getuid") else "gui"
            self._run("launchctl", "bootout", f"{domain}/{self.name}")
            return "loaded" if self._run("launchctl", "bootstrap", domain, str(self.path)) else "written"
        ok = self._run("schtasks", "/Create", "/TN", self.name, "/XML", str(self.path), "/F")
        if ok:
            self._run("schtasks", "/Run", "/TN", self.name)
        return "registered" if ok else "written"

    def restart(self) -> bool:
        if self.platform == "systemd":
            return self._run("systemctl", "--user", "restart", self.path.name)
        if self.platform == "launchd":
            domain = f"gui/{os.getuid()}" if hasattr(os, "getuid") else "gui"
            return self._run("launchctl", "kickstart", "-k", f"{domain}/{self.name}")
        return self._run("schtasks", "/End", "/TN", self.name) and self._run("schtasks", "/Run", "/TN", self.name)

    def stop_and_remove(self) -> str:
        if not self.installed:
            return "absent"
        if self.platform == "systemd":
            self._run("systemctl", "--user", "disable", "--now", self.path.name)
        elif self.platform == "launchd":
            domain = f"gui/{os.getuid()}" if hasattr(os, "getuid") else "gui"
            self._run("launchctl", "bootout", f"{domain}/{self.name}")
        else:
            self._run("schtasks", "/Delete", "/TN", self.name, "/F")
        self.path.unlink(missing_ok=True)
        if self.platform == "systemd":
            self._run("systemctl", "--user", "daemon-reload")
        return "removed"

    def state(self) -> str:
        if not self.installed:
            return "absent"
        if self.platform == "systemd":
            return (
                "active"
                if self._run("systemctl", "--user", "is-active", "--quiet", self.path.name)
                else "installed (inactive)"
            )
        if self.platform == "launchd":
            return "loaded" if self._run("launchctl", "list", self.name) else "installed (not loaded)"
        return "installed" if self._run("schtasks", "/Query", "/TN", self.name) else "installed (not registered)"

    def to_json(self, status: str) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "platform": self.platform,
            "name": self.name,
            "path": str(self.path),
            "status": status,
            "program": program_args(self.kind, self.platform),
            "commands_run": list(self.commands_run),
        }


def service_for(kind: str, platform: str | None = None) -> Service:
    """The service definition of ``kind`` (daemon / local-relay) on ``platform`` (default: this OS)."""
    chosen = platform or detect_platform()
    suffix = unit_suffix(kind)
    if chosen == "systemd":
        config = Path(os.environ.get("XDG_CONFIG_HOME") or _home() / ".config")
        path = config / "systemd" / "user" / f"wire-{kind}{suffix}.service"
        return Service(kind, chosen, path, f"wire-{kind}{suffix}")
    if chosen == "launchd":
        name = f"dev.wire.{kind}{suffix}"
        return Service(kind, chosen, _home() / "Library" / "LaunchAgents" / f"{name}.plist", name)
    # the task definition lives with the user's local application data (%LOCALAPPDATA%, by default
    # %USERPROFILE%\AppData\Local), never in a temp directory; schtasks registers it under \wire\<name>
    base = Path(os.environ.get("LOCALAPPDATA") or _home() / "AppData" / "Local")
    name = f"wire-{kind}{suffix}"
    return Service(kind, chosen, base / "wire" / "tasks" / f"{name}.xml", f"\\wire\\{name}")


def _systemd_quote(arg: str) -> str:
    """Quote one ExecStart/Environment word for systemd (double quotes, backslash escapes, % doubled)."""
    text = arg.replace("%", "%%")
    if text and all(c.isalnum() or c in "/._-=:+,@" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
