# SPDX-License-Identifier: MIT
"""Real ``wire`` CLI subprocesses for the attack tests (one temp ``WIRE_HOME`` per identity)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CLI", "Run"]

WIRE = Path(sys.executable).with_name("wire")
TIMEOUT = 60.0


@dataclass
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:
        return f"wire {' '.join(self.args)} → {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


class CLI:
    """``wire`` for one home; ``env`` adds variables (e.g. ``PYTHONPATH`` for a simulated collision)."""

    def __init__(self, root: Path, **env: str) -> None:
        self.root = root
        self.user_home = root.parent / f"{root.name}-user"
        self.user_home.mkdir(parents=True, exist_ok=True)
        self.env = env

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WIRE_", "NO_COLOR", "TYPER_", "XDG_"))}
        env.update({"HOME": str(self.user_home), "WIRE_HOME": str(self.root), "WIRE_NO_TOASTS": "1"})
        env.update({"LANG": "C.UTF-8", **self.env})
        return env

    def __call__(self, *args: str, timeout: float = TIMEOUT) -> Run:
        done = subprocess.run(
            [str(WIRE), *args],
            capture_output=True,
            text=True,
            env=self.environ(),
            cwd=self.user_home,
            timeout=timeout,
            check=False,
        )
        return Run(args, done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, timeout: float = TIMEOUT) -> Run:
        result = self(*args, timeout=timeout)
        assert result.code == 0, str(result)
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(WIRE), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.environ(),
            cwd=self.user_home,
        )

    # --- reading the home directly (what the attack changed, or did not) ------------------------

    def state(self, *parts: str) -> Path:
        return self.root / "state" / "wire" / Path(*parts)

    def config(self, *parts: str) -> Path:
        return self.root / "config" / "wire" / Path(*parts)

    def read_json(self, path: Path) -> Any:
        return json.loads(path.read_text()) if path.exists() else None
