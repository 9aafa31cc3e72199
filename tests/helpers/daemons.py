# SPDX-License-Identifier: MIT
"""A library daemon (`python -m wire_client daemon`) as a real process, for the fault tests."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.support import until
from wire_client import WireHome, daemon_status


class LibDaemon:
    """``python -m wire_client daemon`` for one home (optionally wrapped by a fault-injecting prelude)."""

    def __init__(self, home: WireHome, *, prelude: str = "", log_name: str = "daemon.log") -> None:
        assert home.root is not None
        self.home = home
        self.log = home.root / log_name
        args = ["daemon", "--home", str(home.root), "--no-toasts", "--backoff-initial", "0.1"]
        code = f"{prelude}\nimport sys\nfrom wire_client.__main__ import main\nsys.exit(main({args!r}))\n"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=out, stdin=subprocess.DEVNULL)

    def wait_ready(self, within: float = 20.0) -> LibDaemon:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}): {self.log.read_text()[-3000:]}")
            status = daemon_status(self.home)
            return status is not None and status.pid == self.proc.pid

        until(ready, within, "the daemon pidfile")
        return self

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()
