# SPDX-License-Identifier: MIT
"""A receiving daemon SIGKILLed in the middle of writing an inbox line, and torn JSONL lines in general.

tests/client/test_daemon.py kills sender AND receiver mid-flush and checks exactly-once delivery; it
cannot tell whether the receiver died inside a write. Here the receiving daemon is made to die at a
chosen byte of its first inbox write (a prelude wraps ``os.write`` for ``inbox/*.jsonl`` and sends
itself SIGKILL), so the torn line is certain. Verdicts: the torn line is reported (``wire doctor``
WARN ``inbox``), a restarted daemon recovers (every event exactly once, no unreadable line left), and
the repair is logged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.scenarios import receiver_killed_mid_write
from tests.helpers.cli import Wire
from wire_client import EventLog, WireHome

pytestmark = pytest.mark.timeout(90)


def _doctor_inbox(wire: Wire) -> dict[str, object]:
    result = wire("doctor")
    checks = json.loads(result.out)["checks"]
    return next(c for c in checks if c["check"] == "inbox")


@pytest.mark.parametrize("cut", ["half", "all_but_newline"])
async def test_receiver_killed_mid_write_recovers_and_reports(cut: str, tmp_path: Path) -> None:
    reports: list[dict[str, object]] = []

    def doctor(home: WireHome) -> None:  # between the kill and the restart: the operator is told
        assert home.root is not None
        reports.append(_doctor_inbox(Wire(home.root, tmp_path)))

    await receiver_killed_mid_write(tmp_path, cut, between=doctor)
    assert reports[0]["status"] == "WARN"
    assert "bob (1)" in str(reports[0]["detail"])
    alice_root = tmp_path / "alice"
    assert "dropped an incomplete last line" in (alice_root / "daemon.log").read_text()
    assert _doctor_inbox(Wire(alice_root, tmp_path))["status"] == "PASS"


def test_torn_tail_is_cut_and_garbage_lines_reported(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    path = log.path("bob")
    complete = json.dumps({"event_id": "c", "body": "whole but unterminated"})
    path.write_text('{"event_id":"a"}\nnot json\n' + complete)  # a writer died before its newline
    assert log.unreadable() == {"bob": 2}
    assert [e["event_id"] for e in log.read("bob")] == ["a"]
    # the event "c" arrives again (its cursor never moved): appended once, the fragment is gone
    assert [e["event_id"] for e in log.append("bob", [{"event_id": "a"}, json.loads(complete)])] == ["c"]
    assert [e["event_id"] for e in log.read("bob")] == ["a", "c"]
    assert log.unreadable() == {"bob": 1}  # the garbage line in the middle stays (and stays reported)
