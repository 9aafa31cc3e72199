# SPDX-License-Identifier: MIT
"""Crash-safe file primitives: atomic replace, locked read-modify-write, locked JSONL appends.

Rules every state file in a wire home follows:

* whole-file writes go to a temporary file in the same directory, are fsynced, then
  ``os.replace``-d over the target, so a reader sees the old or the new file, never a torn one;
* read-modify-write of JSON state happens under a ``filelock`` lock on a hidden sibling
  (``.<name>.lock``) with a bounded wait; a timeout raises :class:`LockTimeoutError`;
* JSONL logs are only appended to, under the same kind of lock, whole lines at a time, never
  through a symlink. A reader that meets a last line without its newline (a writer killed
  mid-write) skips it and reports it;
* everything is private whatever the umask: directories 0700, files 0600 (a home holds peers'
  slot tokens), lock files included.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from wire_client._errors import HomeError, LockTimeoutError
from wire_protocol import JSON, CanonicalizationError, loads

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "DIR_MODE",
    "FILE_MODE",
    "LOG_MAX_BYTES",
    "JsonlRead",
    "append_bounded",
    "append_lines",
    "atomic_write_bytes",
    "atomic_write_json",
    "dump_line",
    "dump_pretty",
    "lock_path_for",
    "locked",
    "make_private_dirs",
    "read_json",
    "read_jsonl",
    "update_json",
]

log = logging.getLogger(__name__)

#: how long a state-file lock is waited for before giving up with a clear error
DEFAULT_LOCK_TIMEOUT = 10.0
#: files and directories of a home: private to the user whatever the umask
FILE_MODE, DIR_MODE = 0o600, 0o700
#: diagnostics logs (refused events) stay below this size, plus one rotated ``.1`` file
LOG_MAX_BYTES = 1024 * 1024

T = TypeVar("T")


def lock_path_for(path: Path) -> Path:
    """The lock file guarding ``path``: a hidden sibling, so ``inbox/*.jsonl`` globs never see it."""
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def locked(path: Path, *, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive cross-process lock of ``path`` for the ``with`` block."""
    import filelock  # here, not at module level: reading a home needs no lock (the CLI's local verbs)

    lock_file = lock_path_for(path)
    make_private_dirs(lock_file.parent)
    lock = filelock.FileLock(lock_file, timeout=timeout, mode=FILE_MODE, preserve_lock_file=True)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise LockTimeoutError(
            f"could not lock {path} within {timeout:g}s: another wire process holds {lock_file}. "
            "If no wire process is running, the lock is stale only if its holder hung; "
            "find it with `fuser` / `lsof` on the lock file.",
            lock_path=str(lock_file),
        ) from exc
    try:
        yield
    finally:
        lock.release()


def make_private_dirs(directory: Path) -> None:
    """``mkdir -p`` where every directory this call creates is 0700 (the umask cannot widen it)."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=DIR_MODE)
            os.chmod(path, DIR_MODE)


def dump_pretty(value: JSON) -> bytes:
    """Pretty JSON as the reference writes its state files (2-space indent, newline at the end)."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def dump_line(value: JSON) -> bytes:
    """One compact JSONL line, newline included (key order preserved: signed events stay as received)."""
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = FILE_MODE, fsync: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (temp file in the same dir + fsync + ``os.replace``)."""
    make_private_dirs(path.parent)
    import tempfile  # here, not at module level: reading a home writes nothing

    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    if fsync:
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_json(path: Path, value: JSON, *, mode: int = FILE_MODE, fsync: bool = True) -> None:
    atomic_write_bytes(path, dump_pretty(value), mode=mode, fsync=fsync)


def read_json(path: Path, default: JSON = None) -> JSON:
    """Read a JSON state file; a missing file gives ``default``, an unparseable one raises :class:`HomeError`.

    We never silently treat a corrupt file as empty: the next write would clobber it.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return default
    except OSError as exc:
        raise HomeError(f"cannot read {path}: {exc}") from exc
    if not data.strip():
        return default
    try:
        return loads(data)
    except CanonicalizationError as exc:
        raise HomeError(f"{path} is not valid JSON ({exc.message}); fix or move it aside") from exc


def update_json(
    path: Path,
    modify: Callable[[JSON], tuple[JSON, T]],
    *,
    default: JSON = None,
    mode: int = FILE_MODE,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    fsync: bool = True,
) -> T:
    """Locked read-modify-write: ``modify(current) -> (new, result)``; written only if it returns."""
    with locked(path, timeout=timeout):
        current = read_json(path, default)
        before = copy.deepcopy(current)
        new, result = modify(current)
        if new != before or not path.exists():
            atomic_write_json(path, new, mode=mode, fsync=fsync)
        return result


def append_lines(path: Path, lines: list[bytes], *, timeout: float = DEFAULT_LOCK_TIMEOUT, fsync: bool = True) -> int:
    """Append whole lines under the file's lock; returns the file size afterwards.

    If the file ends in a torn line (a writer died mid-line) a newline is written first so the new
    lines start clean; the torn fragment stays behind as one unparseable line.
    """
    make_private_dirs(path.parent)
    with locked(path, timeout=timeout):
        return append_lines_unlocked(path, lines, fsync=fsync)


def append_bounded(path: Path, lines: list[bytes], *, max_bytes: int, fsync: bool = False) -> int:
    """Append to a diagnostics log that never outgrows ``max_bytes`` (plus one rotated ``.1`` file).

    When the file would pass the bound it is renamed to ``<name>.1`` (replacing the previous one)
    and a new file is started; lines beyond ``max_bytes`` in one call are dropped.
    """
    make_private_dirs(path.parent)
    kept: list[bytes] = []
    total = 0
    for line in lines:
        if total + len(line) > max_bytes:
            break
        kept.append(line)
        total += len(line)
    with locked(path):
        try:
            size = os.lstat(path).st_size
        except FileNotFoundError:
            size = 0
        if size and size + total > max_bytes:
            os.replace(path, path.with_name(path.name + ".1"))
        return append_lines_unlocked(path, kept, fsync=fsync) if kept else size


def open_for_append(path: Path) -> int:
    """A no-follow, private, append-only descriptor for ``path`` (a symlink there is refused)."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        if os.path.islink(path):
            raise HomeError(f"{path} is a symlink; refusing to append through it (move it aside)") from exc
        raise


def append_lines_unlocked(path: Path, lines: list[bytes], *, fsync: bool = True) -> int:
    """:func:`append_lines` for a caller that already holds the lock."""
    fd = open_for_append(path)
    try:
        size = os.fstat(fd).st_size
        prefix = b""
        if size and _last_byte(fd, size) != b"\n":
            prefix = b"\n"
        payload = prefix + b"".join(lines)
        written = 0
        try:
            while written < len(payload):
                written += os.write(fd, payload[written:])
        except OSError:
            # disk full / read-only: take our partial bytes back so no reader ever meets half a line
            with contextlib.suppress(OSError):
                if os.fstat(fd).st_size == size + written:
                    os.ftruncate(fd, size)
            raise
        if fsync:
            os.fsync(fd)
        return size + len(payload)
    finally:
        os.close(fd)


def _last_byte(fd: int, size: int) -> bytes:
    return os.pread(fd, 1, size - 1)


@dataclass(slots=True)
class JsonlRead:
    """Result of reading a JSONL file from an offset.

    ``records`` holds ``(offset, value)`` per complete, parseable line; ``end_offset`` is where the
    next read should start (the start of a torn last line, if any); ``torn_tail`` is True when the
    file ended in an incomplete line; ``bad_lines`` lists offsets of complete lines that are not JSON.
    """

    records: list[tuple[int, JSON]] = field(default_factory=list)
    end_offset: int = 0
    torn_tail: bool = False
    bad_lines: list[int] = field(default_factory=list)


def read_jsonl(path: Path, start: int = 0, *, max_bytes: int | None = None, max_lines: int | None = None) -> JsonlRead:
    """Read complete lines from byte ``start``; a torn last line is tolerated and reported.

    ``max_lines`` stops after that many complete non-blank lines (``end_offset`` is then the start of
    the next one): a caller that takes a few lines at a time does not parse the rest of the file."""
    result = JsonlRead(end_offset=start)
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            data = handle.read() if max_bytes is None else handle.read(max_bytes)
    except FileNotFoundError:
        return result
    offset = start
    for raw in data.splitlines(keepends=True):
        if not raw.endswith(b"\n"):
            if max_bytes is None or len(data) < max_bytes:
                result.torn_tail = True
                log.debug("%s ends in an incomplete line at byte %d (writer busy or interrupted)", path, offset)
            break
        line = raw.strip()
        if line and max_lines is not None and len(result.records) + len(result.bad_lines) >= max_lines:
            break
        if line:
            try:
                result.records.append((offset, loads(line)))
            except CanonicalizationError:
                result.bad_lines.append(offset)
                log.warning("%s: line at byte %d is not JSON; skipped", path, offset)
        offset += len(raw)
    result.end_offset = offset
    return result
