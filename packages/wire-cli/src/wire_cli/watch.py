# SPDX-License-Identifier: MIT
"""Reading ``inbox/<peer>.jsonl`` files incrementally (tail -f, monitor, notify).

Only complete lines are consumed: a partial trailing line waits for the next poll. A file that
shrank (rewritten) is read again from the start. Offsets are byte offsets, so they can be saved
(``notify.cursor``) and resumed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["InboxWatcher", "read_all"]


def _peer_files(directory: Path) -> dict[str, Path]:
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return {}
    return {
        e.name[: -len(".jsonl")]: Path(e.path)
        for e in entries
        if e.name.endswith(".jsonl") and not e.name.startswith(".") and e.is_file()
    }


def _parse(chunk: bytes) -> Iterator[dict[str, Any]]:
    for raw in chunk.split(b"\n"):
        if not raw.strip():
            continue
        with contextlib.suppress(ValueError):
            record = json.loads(raw)
            if isinstance(record, dict):
                yield record


def read_all(directory: Path, peer: str | None = None) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, int]]:
    """Every complete event of every peer file (or one peer), and the offsets reached."""
    events: list[tuple[str, dict[str, Any]]] = []
    offsets: dict[str, int] = {}
    for name, path in sorted(_peer_files(directory).items()):
        if peer is not None and name != peer:
            continue
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        end = data.rfind(b"\n") + 1
        offsets[name] = end
        events.extend((name, record) for record in _parse(data[:end]))
    return events, offsets


class InboxWatcher:
    """Polls a directory of JSONL files; :meth:`poll` returns the complete lines appended since last time."""

    def __init__(self, directory: Path, *, offsets: dict[str, int] | None = None, from_end: bool = True) -> None:
        self.directory = directory
        self.offsets: dict[str, int] = dict(offsets or {})
        if offsets is None and from_end:
            for name, path in _peer_files(directory).items():
                with contextlib.suppress(OSError):
                    self.offsets[name] = _complete_size(path)

    def poll(self) -> list[tuple[str, dict[str, Any]]]:
        found: list[tuple[str, dict[str, Any]]] = []
        for name, path in sorted(_peer_files(self.directory).items()):
            start = self.offsets.get(name, 0)
            try:
                size = path.stat().st_size
                if size < start:
                    start = 0  # the file was rewritten
                if size == start:
                    continue
                with path.open("rb") as handle:
                    handle.seek(start)
                    chunk = handle.read(size - start)
            except FileNotFoundError:
                continue
            end = chunk.rfind(b"\n") + 1
            if end == 0:
                continue
            self.offsets[name] = start + end
            found.extend((name, record) for record in _parse(chunk[:end]))
        return found


def _complete_size(path: Path) -> int:
    """The offset just after the last complete line."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with path.open("rb") as handle:
        back = min(size, 65536)
        handle.seek(size - back)
        tail = handle.read(back)
    if tail.endswith(b"\n"):
        return size
    cut = tail.rfind(b"\n")
    return size - back + cut + 1 if cut >= 0 else (0 if back == size else size)
