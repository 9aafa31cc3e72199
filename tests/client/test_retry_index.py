# SPDX-License-Identifier: MIT
"""The exact-retry index (PROTOCOL §6.6) as an append-only log: same key inside the window is a
duplicate, the window ends, it survives a process restart (a real second process), a torn last line
is skipped and never fatal, it stays bounded, and a claim appends instead of rewriting the file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from wire_client import WireHome
from wire_client._messaging import retry
from wire_client._messaging.retry import COMPACT_LINES, MAX_ENTRIES, RetryIndex, retry_key


def _key(n: int) -> str:
    return retry_key("alice", "claim", None, f"body {n}", None)


def _lines(index: RetryIndex) -> list[str]:
    return index.path.read_text().splitlines()


def test_same_key_inside_the_window_is_the_earlier_send(tmp_path: Path) -> None:
    index = RetryIndex(WireHome.at(tmp_path))
    assert index.claim(_key(1), "e1") is None
    earlier = index.claim(_key(1), "e2")
    assert earlier is not None
    assert earlier.event_id == "e1"
    assert 0 <= earlier.age_seconds < 5
    assert index.claim(_key(2), "e3") is None  # another body is another message


def test_the_window_ends_and_a_new_send_takes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000_000.0]
    monkeypatch.setattr(retry.time, "time", lambda: clock[0])
    index = RetryIndex(WireHome.at(tmp_path))
    assert index.claim(_key(1), "e1") is None
    clock[0] += retry.RETRY_WINDOW - 1
    earlier = index.claim(_key(1), "e2")
    assert earlier is not None
    assert earlier.event_id == "e1"
    clock[0] += 2
    assert index.claim(_key(1), "e3") is None
    clock[0] += 1
    assert RetryIndex(WireHome.at(tmp_path)).claim(_key(1), "e4") == retry.EarlierSend("e3", 1.0)


def test_release_forgets_only_the_event_that_claimed_the_key(tmp_path: Path) -> None:
    home = WireHome.at(tmp_path)
    index = RetryIndex(home)
    assert index.claim(_key(1), "e1") is None
    index.release(_key(1), "someone-else")
    assert RetryIndex(home).claim(_key(1), "e2") is not None
    index.release(_key(1), "e1")
    assert RetryIndex(home).claim(_key(1), "e3") is None  # a fresh reader replays the release too


def test_an_index_survives_a_process_restart(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from wire_client import WireHome
        from wire_client._messaging.retry import RetryIndex, retry_key
        index = RetryIndex(WireHome.at(Path({str(tmp_path)!r})))
        assert index.claim(retry_key("alice", "claim", None, "body 1", None), "from-the-other-process") is None
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    earlier = RetryIndex(WireHome.at(tmp_path)).claim(_key(1), "e2")
    assert earlier is not None
    assert earlier.event_id == "from-the-other-process"


def test_a_second_process_sees_claims_made_after_it_loaded(tmp_path: Path) -> None:
    """Two live indexes of one home (two processes): each catches up with the other's appends."""
    home = WireHome.at(tmp_path)
    first, second = RetryIndex(home), RetryIndex(home)
    assert first.claim(_key(1), "e1") is None
    assert second.claim(_key(2), "e2") is None
    earlier_first, earlier_second = first.claim(_key(2), "x"), second.claim(_key(1), "x")
    assert earlier_first is not None
    assert earlier_first.event_id == "e2"
    assert earlier_second is not None
    assert earlier_second.event_id == "e1"


def test_a_torn_last_line_is_skipped_and_the_next_claim_starts_a_clean_line(tmp_path: Path) -> None:
    home = WireHome.at(tmp_path)
    index = RetryIndex(home)
    assert index.claim(_key(1), "e1") is None
    with index.path.open("ab") as handle:  # a writer killed mid-line
        handle.write(b'{"key":"' + _key(9).encode()[:20])
    fresh = RetryIndex(home)
    assert fresh.claim(_key(2), "e2") is None  # not fatal
    assert fresh.claim(_key(1), "x") is not None
    assert fresh.claim(_key(9), "e9") is None  # the torn claim never happened
    reader = RetryIndex(home)
    assert reader.claim(_key(2), "x") is not None
    assert reader.claim(_key(9), "x") is not None
    with pytest.raises(json.JSONDecodeError):
        json.loads(_lines(index)[1])  # the fragment stays as one unreadable line of its own


