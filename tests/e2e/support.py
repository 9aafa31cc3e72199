# SPDX-License-Identifier: MIT
"""Helpers shared by the end-to-end and fault suites (and the soak loop).

* :class:`CliDaemon` — ``wire daemon`` (the CLI's long-running form) as a real process for one home,
  logging to a file (never to a pipe nobody drains);
* :func:`inbox_events` / :func:`inbox_ids` — what landed in ``inbox/<peer>.jsonl``, complete lines only;
* :func:`until` / :func:`until_async` — bounded polling waits (the only kind of wait used here).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.helpers.cli import WIRE, Wire, base_env
from wire_client import WireHome, daemon_status

__all__ = ["CliDaemon", "inbox_events", "inbox_ids", "messages", "once_each", "until", "until_async"]


def until(condition: Callable[[], bool], within: float, what: str, interval: float = 0.05) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        time.sleep(interval)


async def until_async(
    condition: Callable[[], bool | Awaitable[bool]], within: float, what: str, interval: float = 0.05
) -> None:
    """:func:`until` for async tests (the condition may be a coroutine function)."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval)


def inbox_events(home_root: Path | None, peer: str) -> list[dict[str, Any]]:
    """Complete, parseable lines of ``inbox/<peer>.jsonl`` (a torn or garbage line is skipped).

    A sealed line that opened is shown as an agent reads it: ``body`` is the opened plaintext.
    """
    assert home_root is not None
    path = WireHome.at(home_root).inbox_path(peer)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    events = []
    for line in text[: text.rfind("\n") + 1].splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            opened = value.get("opened")
            if "enc" in value and isinstance(opened, dict) and "body" in opened:
                value = {**value, "body": opened["body"]}
            events.append(value)
    return events


HANDSHAKE_TYPES = frozenset({"pair_drop", "pair_drop_ack", "wire_close", "heartbeat"})


def messages(home_root: Path | None, peer: str) -> list[dict[str, Any]]:
    """:func:`inbox_events` minus the pairing handshake (drops, acks, rotation notices)."""
    return [e for e in inbox_events(home_root, peer) if e.get("type") not in HANDSHAKE_TYPES]


def inbox_ids(home_root: Path | None, peer: str) -> list[str]:
    return [str(e.get("event_id")) for e in inbox_events(home_root, peer)]


def once_each(home_root: Path | None, peer: str, event_ids: list[Any]) -> bool:
    """True when every id is in the inbox exactly once (and no id appears twice at all)."""
    counts = Counter(inbox_ids(home_root, peer))
    return all(counts[i] == 1 for i in event_ids) and all(n == 1 for n in counts.values())


class CliDaemon:
    """``wire daemon --no-toasts`` for one CLI home, as a separate process."""

    def __init__(self, wire: Wire, log: Path) -> None:
        assert wire.home is not None
        self.wire = wire
        self.home = WireHome.at(wire.home)
        self.log = log
        env = base_env(wire.user_home, {**wire.env, "WIRE_HOME": str(wire.home), "WIRE_NO_AUTO_JSON": "1"})
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(WIRE), "daemon", "--no-toasts"],
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=wire.user_home,
            )

    def wait_ready(self, within: float = 20.0) -> CliDaemon:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"wire daemon exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            status = daemon_status(self.home)
            return status is not None and status.pid == self.proc.pid

        until(ready, within, f"the daemon of {self.wire.home}")
        return self

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.wait(timeout=10)
