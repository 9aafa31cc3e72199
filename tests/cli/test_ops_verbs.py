# SPDX-License-Identifier: MIT
"""Operator verbs through the real ``wire`` command: ``session pair-all-local``, ``upgrade`` (without
``--check``) and bare ``wire init <handle>`` against the local relay port 127.0.0.1:8771.

``upgrade`` runs under a temp ``HOME`` with a stand-in ``systemctl`` first on ``PATH`` (it records
its arguments and succeeds), so the real service manager is never touched; the daemon it restarts
is a real one started by the test in a temp ``WIRE_HOME``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.cli import Wire, parallel
from tests.helpers.relay_process import RelayProcess, RelayProcessError
from wire_client import DaemonPid, WireHome, daemon_status

LOCAL_PORT = 8771
LOCAL_URL = f"http://127.0.0.1:{LOCAL_PORT}"
WAIT = 20.0


def wait_until(condition: Callable[[], bool], what: str, within: float = WAIT) -> None:
    """Bounded wait on a condition another process brings about (polled, never a bare sleep)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        time.sleep(0.05)


# --- session pair-all-local ---------------------------------------------------------------------


def test_pair_all_local_meshes_three_sessions(relay: RelayProcess, tmp_path: Path, user_home: Path) -> None:
    root = tmp_path / "root"
    machine = Wire(root, user_home)  # WIRE_HOME without an identity of its own: the operator's shell
    projects = [user_home / name for name in ("alpha", "beta", "gamma")]
    for project in projects:
        project.mkdir()
    created = parallel(*(lambda p=p: machine("session", "new", "--relay", relay.url, cwd=p) for p in projects))
    for result in created:
        assert result.code == 0, str(result)
    assert {r.json()["name"] for r in created} == {"alpha", "beta", "gamma"}

    first = machine.ok("session", "pair-all-local").json()
    assert first["sessions"] == ["alpha", "beta", "gamma"]
    assert first["pairs_attempted"] == first["pairs_succeeded"] == 3
    assert first["pairs_failed"] == 0
    assert sorted((r["from"], r["to"], r["status"]) for r in first["results"]) == [
        ("alpha", "beta", "paired"),
        ("alpha", "gamma", "paired"),
        ("beta", "gamma", "paired"),
    ]

    again_human, again_json, mesh = parallel(
        lambda: machine("session", "pair-all-local", human=True),
        lambda: Wire(root / "sessions" / "beta", user_home)("session", "pair-all-local", "--json"),
        lambda: machine("mesh", "status"),
    )
    assert again_human.code == 0, str(again_human)
    assert "0 paired, 3 already, 0 failed" in again_human.out
    assert again_json.json()["pairs_skipped_already_paired"] == 3
    assert mesh.json()["summary"] == {"session_count": 3, "edge_count": 3, "healthy": 3, "asymmetric": 0}

    alpha = Wire(root / "sessions" / "alpha", user_home)
    assert {p["handle"] for p in alpha.ok("peers").json()} == {"beta", "gamma"}
    assert alpha.ok("send", "gamma", "hello sister").json()["status"] == "delivered"


def test_pair_all_local_without_sessions_says_what_to_do(wire: Wire) -> None:
    result = wire("session", "pair-all-local", human=True)
    assert result.code == 1
    assert "no sessions under" in result.err
    assert "wire session new" in result.err


# --- upgrade ------------------------------------------------------------------------------------


def fake_systemctl(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A ``PATH`` whose ``systemctl`` only records its arguments, and the file it records them in."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    log = tmp_path / "systemctl.log"
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexit 0\n')
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}, log


def make_stale(path: Path) -> None:
    """What an older install left behind: the unit points at another interpreter."""
    text = path.read_text()
    assert sys.executable in text
    path.write_text(text.replace(sys.executable, "/opt/old-wire/bin/python"))


def running_daemon(home: WireHome) -> DaemonPid | None:
    status = daemon_status(home)
    return status if status is not None and status.running else None


