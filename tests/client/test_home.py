# SPDX-License-Identifier: MIT
"""The wire home: locations, permissions, atomic writes, locks, torn JSONL lines, concurrent writers."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import filelock
import pytest

from tests.helpers.agents import make_home
from wire_client import EventLog, HomeError, LockTimeoutError, TrustStore, WireHome
from wire_client._home.files import append_lines, atomic_write_json, read_json, read_jsonl, update_json


def test_wire_home_override_layout(tmp_path: Path) -> None:
    home = WireHome.from_env({"WIRE_HOME": str(tmp_path)})
    assert home.config_dir == tmp_path / "config" / "wire"
    assert home.state_dir == tmp_path / "state" / "wire"
    assert home.sessions_root == tmp_path / "sessions"
    assert home.inbox_path("bob") == tmp_path / "state" / "wire" / "inbox" / "bob.jsonl"
    assert home.outbox_path("bob") == tmp_path / "state" / "wire" / "outbox" / "bob.jsonl"
    assert home.pending_inbound_path("bob").name == "bob.json"
    session_home = WireHome.at(tmp_path / "sessions" / "proj")
    assert session_home.sessions_root == tmp_path / "sessions"


def test_platform_defaults_without_override() -> None:
    home = WireHome.from_env({})
    assert home.root is None
    assert home.config_dir.name == "wire"
    assert home.sessions_root == home.state_dir / "sessions"


@pytest.mark.parametrize("bad", ["../etc", "a/b", ".hidden", "", "x" * 200, "bob\n"])
def test_peer_file_names_cannot_escape(tmp_path: Path, bad: str) -> None:
    with pytest.raises(HomeError):
        WireHome.at(tmp_path).inbox_path(bad)


def test_private_key_permissions(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path, "alice")
    assert stat.S_IMODE(os.stat(home.private_key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(home.config_dir).st_mode) == 0o700
    assert len(home.private_key.read_bytes()) == 32
    assert home.is_initialized


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    for value in range(5):
        atomic_write_json(target, {"value": value}, mode=0o600)
    assert read_json(target) == {"value": 4}
    assert [p.name for p in tmp_path.iterdir() if p.name != ".x.json.lock"] == ["x.json"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_corrupt_json_is_an_error_not_empty(tmp_path: Path) -> None:
    target = tmp_path / "trust.json"
    target.write_text("{not json")
    with pytest.raises(HomeError, match="not valid JSON"):
        read_json(target, {})


def test_lock_timeout_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "relay.json"
    holder = filelock.FileLock(tmp_path / ".relay.json.lock")
    with holder, pytest.raises(LockTimeoutError, match=r"could not lock .*relay\.json"):
        update_json(target, lambda current: (current, None), timeout=0.1)


def test_torn_last_line_is_tolerated_and_reported(tmp_path: Path) -> None:
    log = tmp_path / "inbox.jsonl"
    log.write_bytes(b'{"event_id":"a"}\nnot json\n{"event_id":"b"}\n{"event_id":"c"')
    result = read_jsonl(log)
    assert [r for _, r in result.records] == [{"event_id": "a"}, {"event_id": "b"}]
    assert result.torn_tail
    assert len(result.bad_lines) == 1
    # the next append starts on a fresh line; the torn fragment stays one bad line
    append_lines(log, [b'{"event_id":"d"}\n'])
    again = read_jsonl(log)
    assert [r for _, r in again.records][-1] == {"event_id": "d"}
    assert not again.torn_tail


def test_event_log_dedupes_and_sees_other_writers(tmp_path: Path) -> None:
    first, second = EventLog(tmp_path), EventLog(tmp_path)
    assert len(first.append("bob", [{"event_id": "1"}, {"event_id": "2"}, {"event_id": "1"}])) == 2
    assert second.append("bob", [{"event_id": "2"}, {"event_id": "3"}]) == [{"event_id": "3"}]
    assert first.append("bob", [{"event_id": "3"}]) == []  # incremental index saw the other writer
    assert [e["event_id"] for e in first.read("bob")] == ["1", "2", "3"]


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from wire_protocol import SigningKey, build_agent_card
    from wire_client import EventLog, TrustStore, WireHome
    from wire_client._home.mailbox import OutboxStore

    home = WireHome.at(Path(sys.argv[1]))
    tag = sys.argv[2]
    trust, inbox, outbox = TrustStore(home), EventLog(home.inbox_dir), OutboxStore(home)
    for i in range(40):
        trust.pin_card(build_agent_card(SigningKey.generate(), f"{tag}-{i}"))
        inbox.append("peer", [{"event_id": f"{tag}-{i}", "body": "x" * 3000}])
        outbox.enqueue("peer", {"type": "claim", "body": f"{tag}-{i}" + "y" * 5000})
    """
)


def test_two_processes_writing_one_home(tmp_path: Path) -> None:
    home, _ = make_home(tmp_path, "alice")
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(home.root), tag]) for tag in ("p", "q")]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    agents = TrustStore(home).agents()
    assert {f"{t}-{i}" for t in "pq" for i in range(40)} <= set(agents)  # no lost updates
    inbox = read_jsonl(home.inbox_path("peer"))
    assert not inbox.torn_tail
    assert not inbox.bad_lines
    assert len(inbox.records) == 80
    outbox = read_jsonl(home.outbox_path("peer"))
    assert not outbox.bad_lines
    assert len(outbox.records) == 80
    json.loads(home.trust.read_text())  # still valid JSON