def test_a_claim_appends_instead_of_rewriting(tmp_path: Path) -> None:
    index = RetryIndex(WireHome.at(tmp_path))
    assert index.claim(_key(0), "e0") is None
    inode, size = index.path.stat().st_ino, index.path.stat().st_size
    for n in range(1, 50):
        assert index.claim(_key(n), f"e{n}") is None
    assert index.path.stat().st_ino == inode  # the same file, grown, never replaced
    assert index.path.stat().st_size > size
    assert len(_lines(index)) == 50


def test_the_index_stays_bounded(tmp_path: Path) -> None:
    home = WireHome.at(tmp_path)
    index = RetryIndex(home)
    total = COMPACT_LINES + MAX_ENTRIES + 10
    for n in range(total):
        assert index.claim(_key(n), f"e{n}") is None
        assert len(_lines(index)) <= COMPACT_LINES
    reader = RetryIndex(home)
    assert reader.claim(_key(total - 1), "x") is not None  # the newest keys are kept
    assert reader.claim(_key(total - MAX_ENTRIES), "x") is not None
    assert reader.claim(_key(total - MAX_ENTRIES - 1), "new") is None  # older ones went first
    assert index.claim(_key(total - 2), "x") is not None  # the first index follows the compaction


def test_the_former_whole_file_index_is_carried_over(tmp_path: Path) -> None:
    home = WireHome.at(tmp_path)
    legacy = home.sent_dir / "retry-index.json"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    now = retry.time.time()
    legacy.write_text(
        json.dumps({_key(1): {"event_id": "old", "at": now - 10}, _key(2): {"event_id": "stale", "at": now - 10_000}})
    )
    index = RetryIndex(home)
    earlier = index.claim(_key(1), "new")
    assert earlier is not None
    assert earlier.event_id == "old"
    assert index.claim(_key(2), "new") is None  # outside the window: gone
    assert not legacy.exists()


def test_concurrent_processes_claim_each_key_once(tmp_path: Path) -> None:
    """Four processes race through the same 1,000 keys (under the live bound) from one start: each won once."""
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        from wire_client import WireHome
        from wire_client._messaging.retry import RetryIndex, retry_key
        index = RetryIndex(WireHome.at(Path({str(tmp_path)!r})))
        keys = [retry_key("alice", "claim", None, f"body {{n}}", None) for n in range(1000)]
        index.claim(retry_key("warm", "claim", None, sys.argv[1], None), "warm")
        go = Path({str(tmp_path / "go")!r})
        while not go.exists():
            time.sleep(0.001)
        won = [n for n, key in enumerate(keys) if index.claim(key, f"p{{sys.argv[1]}}-{{n}}") is None]
        print(json.dumps(won))
        """
    )
    racers = [
        subprocess.Popen([sys.executable, "-c", script, str(p)], stdout=subprocess.PIPE, text=True) for p in range(4)
    ]
    ready = RetryIndex(WireHome.at(tmp_path)).path
    wins: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not (ready.exists() and len(ready.read_text().splitlines()) >= 4):  # all four warmed up
            assert time.monotonic() < deadline, "the racers did not start"
            time.sleep(0.01)
    finally:
        (tmp_path / "go").touch()  # never leave a racer waiting
        outputs = [racer.communicate(timeout=60)[0] for racer in racers]
    for racer, out in zip(racers, outputs, strict=True):
        assert racer.returncode == 0
        wins.extend(json.loads(out))
    assert sorted(wins) == list(range(1000))
    assert len(_lines(RetryIndex(WireHome.at(tmp_path)))) == 1004  # one claim line per key, no more


def test_threads_sharing_one_index_claim_each_key_once(tmp_path: Path) -> None:
    index = RetryIndex(WireHome.at(tmp_path))
    keys = [_key(n) for n in range(500)]
    wins: list[list[int]] = [[] for _ in range(4)]

    def race(me: int) -> None:
        wins[me].extend(n for n, key in enumerate(keys) if index.claim(key, f"t{me}-{n}") is None)

    threads = [threading.Thread(target=race, args=(me,)) for me in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(n for won in wins for n in won) == list(range(500))
