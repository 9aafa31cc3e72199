# SPDX-License-Identifier: MIT
"""The start-up failures a self-hoster meets first end in ONE line on stderr saying what is wrong
and what to do — never a traceback (real ``wire-relay`` processes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.proxies import free_port
from tests.helpers import postgres as pg

pg_server = pg.pg_server


def _run(args: list[str], env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "wire_relay", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.stdout == "", "nothing on stdout: the listening line must not appear"
    return done.returncode, [line for line in done.stderr.splitlines() if line.strip()]


def _assert_one_line(lines: list[str], *needles: str) -> None:
    """No traceback; the last line is the only ``wire-relay:`` line (log lines may precede it)."""
    text = "\n".join(lines)
    assert "Traceback" not in text, text
    assert [line for line in lines if line.startswith("wire-relay: ")] == lines[-1:], text
    for needle in needles:
        assert needle in lines[-1]


@pytest.fixture
def no_asyncpg(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import asyncpg`` fails, as on a host without the extra."""
    blocker = tmp_path / "blocker"
    (blocker / "asyncpg").mkdir(parents=True)
    (blocker / "asyncpg" / "__init__.py").write_text("raise ImportError(\"No module named 'asyncpg'\")\n")
    return {"PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


@pytest.mark.timeout(60)
def test_missing_asyncpg(no_asyncpg: dict[str, str]) -> None:
    code, lines = _run(["--bind", "127.0.0.1:0", "--store", "postgresql://wire:secret@127.0.0.1:1/wire"], no_asyncpg)
    assert code == 1
    _assert_one_line(lines, "asyncpg", "pip install 'wire-relay[postgres]'")


@pytest.mark.timeout(60)
def test_postgres_unreachable_and_password_never_shown() -> None:
    port = free_port()  # nothing listens there
    code, lines = _run(["--bind", "127.0.0.1:0", "--store", f"postgresql://wire:hunter2@127.0.0.1:{port}/wire"])
    assert code == 1
    _assert_one_line(lines, "cannot reach PostgreSQL", f"127.0.0.1:{port}", "is the server running")
    assert "hunter2" not in lines[-1]


@pytest.mark.timeout(60)
def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines = _run(["--bind", f"127.0.0.1:{port}", "--store", f"sqlite:///{tmp_path}/relay.sqlite3"])
    assert code == 1
    _assert_one_line(lines, f"127.0.0.1:{port}", "already in use", "--bind")


@pytest.mark.timeout(60)
def test_sqlite_path_not_usable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    code, lines = _run(["--bind", "127.0.0.1:0", "--store", f"sqlite:///{blocker}/relay.sqlite3"])
    assert code == 1
    _assert_one_line(lines, "cannot open the SQLite store", str(blocker))


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_postgres_database_missing(pg_server: pg.PostgresServer) -> None:
    url = pg_server.url("no_such_database")
    code, lines = _run(["--bind", "127.0.0.1:0", "--store", url])
    assert code == 1
    _assert_one_line(lines, "PostgreSQL has no such database", "no_such_database", "create it")
