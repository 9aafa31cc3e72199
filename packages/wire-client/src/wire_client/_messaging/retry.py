# SPDX-License-Identifier: MIT
"""Exact retries (docs/PROTOCOL.md §6.6): the same peer, type, kind, body and deadline option sent again
within ``RETRY_WINDOW`` seconds is not signed again; the earlier event's id is reported as a duplicate.

Every event carries its own timestamp, so two sends of one body get different event ids and the relay
cannot tell a retry from a second message; this index, kept in the sending home, can.

It is an append-only log, ``state/sent/retry-index.jsonl``: one line per claimed key
(``{"key", "event_id", "at"}``) and one per released key (``"released": true``), appended under a
file lock so two concurrent identical sends (two processes) produce one event. Each process keeps
the live keys in memory and reads only the lines other processes appended since its last look; a
claim costs one lock, one ``stat`` and one short append instead of rewriting the whole index. A torn
last line (a writer killed mid-line) is skipped, never fatal, and the next append starts on a fresh
line. At most ``MAX_ENTRIES`` keys are live (oldest first out); once the log holds ``COMPACT_LINES``
lines it is rewritten atomically with the live keys only, so the file stays bounded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wire_client._errors import HomeError, LockTimeoutError
from wire_client._home.files import (
    DEFAULT_LOCK_TIMEOUT,
    FILE_MODE,
    append_lines_unlocked,
    atomic_write_bytes,
    dump_line,
    lock_path_for,
    make_private_dirs,
    read_json,
    read_jsonl,
)
from wire_client._home.paths import WireHome
from wire_protocol import JSON, canonical_bytes

__all__ = ["COMPACT_LINES", "MAX_ENTRIES", "RETRY_WINDOW", "EarlierSend", "RetryIndex", "retry_key"]

#: seconds during which an identical send is an exact retry
RETRY_WINDOW = 600
#: bound on the live keys (oldest keys go first)
MAX_ENTRIES = 1024
#: the log is rewritten with only the live keys once it holds this many lines
COMPACT_LINES = 4 * MAX_ENTRIES

_KEY = re.compile(r"[0-9a-f]{64}")
_MAX_EVENT_ID = 128


def retry_key(peer: str, type: str, kind: int | None, body: JSON, deadline: object) -> str:
    """SHA-256 over the canonical JSON of what the operator asked for (never the timestamp or the id)."""
    request: JSON = {
        "peer": peer,
        "type": type,
        "kind": kind,
        "body": body,
        "deadline": None if deadline is None else str(deadline),
    }
    return hashlib.sha256(canonical_bytes(request, strict=False, allow_floats=True)).hexdigest()


@dataclass(frozen=True, slots=True)
class EarlierSend:
    event_id: str
    age_seconds: float


class RetryIndex:
    """Which retry key produced which event id, and when (this home only; shared by its processes)."""

    def __init__(self, home: WireHome, *, window: float = RETRY_WINDOW) -> None:
        self.path = home.sent_dir / "retry-index.jsonl"
        self._legacy = home.sent_dir / "retry-index.json"
        self.window = window
        self._entries: dict[str, tuple[str, float]] = {}  # key -> (event_id, at), oldest first
        self._inode = 0
        self._offset = 0
        self._lines = 0
        self._lock = _KeptLock(lock_path_for(self.path))

    def claim(self, key: str, event_id: str) -> EarlierSend | None:
        """The earlier send for ``key`` inside the window; else record ``event_id`` under it and ``None``."""
        make_private_dirs(self.path.parent)
        with self._lock.held():
            now = time.time()
            self._catch_up()
            earlier = self._entries.get(key)
            if earlier is not None and 0 <= now - earlier[1] < self.window:
                return EarlierSend(earlier[0], now - earlier[1])
            self._append({"key": key, "event_id": event_id, "at": now})
            self._apply_claim(key, event_id, now)
            if self._lines >= COMPACT_LINES:
                self._compact(now)
            return None

    def release(self, key: str, event_id: str) -> None:
        """Forget ``key`` when ``event_id`` never left (refused, or the send failed): a retry then sends."""
        make_private_dirs(self.path.parent)
        with self._lock.held():
            self._catch_up()
            if self._entries.get(key, ("", 0.0))[0] != event_id:
                return
            self._append({"key": key, "event_id": event_id, "released": True})
            del self._entries[key]

    # --- the log (every method below runs with the lock held) ----------------------------------

    def _catch_up(self) -> None:
        """Apply the lines appended since our last look; start over if the file was replaced (compacted)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._reset(0)
            self._import_legacy()
            return
        if st.st_ino != self._inode or st.st_size < self._offset:
            self._reset(st.st_ino)
        if st.st_size == self._offset:
            return
        chunk = read_jsonl(self.path, self._offset)
        for _, record in chunk.records:
            self._apply(record)
        self._lines += len(chunk.records) + len(chunk.bad_lines)
        self._offset = chunk.end_offset  # a torn last line is left behind; the next append ends it

    def _reset(self, inode: int) -> None:
        self._entries.clear()
        self._inode, self._offset, self._lines = inode, 0, 0

    def _apply(self, record: JSON) -> None:
        """One log line; anything malformed is skipped (the file is ours, but stay strict)."""
        if not isinstance(record, dict):
            return
        key, event_id = record.get("key"), record.get("event_id")
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            return
        if not isinstance(event_id, str) or not 0 < len(event_id) <= _MAX_EVENT_ID:
            return
        if record.get("released") is True:
            if self._entries.get(key, ("", 0.0))[0] == event_id:
                del self._entries[key]
            return
        at = record.get("at")
        if isinstance(at, int | float) and not isinstance(at, bool):
            self._apply_claim(key, event_id, float(at))

    def _apply_claim(self, key: str, event_id: str, at: float) -> None:
        self._entries.pop(key, None)  # re-inserted last: the dict stays in claim order
        self._entries[key] = (event_id, at)
        while len(self._entries) > MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]

    def _append(self, record: JSON) -> None:
        end = append_lines_unlocked(self.path, [dump_line(record)], fsync=False)
        if self._inode == 0:
            self._inode = os.stat(self.path).st_ino
        self._offset = end
        self._lines += 1

    def _compact(self, now: float) -> None:
        """Rewrite the log with the live keys only (atomic replace: a reader sees the old or the new file)."""
        self._entries = {k: v for k, v in self._entries.items() if 0 <= now - v[1] < self.window}
        data = b"".join(dump_line({"key": k, "event_id": e, "at": at}) for k, (e, at) in self._entries.items())
        atomic_write_bytes(self.path, data)
        self._inode, self._offset, self._lines = os.stat(self.path).st_ino, len(data), len(self._entries)

    def _import_legacy(self) -> None:
        """Carry the live keys of the former whole-file index (``retry-index.json``) over, once."""
        try:
            legacy = read_json(self._legacy, {})
        except HomeError:  # an unreadable old index only loses retry memory, never a send
            legacy = {}
        if not isinstance(legacy, dict) or not legacy:
            return
        for key, entry in sorted(
            ((k, v) for k, v in legacy.items() if isinstance(v, dict)), key=lambda kv: _at(kv[1].get("at"))
        ):
            record: JSON = {"key": key, "event_id": entry.get("event_id"), "at": entry.get("at")}
            self._apply(record)
        self._compact(time.time())
        self._legacy.unlink(missing_ok=True)