def stop_pid(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def test_upgrade_refreshes_service_files_and_restarts_the_daemon(
    relay: RelayProcess, tmp_path: Path, user_home: Path
) -> None:
    path_env, systemctl_log = fake_systemctl(tmp_path)
    wire = Wire(tmp_path / "home", user_home, **path_env)
    wire.ok("init", "upgrader", "--relay", relay.url)
    unit = Path(wire.ok("service", "install", "--local-relay", "--platform", "systemd", "--no-start").json()["path"])
    assert unit.is_relative_to(user_home)
    make_stale(unit)
    before = wire.ok("upgrade", "--check").json()
    assert before["up_to_date"] is False
    assert before["services"] == [{"kind": "local-relay", "path": str(unit), "stale": True}]

    home = WireHome.at(tmp_path / "home")
    old = wire.popen("daemon", "--no-toasts")
    new_pid: int | None = None
    try:
        wait_until(lambda: running_daemon(home) is not None, "the daemon to start")
        old_status = running_daemon(home)
        assert old_status is not None
        assert old_status.pid == old.pid

        upgraded = wire.ok("upgrade").json()
        assert upgraded["refreshed"] == [str(unit)]
        assert upgraded["daemon_restart"] == "restarted"
        _, old_log = old.communicate(timeout=WAIT)
        assert old.returncode == 0, old_log  # the old daemon shut down cleanly on SIGTERM
        wait_until(
            lambda: (status := running_daemon(home)) is not None and status.pid != old.pid,
            "the restarted daemon",
        )
        restarted = running_daemon(home)
        assert restarted is not None
        new_pid = restarted.pid
        assert f"ExecStart={sys.executable} -m wire_cli relay-server" in unit.read_text()

        after, human = parallel(lambda: wire("upgrade", "--check"), lambda: wire("status"))
        assert after.json()["up_to_date"] is True
        assert after.json()["services"][0]["stale"] is False
        assert after.json()["daemon"]["running"] is True
        assert after.json()["daemon"]["pid"] == new_pid
        assert human.code == 0, str(human)
        assert not systemctl_log.exists()  # no daemon service installed: nothing asked of systemctl
    finally:
        if old.poll() is None:
            old.kill()
        old.communicate(timeout=10)
        if new_pid is not None:
            stop_pid(new_pid)
            wait_until(lambda: running_daemon(home) is None, "the restarted daemon to stop", within=15)


def test_upgrade_restarts_an_installed_daemon_service(tmp_path: Path, user_home: Path) -> None:
    path_env, systemctl_log = fake_systemctl(tmp_path)
    wire = Wire(tmp_path / "home", user_home, **path_env)
    unit = Path(wire.ok("service", "install", "--platform", "systemd", "--no-start").json()["path"])
    make_stale(unit)
    result = wire("upgrade", human=True)
    assert result.code == 0, str(result)
    assert "refreshed 1 service file(s); daemon: restarted via service" in result.out
    assert f"{sys.executable} -m wire_cli daemon" in unit.read_text()
    assert systemctl_log.read_text().splitlines() == ["--user restart wire-daemon.service"]
    assert wire.ok("upgrade", "--check").json()["up_to_date"] is True


# --- bare init and the local relay port ---------------------------------------------------------


def _local_port_free() -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", LOCAL_PORT))
        except OSError:
            return False
    return True


@pytest.fixture
def local_port() -> int:
    if not _local_port_free():
        pytest.skip(f"127.0.0.1:{LOCAL_PORT} is in use by another program; bare `wire init` would attach to it")
    return LOCAL_PORT


def test_bare_init_without_a_local_relay_says_what_to_do(local_port: int, wire: Wire) -> None:
    human, as_json = parallel(lambda: wire("init", "loner", human=True), lambda: wire("init", "loner"))
    assert human.code == 1, str(human)
    assert f"no relay given, and no local relay answers at {LOCAL_URL}" in human.err
    assert "wire init loner --relay https://<relay>" in human.err
    assert f"wire relay-server --bind 127.0.0.1:{local_port} --local-only &" in human.err
    assert "wire init loner --offline" in human.err
    assert human.out == ""
    assert as_json.code == 1
    assert as_json.out == ""
    error = json.loads(as_json.err)["error"]
    assert error["code"] == "no_relay"
    assert "--offline" in error["hint"]
    assert wire.ok("here").json()["initialized"] is False  # nothing was created


def test_bare_init_attaches_to_the_local_relay(local_port: int, tmp_path: Path, user_home: Path) -> None:
    relay = RelayProcess(tmp_path / "local-relay")
    relay.port = local_port  # the well-known local relay port; RelayProcess binds whatever port it holds
    try:
        relay.start()
    except RelayProcessError as exc:
        pytest.skip(f"could not start a relay on 127.0.0.1:{local_port}: {exc}")
    try:
        assert relay.url == LOCAL_URL
        first, second = Wire(tmp_path / "first", user_home), Wire(tmp_path / "second", user_home)
        human, as_json = parallel(
            lambda: first("init", "localfirst", human=True), lambda: second("init", "localsecond")
        )
        assert human.code == 0, str(human)
        assert f"found a local relay at {LOCAL_URL}; attaching to it" in human.err
        assert f"mailbox on {LOCAL_URL} — handle claimed" in human.out
        data = as_json.json()
        assert data["relay_url"] == LOCAL_URL
        assert data["claimed"] is True
        assert data["status"] == "created"
        dialed = first.ok("dial", f"localsecond@127.0.0.1:{local_port}").json()
        assert dialed["status"] == "drop_sent"
        assert [r["peer_handle"] for r in second.ok("pending").json()] == ["localfirst"]
    finally:
        relay.stop()
