# SPDX-License-Identifier: MIT
"""The daemon's singleton lock and pidfile: who serves this home, and how to claim the job.

* ``daemon.lock`` — an exclusive ``filelock`` held for the serving process's lifetime (the daemon,
  or an embedder's in-process receiver); a second taker gets :class:`DaemonAlreadyRunningError`;
* ``daemon.pid`` — JSON ``{schema, pid, started_at, did, relay_url, version}`` written by the holder
  and removed on release. :func:`daemon_status` also reads the legacy bare-integer form.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from wire_client.__about__ import __version__
from wire_client._errors import DaemonAlreadyRunningError, WireClientError
from wire_client._home.files import FILE_MODE, atomic_write_json, make_private_dirs, read_json
from wire_client._home.paths import WireHome
from wire_protocol import JSON, JSONObject, format_timestamp

__all__ = ["PIDFILE_SCHEMA", "DaemonLock", "DaemonPid", "daemon_status"]

PIDFILE_SCHEMA = "wire-daemon-pid-v1"


@dataclass(frozen=True, slots=True)
class DaemonPid:
    """The pidfile of a running daemon (``running`` is False for a stale file)."""

    pid: int
    started_at: str | None
    did: str | None
    relay_url: str | None
    version: str | None
    running: bool


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def daemon_status(home: WireHome) -> DaemonPid | None:
    """Read ``daemon.pid`` (JSON, or the legacy bare integer); ``None`` when there is none."""
    try:
        text = home.daemon_pid.read_text()
    except FileNotFoundError:
        return None
    data: JSON
    if text.strip().isdigit():
        data = {"pid": int(text.strip())}
    else:
        try:
            data = read_json(home.daemon_pid)
        except WireClientError:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    pid = int(str(data["pid"]))

    fields: JSONObject = data

    def text_of(name: str) -> str | None:
        value = fields.get(name)
        return value if isinstance(value, str) else None

    return DaemonPid(
        pid=pid,
        started_at=text_of("started_at"),
        did=text_of("did"),
        relay_url=text_of("relay_url"),
        version=text_of("version"),
        running=_pid_alive(pid),
    )


class DaemonLock:
    """The right to serve one home: the exclusive ``daemon.lock`` plus the pidfile that names us."""

    def __init__(self, home: WireHome) -> None:
        import filelock  # here, not at module level: reading a home needs no lock (the CLI's local verbs)

        self.home = home
        self._lock = filelock.FileLock(home.daemon_lock, mode=FILE_MODE, preserve_lock_file=True)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self, *, did: str, relay_url: str | None) -> None:
        """Take the lock and write the pidfile, or raise :class:`DaemonAlreadyRunningError`."""
        import filelock

        make_private_dirs(self.home.state_dir)
        try:
            self._lock.acquire(blocking=False)
        except filelock.Timeout:
            status = daemon_status(self.home)
            pid = status.pid if status is not None else None
            raise DaemonAlreadyRunningError(
                f"a wire daemon is already running for {self.home.state_dir} (pid {pid or 'unknown'}); "
                "stop it first (`kill <pid>`) — two daemons would race the same cursors",
                pid=pid,
            ) from None
        record: JSONObject = {
            "schema": PIDFILE_SCHEMA,
            "pid": os.getpid(),
            "started_at": format_timestamp(datetime.now(UTC)),
            "did": did,
            "relay_url": relay_url,
            "version": __version__,
        }
        atomic_write_json(self.home.daemon_pid, record)

    def release(self) -> None:
        """Remove our pidfile (never another process's) and drop the lock."""
        status = daemon_status(self.home)
        if status is not None and status.pid == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.home.daemon_pid.unlink()
        if self._lock.is_locked:
            self._lock.release()
