# SPDX-License-Identifier: AGPL-3.0-or-later
"""``wire-relay --workers N``: N relay processes on one TCP port (``SO_REUSEPORT``), one supervisor.

The kernel spreads new connections over the workers' listening sockets, so the relay uses every
core. Each worker is an ordinary relay process (``python -m wire_relay ... --workers 1``) on the same
PostgreSQL database, which already makes any number of relay processes behave as one relay:
uniqueness (dedupe) is enforced by the database, an event is acknowledged only after its
transaction committed, SSE wake-ups travel by LISTEN/NOTIFY, pair slots and rate buckets are rows.
A SQLite store is refused: its pair slots and SSE wake-ups live inside one process.

The supervisor resolves the port first (``--bind host:0`` picks one free port for all workers) by
binding a ``SO_REUSEPORT`` socket that never listens, starts the first worker alone (it creates or
migrates the schema), then the rest, and prints the usual single ``listening`` line once every
worker listens. SIGTERM/SIGINT are passed on to every worker; when one worker exits on its own the
others are stopped and the supervisor exits non-zero (a service manager restarts the whole set).
Workers stop by themselves if the supervisor disappears (they watch their parent process id).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from types import FrameType

from wire_relay.startup import listen_error

__all__ = ["WORKERS_MAX", "run_workers", "workers_error"]

WORKERS_MAX = 64
START_TIMEOUT_SECONDS = 60.0


def workers_error(workers: int, store_url: str, uds: str | None) -> str | None:
    """Why ``--workers`` cannot be used as given, or ``None``."""
    if not 1 <= workers <= WORKERS_MAX:
        return f"--workers must be between 1 and {WORKERS_MAX} (got {workers})"
    if workers == 1:
        return None
    if uds:
        return "--workers needs a TCP --bind: several processes cannot share one Unix socket path"
    if not store_url.startswith(("postgresql:", "postgres:")):
        return (
            "--workers needs a PostgreSQL store (--store postgresql://...): a SQLite store serves one relay "
            "process (its pair slots and stream wake-ups live in that process); run one worker on SQLite"
        )
    return None


def _reserve_port(host: str, port: int) -> socket.socket:
    """A bound, never-listening ``SO_REUSEPORT`` socket: fixes the port every worker then binds."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _read_listening_line(proc: subprocess.Popen[bytes]) -> str:
    """The worker's first stdout line, or ``""`` if it exits or stays silent for too long."""
    assert proc.stdout is not None  # noqa: S101 - started with stdout=PIPE
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_SECONDS)
    return lines[0].decode(errors="replace").rstrip("\n") if lines else ""


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)


def run_workers(argv: list[str], workers: int, host: str, port: int) -> int:
    """Start ``workers`` relay processes with ``argv`` on ``host:port``; supervise them until stopped."""
    try:
        reserved = _reserve_port(host, port)
    except OSError as exc:
        sys.stderr.write(f"wire-relay: {listen_error(exc, f'{host}:{port}')}\n")
        return 1
    bound_port = reserved.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    command = [
        sys.executable,
        "-m",
        "wire_relay",
        *argv,
        "--bind",
        f"{shown}:{bound_port}",
        "--workers",
        "1",
        "--reuse-port",
        "--parent-pid",
        str(os.getpid()),
    ]
    procs: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        _stop(procs)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        first_line = ""
        for index in range(workers):
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)  # noqa: S603
            procs.append(proc)
            line = _read_listening_line(proc)
            if not line.startswith("wire-relay listening on "):
                sys.stderr.write(f"wire-relay: worker {index + 1} of {workers} did not start; stopping the others\n")
                _stop(procs)
                _reap(procs)
                return 1
            first_line = first_line or line
            if stopping:
                break
        reserved.close()
        sys.stdout.write(first_line + "\n")
        sys.stdout.flush()
        return _supervise(procs, lambda: stopping)
    finally:
        reserved.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _supervise(procs: list[subprocess.Popen[bytes]], stopping: Callable[[], bool]) -> int:
    """Wait for every worker; the first one to exit unasked stops the rest. 0 only for a clean stop."""
    running = {proc.pid: proc for proc in procs}
    failed = False
    while running:
        pid, status = os.wait()
        proc = running.pop(pid, None)
        if proc is None:
            continue
        proc.returncode = os.waitstatus_to_exitcode(status)
        if not stopping() and not failed:
            sys.stderr.write(f"wire-relay: worker pid {pid} exited ({proc.returncode}); stopping the others\n")
            failed = True
            _stop(list(running.values()))
        elif proc.returncode != 0:
            failed = True
    return 1 if failed else 0


def _reap(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