def _at(value: JSON) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class _KeptLock:
    """The same ``flock`` on the same hidden lock file as :func:`wire_client._home.files.locked`, with
    the descriptor kept open between claims (a send takes it once; the generic lock costs more than the
    claim itself). Reopened after a fork or when the lock file was replaced. A ``flock`` does not
    exclude threads sharing the descriptor, so a thread lock is held around it too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def held(self, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
        if not self._threads.acquire(timeout=timeout):
            raise LockTimeoutError(f"could not lock {self.path} within {timeout:g}s (busy in this process)",
                                   lock_path=str(self.path))  # fmt: skip
        try:
            with self._flocked(timeout):
                yield
        finally:
            self._threads.release()

    @contextlib.contextmanager
    def _flocked(self, timeout: float) -> Iterator[None]:
        fd = self._descriptor()
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeoutError(
                        f"could not lock {self.path} within {timeout:g}s: another wire process holds it",
                        lock_path=str(self.path),
                    ) from None
                time.sleep(0.001)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _descriptor(self) -> int:
        if self._fd is not None and self._pid == os.getpid():
            try:
                if os.fstat(self._fd).st_ino == os.stat(self.path).st_ino:
                    return self._fd
            except FileNotFoundError:
                pass
            os.close(self._fd)
        self._fd = None
        make_private_dirs(self.path.parent)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
        self._pid = os.getpid()
        return self._fd

    def __del__(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError):
                os.close(self._fd)
