# SPDX-License-Identifier: MIT
"""Reading ``<peer>.jsonl`` mailboxes incrementally: the one tail behind ``agent.events()``, the CLI's
``monitor`` / ``notify`` / ``tail`` and the MCP server's watcher.

Only complete lines are consumed: a partial trailing line (a writer mid-append) waits for the
next poll. A file that shrank or was replaced (another inode) is read again from the start. Each
poll reads at most ``max_bytes`` per file, so one huge append is taken in several bites. Offsets
are byte offsets: :attr:`InboxReader.offsets` can be saved and handed back to resume.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wire_protocol import CanonicalizationError, JSONObject, loads

__all__ = ["DEFAULT_MAX_BYTES", "InboxReader"]

#: the most one poll reads from one file
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
#: how far back from the end a baseline looks for the last complete line
_BASELINE_WINDOW = 65536


@dataclass(slots=True)
class _Position:
    inode: int | None
    offset: int
    oversized: bool = False  # inside a line longer than max_bytes: skipped up to its newline


def _peer_files(directory: Path) -> dict[str, os.DirEntry[str]]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return {}
    return {
        e.name[: -len(".jsonl")]: e
        for e in entries
        if e.name.endswith(".jsonl") and not e.name.startswith(".") and e.is_file(follow_symlinks=False)
    }


def _complete_size(path: str, size: int) -> int:
    """The offset just after the last complete line of a file of ``size`` bytes."""
    if size == 0:
        return 0
    back = min(size, _BASELINE_WINDOW)
    with open(path, "rb") as handle:
        handle.seek(size - back)
        tail = handle.read(back)
    if tail.endswith(b"\n"):
        return size
    cut = tail.rfind(b"\n")
    return size - back + cut + 1 if cut >= 0 else (0 if back == size else size)


def _parse(chunk: bytes) -> list[JSONObject]:
    records: list[JSONObject] = []
    for raw in chunk.split(b"\n"):
        if not raw.strip():
            continue
        try:
            record = loads(raw)
        except CanonicalizationError:
            continue  # a line that is not JSON is skipped by every reader
        if isinstance(record, dict):
            records.append(record)
    return records


class InboxReader:
    """Complete ``(peer, event)`` lines appended to a directory of JSONL files since the last poll.

    ``offsets`` resumes from saved positions (files not listed start at their beginning); without
    them the reader starts at the end of every existing file when ``from_end`` (new lines only) or
    at the beginning (everything).
    """

    def __init__(
        self,
        directory: Path,
        *,
        offsets: Mapping[str, int] | None = None,
        from_end: bool = True,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._positions: dict[str, _Position] = {}
        if offsets is not None:
            self._positions = {peer: _Position(None, offset) for peer, offset in offsets.items() if offset >= 0}
        elif from_end:
            for peer, entry in _peer_files(directory).items():
                try:
                    stat = entry.stat()
                    self._positions[peer] = _Position(stat.st_ino, _complete_size(entry.path, stat.st_size))
                except OSError:
                    continue

    @property
    def offsets(self) -> dict[str, int]:
        """Per peer, the byte offset read so far (save it to resume later)."""
        return {peer: position.offset for peer, position in sorted(self._positions.items())}

    def poll(self, peer: str | None = None) -> list[tuple[str, JSONObject]]:
        """New complete lines of every file (or of ``peer``'s), at most ``max_bytes`` per file."""
        found: list[tuple[str, JSONObject]] = []
        for name, entry in sorted(_peer_files(self.directory).items()):
            if peer is None or name == peer:
                found.extend((name, record) for record in self._read(name, entry))
        return found

    def drain(self, peer: str | None = None) -> list[tuple[str, JSONObject]]:
        """Everything up to the current ends of the files (several polls when a file is large)."""
        found: list[tuple[str, JSONObject]] = []
        while True:
            before = self.offsets
            found.extend(self.poll(peer))
            if self.offsets == before:
                return found

    def _read(self, peer: str, entry: os.DirEntry[str]) -> list[JSONObject]:
        try:
            stat = entry.stat()
        except OSError:
            return []
        position = self._positions.get(peer) or _Position(stat.st_ino, 0)
        if (position.inode is not None and position.inode != stat.st_ino) or stat.st_size < position.offset:
            position = _Position(stat.st_ino, 0)  # replaced or rewritten: read it again
        position.inode = stat.st_ino
        self._positions[peer] = position
        if stat.st_size == position.offset:
            return []
        try:
            with open(entry.path, "rb") as handle:
                handle.seek(position.offset)
                chunk = handle.read(min(stat.st_size - position.offset, self.max_bytes))
        except OSError:
            return []
        start = 0
        if position.oversized:
            start = chunk.find(b"\n") + 1
            if start == 0:
                position.offset += len(chunk)
                return []
            position.oversized = False
        end = chunk.rfind(b"\n") + 1
        if end <= start:
            if start == 0 and len(chunk) == self.max_bytes:  # a line longer than we read at once
                position.offset += len(chunk)
                position.oversized = True
            else:
                position.offset += start
            return []  # otherwise: no complete line yet
        position.offset += end
        return _parse(chunk[start:end])
