# SPDX-License-Identifier: MIT
"""Run a real ``wire-relay`` as a subprocess for tests (stable API: other packages' tests use it).

Usage::

    from tests.helpers.relay_process import RelayProcess

    with RelayProcess(tmp_path) as relay:       # starts `python -m wire_relay --bind 127.0.0.1:0 ...`
        relay.url                               # "http://127.0.0.1:PORT"
        relay.kill()                            # SIGKILL, waits for the exit
        relay.restart()                         # same store, same port
        relay.terminate()                       # SIGTERM (graceful); returns the exit code

    # pytest fixture style
    @pytest.fixture
    def relay(tmp_path):
        with RelayProcess(tmp_path) as r:
            yield r

Constructor arguments (all keyword except ``workdir``):

* ``workdir``: a directory for the store file and the captured stderr log;
* ``store_url``: default ``sqlite:///<workdir>/relay.sqlite3``; pass a ``postgresql://`` URL to use PG;
* ``extra_args``: more command-line arguments (e.g. ``["--local-only"]``, ``["--sse-keepalive", "0.2"]``);
* ``rate_limits``: default False → ``--no-rate-limit`` is passed so test suites that allocate many
  slots from 127.0.0.1 are never throttled; True keeps the production limits;
* ``uds``: a socket path → ``--uds PATH`` instead of TCP (``url`` is then ``unix:///PATH``);
* ``start_timeout``: bound on waiting for the listening line (default 15 s).

Attributes: ``url``, ``port`` (None for UDS), ``pid``, ``returncode``, ``stderr_path`` (the log),
``store_url``. ``start()`` / ``stop()`` are the explicit forms of the context manager. Every wait is
bounded; failures raise :class:`RelayProcessError` with the tail of the relay's stderr.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["RelayProcess", "RelayProcessError"]

_LISTENING = re.compile(r"^wire-relay listening on (?P<where>\S+) store=(?P<store>\S+) mode=(?P<mode>\S+)$")


class RelayProcessError(RuntimeError):
    """The relay did not start or stop as expected (message includes its stderr tail)."""


class RelayProcess:
    """A ``wire-relay`` subprocess bound to a loopback port (or a Unix socket)."""

    def __init__(
        self,
        workdir: Path | str,
        *,
        store_url: str | None = None,
        extra_args: list[str] | None = None,
        rate_limits: bool = False,
        uds: Path | str | None = None,
        start_timeout: float = 15.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.store_url = store_url or f"sqlite:///{self.workdir.resolve()}/relay.sqlite3"
        self.extra_args = list(extra_args or [])
        self.rate_limits = rate_limits
        self.uds = str(uds) if uds is not None else None
        self.start_timeout = start_timeout
        self.env = env
        self.stderr_path = self.workdir / "relay.stderr.log"
        self.url = ""
        self.port: int | None = None
        self.mode = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "wire_relay", "--store", self.store_url]
        if self.uds is not None:
            args += ["--uds", self.uds]
        else:
            args += ["--bind", f"127.0.0.1:{self.port or 0}"]
        if not self.rate_limits:
            args.append("--no-rate-limit")
        return args + self.extra_args

    def start(self) -> RelayProcess:
        """Start the relay and wait (bounded) for its listening line. Restarts reuse the port."""
        if self.running:
            raise RelayProcessError("relay is already running")
        self._stderr = self.stderr_path.open("ab")
        env = {**os.environ, **(self.env or {})}
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL, env=env
        )
        line = self._read_line(self._proc, self.start_timeout)
        match = _LISTENING.match(line)
        if match is None:
            self._force_stop()
            raise RelayProcessError(f"relay did not start (got {line!r}); stderr:\n{self.stderr_tail()}")
        self.url = match.group("where")
        self.mode = match.group("mode")
        if self.url.startswith("http://"):
            self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def _read_line(self, proc: subprocess.Popen[bytes], timeout: float) -> str:
        assert proc.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = proc.stdout

        def reader() -> None:
            lines.put(stdout.readline())
            for _rest in iter(stdout.readline, b""):  # keep draining so the relay never blocks on stdout
                pass

        threading.Thread(target=reader, name="relay-stdout", daemon=True).start()
        try:
            return lines.get(timeout=timeout).decode(errors="replace").strip()
        except queue.Empty:
            return ""

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc is not None else None

    def kill(self, timeout: float = 10.0) -> int:
        """SIGKILL (no chance to clean up) and wait for the exit; returns the exit code."""
        return self._signal(signal.SIGKILL, timeout)

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM (graceful shutdown) and wait for the exit; returns the exit code (0 = clean)."""
        return self._signal(signal.SIGTERM, timeout)

    def restart(self, *, kill: bool = False) -> RelayProcess:
        """Stop (SIGTERM, or SIGKILL with ``kill=True``) and start again on the same store and port."""
        if self.running:
            self.kill() if kill else self.terminate()
        return self.start()

    def stop(self) -> None:
        """Stop if running (SIGTERM, then SIGKILL if it does not exit in time). Idempotent."""
        if self.running:
            try:
                self.terminate()
            except RelayProcessError:
                self._force_stop()
        self._close_files()

    def _signal(self, sig: signal.Signals, timeout: float) -> int:
        proc = self._proc
        if proc is None:
            raise RelayProcessError("relay was never started")
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                self._force_stop()
                raise RelayProcessError(f"relay did not exit within {timeout}s after {sig.name}") from exc
        self._close_files()
        return proc.returncode

    def _force_stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._close_files()

    def _close_files(self) -> None:
        if self._proc is not None and self._proc.stdout is not None and self._proc.poll() is not None:
            self._proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stderr_tail(self, lines: int = 40) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> RelayProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
