# SPDX-License-Identifier: MIT
"""InboxReader: the one incremental tail of ``<peer>.jsonl`` mailboxes (CLI, MCP and agent.events)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from wire_client import InboxReader


def _line(event_id: str) -> bytes:
    return (json.dumps({"event_id": event_id, "type": "claim"}) + "\n").encode()


def test_only_complete_lines_and_resume_from_saved_offsets(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bob.jsonl").write_bytes(_line("old") + b'{"event_id": "tor')
    reader = InboxReader(inbox)  # from the end: history is not news
    assert reader.poll() == []
    with (inbox / "bob.jsonl").open("ab") as handle:
        handle.write(b'n"}\n' + _line("new"))
    assert [e["event_id"] for _, e in reader.poll()] == ["torn", "new"]
    (inbox / "carol.jsonl").write_bytes(_line("c1") + b'{"partial')
    assert reader.poll() == [("carol", {"event_id": "c1", "type": "claim"})]
    saved = reader.offsets
    with (inbox / "carol.jsonl").open("ab") as handle:
        handle.write(b'": 1}\n')
    resumed = InboxReader(inbox, offsets=saved)
    assert resumed.poll() == [("carol", {"partial": 1})]


def test_rewritten_file_is_read_again_and_junk_is_skipped(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "bob.jsonl"
    path.write_bytes(_line("a") + _line("b"))
    reader = InboxReader(inbox, from_end=False)
    assert [e["event_id"] for _, e in reader.drain()] == ["a", "b"]
    replacement = inbox / ".bob.tmp"
    replacement.write_bytes(b"not json\n" + _line("c"))
    os.replace(replacement, path)  # shorter, another inode: a rewrite
    assert [e["event_id"] for _, e in reader.poll()] == ["c"]
    (inbox / ".hidden.jsonl").write_bytes(_line("x"))
    (inbox / "notes.txt").write_bytes(_line("y"))
    assert reader.poll() == []


def test_a_line_longer_than_one_read_is_skipped_not_stuck(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    huge = b'{"event_id": "' + b"x" * 500 + b'"}\n'
    (inbox / "bob.jsonl").write_bytes(_line("a") + huge + _line("b"))
    reader = InboxReader(inbox, from_end=False, max_bytes=64)
    events = [e["event_id"] for _, e in reader.drain()]
    assert events == ["a", "b"]
    assert reader.offsets == {"bob": (inbox / "bob.jsonl").stat().st_size}
