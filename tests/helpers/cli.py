# SPDX-License-Identifier: MIT
"""Helpers for tests that run the real `wire` CLI as subprocesses: the Wire runner, its Result, the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WIRE = Path(sys.executable).with_name("wire")


TIMEOUT = 60


@dataclass
class Result:
    args: list[str]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def jsonl(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def __str__(self) -> str:
        return f"wire {' '.join(self.args)} → {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


def base_env(home_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIRE_", "NO_COLOR", "TYPER_"))}
    env.update({"HOME": str(home_dir), "WIRE_NO_TOASTS": "1", "LANG": "C.UTF-8", "TERM": "xterm-256color"})
    env.pop("XDG_CONFIG_HOME", None)
    env.pop("XDG_STATE_HOME", None)
    env.update(extra or {})
    return env


class Wire:
    """Runs ``wire`` for one identity (``WIRE_HOME``) under a temp ``HOME``."""

    def __init__(self, home: Path | None, user_home: Path, **env: str) -> None:
        self.home = home
        self.user_home = user_home
        self.env = dict(env)

    def __call__(
        self,
        *args: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        human: bool = False,
        cwd: Path | None = None,
        timeout: float = TIMEOUT,
    ) -> Result:
        extra = dict(self.env)
        if self.home is not None:
            extra["WIRE_HOME"] = str(self.home)
        if human:
            extra["WIRE_NO_AUTO_JSON"] = "1"
        extra.update(env or {})
        done = subprocess.run(
            [str(WIRE), *args],
            input=input,
            capture_output=True,
            text=True,
            env=base_env(self.user_home, extra),
            cwd=cwd or self.user_home,
            timeout=timeout,
            check=False,
        )
        return Result(list(args), done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.code == 0, str(result)
        return result

    def popen(self, *args: str, human: bool = False) -> subprocess.Popen[str]:
        extra = dict(self.env)
        if self.home is not None:
            extra["WIRE_HOME"] = str(self.home)
        if human:
            extra["WIRE_NO_AUTO_JSON"] = "1"
        return subprocess.Popen(
            [str(WIRE), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=base_env(self.user_home, extra),
            cwd=self.user_home,
        )


def parallel(*calls: Any) -> list[Result]:
    """Run several independent ``wire`` invocations at once (subprocess start-up dominates)."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))
