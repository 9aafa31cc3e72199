# SPDX-License-Identifier: MIT
"""The README quick tour, executed literally and in order against a real relay process: each `wire`
line of the block runs as a subprocess in the home of the operator named by the comment above it.
No daemon runs, so the tour also proves delivery does not depend on the operator knowing about one."""

from __future__ import annotations

import queue
import shlex
import threading
from pathlib import Path

from tests.helpers.cli import Result, Wire
from tests.helpers.relay_process import RelayProcess

README = Path(__file__).resolve().parents[2] / "README.md"
README_RELAY = "127.0.0.1:8771"


def tour_steps(text: str) -> list[tuple[str, list[str]]]:
    """``(operator, argv)`` for every ``wire`` line of the block after "Two operators"."""
    start = text.index("Two operators")
    block = text[text.index("```sh", start) + len("```sh") : text.index("```", text.index("```sh", start) + 5)]
    operator = ""
    steps: list[tuple[str, list[str]]] = []
    for raw in block.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            operator = line.lstrip("# ").split()[0]
        elif line.startswith("wire "):
            command = shlex.split(line, comments=True)
            steps.append((operator, command[1:]))
    return steps


def _read_lines(stream: object, into: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        into.put(line)


def test_the_tour_parses_into_steps_for_both_operators() -> None:
    steps = tour_steps(README.read_text(encoding="utf-8"))
    assert [op for op, _ in steps[:2]] == ["bob", "alice"], "bob must claim his name before alice dials it"
    assert {op for op, _ in steps} == {"alice", "bob"}
    assert ["monitor"] in [argv for _, argv in steps]


def test_readme_quick_tour_runs_literally_in_order(relay: RelayProcess, tmp_path: Path) -> None:
    host = relay.url.removeprefix("http://")
    user = tmp_path / "user"
    user.mkdir()
    operators = {name: Wire(tmp_path / name, user) for name in ("alice", "bob")}
    results: list[tuple[str, Result]] = []
    monitor_lines: list[str] = []
    for operator, written in tour_steps(README.read_text(encoding="utf-8")):
        argv = [arg.replace(f"http://{README_RELAY}", relay.url).replace(README_RELAY, host) for arg in written]
        wire = operators[operator]
        if argv == ["monitor"]:
            monitor_lines = _watch_monitor(wire, operators["bob"])
            continue
        result = wire(*argv, human=True)
        assert result.code == 0, f"{operator}: {result}"
        results.append((operator, result))
    by_verb = {(op, r.args[0]): r for op, r in results}
    assert "wants to pair with you" in by_verb["bob", "pending"].out
    assert "(alice)" in by_verb["bob", "pending"].out
    assert "delivered to" in by_verb["bob", "send"].out
    alice_send = by_verb["alice", "send"]
    assert "delivered to" in alice_send.out, str(alice_send)
    assert "fetched bob's pair acceptance" in alice_send.err
    assert "training done" in by_verb["alice", "tail"].out
    assert any("a line for the watcher" in line for line in monitor_lines), monitor_lines
    for name, wire in operators.items():
        status = wire("status", "--json").json()
        assert status["daemon"]["running"] is False, name
        assert status["outbox"]["peers_with_backlog"] == [], name
        assert {p["tier"] for p in status["peers"]} == {"VERIFIED"}, name


def _watch_monitor(watcher: Wire, sender: Wire) -> list[str]:
    """Run ``wire monitor`` as written; a message sent meanwhile must appear as a line (bounded wait)."""
    process = watcher.popen("monitor", human=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        sender.ok("send", "alice", "a line for the watcher")
        while not any("a line for the watcher" in line for line in seen):
            seen.append(lines.get(timeout=20))
    except queue.Empty:
        pass
    finally:
        process.terminate()
        process.wait(timeout=20)
        reader.join(timeout=5)
        assert process.stderr is not None
        process.stderr.close()
        assert process.stdout is not None
        process.stdout.close()
    return seen


def test_dialling_a_name_nobody_claimed_says_who_must_do_what(relay: RelayProcess, wire: Wire) -> None:
    wire.ok("init", "dora", "--relay", relay.url)
    host = relay.url.removeprefix("http://")
    result = wire("dial", f"nobody-yet@{host}", human=True)
    assert result.code != 0, str(result)
    assert "nobody-yet has not claimed that name on this relay" in result.err
    assert f"wire init nobody-yet --relay {relay.url}" in result.err
