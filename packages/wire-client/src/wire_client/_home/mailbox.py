# SPDX-License-Identifier: MIT
"""The JSONL mailboxes of a home: inbox (once-only), held (unverifiable yet), outbox (queue + cursor), sent log.

The inbox de-duplicates by ``event_id`` with an incremental index: under the file lock only the bytes
appended since our last look are read, so appending stays O(new lines) however long the file gets,
and appends by other processes are still seen.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wire_client._errors import LockTimeoutError
from wire_client._home.files import (
    DEFAULT_LOCK_TIMEOUT,
    FILE_MODE,
    append_lines_unlocked,
    atomic_write_bytes,
    dump_line,
    lock_path_for,
    locked,
    make_private_dirs,
    read_json,
    read_jsonl,
    update_json,
)
from wire_client._home.paths import WireHome, safe_peer_name
from wire_client._home.reader import InboxReader
from wire_protocol import JSON, JSONObject, format_timestamp

__all__ = [
    "OPENED_KEY",
    "EventLog",
    "InboxEvent",
    "OutboxCursor",
    "OutboxStore",
    "SentLog",
    "async_locked",
    "signed_part",
]

log = logging.getLogger(__name__)


def _now() -> str:
    return format_timestamp(datetime.now(UTC))


#: the one local member an inbox line may carry next to the signed event (see :func:`signed_part`)
OPENED_KEY = "opened"


def signed_part(line: JSONObject) -> JSONObject:
    """The signed event of an inbox line: the line without our local ``opened`` annotation.

    Incoming events that carry an ``opened`` member of their own are rejected on receive, so
    stripping it never changes what the sender signed.
    """
    if OPENED_KEY not in line:
        return line
    return {k: v for k, v in line.items() if k != OPENED_KEY}


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """A verified event as it sits in ``inbox/<peer>.jsonl``.

    The line is the signed event exactly as the relay stored it (still verifiable), plus, for sealed
    events and downgrades, a local ``opened`` member written on receive:
    ``{"sealed": true, "body": <plaintext>}`` when it opened, ``{"sealed": true, "decryptable":
    false, "error": <code>}`` when it did not, ``{"sealed": false, "downgraded": true}`` for a
    plaintext body from a peer whose pinned card could have sealed. :attr:`body` is the readable body.
    """

    peer: str
    event: JSONObject

    @property
    def _opened(self) -> JSONObject:
        value = self.event.get(OPENED_KEY)
        return value if isinstance(value, dict) else {}

    @property
    def signed_event(self) -> JSONObject:
        return signed_part(self.event)

    @property
    def event_id(self) -> str:
        return str(self.event.get("event_id", ""))

    @property
    def type(self) -> str | None:
        value = self.event.get("type")
        return value if isinstance(value, str) else None

    @property
    def kind(self) -> int | None:
        value = self.event.get("kind")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def sealed(self) -> bool:
        """True when the body travelled sealed (``enc``), whether or not it opened."""
        return "enc" in self.event

    @property
    def decryptable(self) -> bool:
        """False for a sealed body we could not open (kept, verified, shown as unreadable)."""
        return not self.sealed or "body" in self._opened

    @property
    def downgraded(self) -> bool:
        """True for a plaintext body from a peer whose pinned card has a ``dh_pubkey``."""
        return self._opened.get("downgraded") is True

    @property
    def encrypted(self) -> bool:
        """True when the body is sealed and could not be opened (no readable body)."""
        return not self.decryptable

    @property
    def body(self) -> JSON:
        """The readable body: the opened plaintext of a sealed event, else the event's body."""
        if self.sealed:
            return self._opened.get("body")
        return self.event.get("body")

    @property
    def sender_did(self) -> str:
        return str(self.event.get("from", ""))

    @property
    def timestamp(self) -> str | None:
        value = self.event.get("timestamp")
        return value if isinstance(value, str) else None

    @property
    def text(self) -> str | None:
        """The body as text: strings as-is, other JSON compact; ``None`` when it cannot be opened."""
        if self.encrypted:
            return None
        body = self.body
        return body if isinstance(body, str) else dump_line(body).decode("utf-8").rstrip("\n")

    def to_json(self) -> JSONObject:
        """The signed event plus local annotations (``peer``, ``verified``, ``sealed``, ``downgraded``...)."""
        data: JSONObject = {
            "peer": self.peer,
            "verified": True,
            "encrypted": self.encrypted,
            "sealed": self.sealed,
            "decryptable": self.decryptable,
            "downgraded": self.downgraded,
            "body": self.body,
            "event": self.signed_event,
        }
        return data


@dataclass(slots=True)
class _IndexState:
    inode: int
    offset: int
    ids: set[str]


class EventLog:
    """A directory of ``<peer>.jsonl`` files holding events, appended at most once per ``event_id``."""

    def __init__(self, directory: Path, *, fsync: bool = True) -> None:
        self.directory = directory
        self._fsync = fsync
        self._index: dict[str, _IndexState] = {}

    def path(self, peer: str) -> Path:
        return self.directory / f"{safe_peer_name(peer)}.jsonl"

    def _refresh_index(self, peer: str, path: Path) -> _IndexState:
        """Bring the id index of ``peer`` up to date with the file; call with the lock held."""
        try:
            st = os.stat(path)
        except FileNotFoundError:
            empty = self._index[peer] = _IndexState(inode=0, offset=0, ids=set())
            return empty
        known = self._index.get(peer)
        if known is None or known.inode != st.st_ino or st.st_size < known.offset:
            known = self._index[peer] = _IndexState(inode=st.st_ino, offset=0, ids=set())
        state = known
        if st.st_size > state.offset:
            chunk = read_jsonl(path, state.offset)
            for _, record in chunk.records:
                if isinstance(record, dict) and isinstance(record.get("event_id"), str):
                    state.ids.add(str(record["event_id"]))
            state.offset = chunk.end_offset
        return state

    def append(
        self, peer: str, events: Iterable[JSONObject], *, timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> list[JSONObject]:
        """Append the events not already present (by ``event_id``); returns those appended, in order."""
        pending = list(events)
        if not pending:
            return []
        path = self.path(peer)
        make_private_dirs(self.directory)
        with locked(path, timeout=timeout):
            state = self._refresh_index(peer, path)
            self._drop_torn_tail(path, state)
            fresh: list[JSONObject] = []
            lines: list[bytes] = []
            for event in pending:
                event_id = event.get("event_id")
                if not isinstance(event_id, str) or event_id in state.ids:
                    continue
                state.ids.add(event_id)
                fresh.append(event)
                lines.append(dump_line(event))
            if lines:
                end = append_lines_unlocked(path, lines, fsync=self._fsync)
                state.offset = end
                state.inode = os.stat(path).st_ino
            return fresh

    @staticmethod
    def _drop_torn_tail(path: Path, state: _IndexState) -> None:
        """Cut an incomplete last line (its writer died mid-append; we hold the lock every writer takes).

        Its event was never indexed, so it is appended again whole; keeping the fragment could even
        resurrect it as a second copy once a newline followed it.
        """
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            return
        if size > state.offset:
            log.warning(
                "%s: dropped an incomplete last line (%d bytes) left by an interrupted write; "
                "its event is fetched again",
                path,
                size - state.offset,
            )
            os.truncate(path, state.offset)

    def unreadable(self) -> dict[str, int]:
        """Per peer, lines that cannot be read: an incomplete last line (a writer died mid-append; the
        next append drops it) or complete lines that are not JSON (skipped by every reader)."""
        found: dict[str, int] = {}
        for peer in self.peers():
            path = self.path(peer)
            chunk = read_jsonl(path)
            if chunk.bad_lines or chunk.torn_tail:
                with locked(path):  # a writer may have been mid-append: look again while it cannot be
                    chunk = read_jsonl(path)
            count = len(chunk.bad_lines) + (1 if chunk.torn_tail else 0)
            if count:
                found[peer] = count
        return found

    def contains(self, peer: str, event_id: str) -> bool:
        path = self.path(peer)
        with locked(path):
            return event_id in self._refresh_index(peer, path).ids

    def read(self, peer: str) -> list[JSONObject]:
        return [r for _, r in read_jsonl(self.path(peer)).records if isinstance(r, dict)]

    def peers(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.jsonl") if not p.name.startswith("."))

    def replace(self, peer: str, events: list[JSONObject]) -> None:
        """Rewrite a peer's file atomically (held events after a release)."""
        path = self.path(peer)
        with locked(path):
            if events:
                atomic_write_bytes(path, b"".join(dump_line(e) for e in events))
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            self._index.pop(peer, None)

    async def tail(self, *, from_start: bool = False, interval: float = 0.05) -> AsyncIterator[tuple[str, JSONObject]]:
        """Yield ``(peer, event)`` for lines appended from now on (or from the start) by any process."""
        import asyncio  # here, not at module level: the CLI's local verbs read mailboxes without an event loop

        reader = InboxReader(self.directory, from_end=not from_start)
        while True:
            for peer, event in reader.poll():
                yield peer, event
            await asyncio.sleep(interval)


@dataclass(frozen=True, slots=True)
class OutboxCursor:
    """How far a peer's outbox has been delivered, plus the batch signed but not yet confirmed."""

    offset: int = 0
    inflight_start: int | None = None
    inflight_events: tuple[JSONObject, ...] = ()
    inflight_ends: tuple[int, ...] = ()

    @classmethod
    def inflight(cls, offset: int, events: list[JSONObject], ends: list[int]) -> OutboxCursor:
        """Progress at ``offset`` with ``events`` (lines ending at ``ends``) signed and being posted."""
        return cls(offset=offset, inflight_start=offset, inflight_events=tuple(events), inflight_ends=tuple(ends))

    def to_json(self) -> JSONObject:
        data: JSONObject = {"offset": self.offset, "updated_at": _now()}
        if self.inflight_start is not None:
            data["inflight"] = {
                "start": self.inflight_start,
                "ends": list(self.inflight_ends),
                "events": list(self.inflight_events),
            }
        return data

    @classmethod
    def from_json(cls, value: JSON) -> OutboxCursor:
        if not isinstance(value, dict):
            return cls()
        offset = value.get("offset")
        inflight = value.get("inflight")
        if isinstance(inflight, dict):
            start, ends, events = inflight.get("start"), inflight.get("ends"), inflight.get("events")
            if (
                isinstance(start, int)
                and isinstance(ends, list)
                and isinstance(events, list)
                and len(ends) == len(events)
                and all(isinstance(e, dict) for e in events)
                and all(isinstance(n, int) for n in ends)
            ):
                return cls(
                    offset=offset if isinstance(offset, int) else 0,
                    inflight_start=start,
                    inflight_events=tuple(e for e in events if isinstance(e, dict)),
                    inflight_ends=tuple(n for n in ends if isinstance(n, int)),
                )
        return cls(offset=offset if isinstance(offset, int) else 0)


class OutboxStore:
    """``outbox/<peer>.jsonl`` (signed events we queued, or partial events agents appended) + per-peer cursor.

    Lines before the cursor's offset are done; nothing is ever re-posted once confirmed.
    """

    def __init__(self, home: WireHome) -> None:
        self._home = home
        self.directory = home.outbox_dir

    def path(self, peer: str) -> Path:
        return self._home.outbox_path(peer)

    def push_lock_target(self, peer: str) -> Path:
        """What the per-peer *delivery* lock guards (separate from the append lock of the file itself)."""
        path = self.path(peer)
        return path.with_name(f"{path.name}.push")

    def enqueue(self, peer: str, event: JSONObject) -> None:
        self.enqueue_many(peer, [event])

    def enqueue_many(self, peer: str, events: Sequence[JSONObject]) -> None:
        """Append ``events`` in order under one lock with one fsync (a burst costs one disk flush)."""
        path = self.path(peer)
        make_private_dirs(self.directory)
        with locked(path):
            append_lines_unlocked(path, [dump_line(event) for event in events])

    def cursor(self, peer: str) -> OutboxCursor:
        data = read_json(self._home.outbox_cursors, {})
        return OutboxCursor.from_json(data.get(peer) if isinstance(data, dict) else None)

    def save_cursor(self, peer: str, cursor: OutboxCursor) -> None:
        def modify(current: JSON) -> tuple[JSON, None]:
            data: JSONObject = dict(current) if isinstance(current, dict) else {}
            data[peer] = cursor.to_json()
            return data, None

        update_json(self._home.outbox_cursors, modify, default={})

    def backlog(self) -> dict[str, int]:
        """Peers with undelivered bytes in their outbox, and how many bytes."""
        if not self.directory.is_dir():
            return {}
        data = read_json(self._home.outbox_cursors, {})
        cursors = data if isinstance(data, dict) else {}
        result: dict[str, int] = {}
        for entry in os.scandir(self.directory):
            if not entry.name.endswith(".jsonl") or entry.name.startswith("."):
                continue
            peer = entry.name[: -len(".jsonl")]
            size = entry.stat().st_size
            done = OutboxCursor.from_json(cursors.get(peer)).offset
            if size > done:
                result[peer] = size - done
        return result

    def has_backlog(self, peer: str) -> bool:
        try:
            size = os.stat(self.path(peer)).st_size
        except FileNotFoundError:
            return False
        return size > self.cursor(peer).offset


class SentLog:
    """``sent/<peer>.jsonl``: one line per delivery verdict (the file-system contract's answer to agents)."""

    def __init__(self, home: WireHome) -> None:
        self._home = home

    def record(self, peer: str, verdicts: list[JSONObject]) -> None:
        if not verdicts:
            return
        path = self._home.sent_path(peer)
        make_private_dirs(path.parent)
        stamp = _now()
        with locked(path):
            append_lines_unlocked(path, [dump_line({"at": stamp, **v}) for v in verdicts], fsync=False)


@contextlib.asynccontextmanager
async def async_locked(path: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> AsyncIterator[None]:
    """Cross-process lock of ``path`` taken without blocking the event loop (polls every 2 ms)."""
    import asyncio

    import filelock  # here, not at module level: reading a home needs no lock (the CLI's local verbs)

    lock_file = lock_path_for(path)
    make_private_dirs(lock_file.parent)
    lock = filelock.FileLock(lock_file, mode=FILE_MODE, preserve_lock_file=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lock_timeout
    while True:
        try:
            lock.acquire(blocking=False)
            break
        except filelock.Timeout:
            if loop.time() >= deadline:
                raise LockTimeoutError(
                    f"could not lock {path} within {lock_timeout:g}s: another wire process holds {lock_file}",
                    lock_path=str(lock_file),
                ) from None
            await asyncio.sleep(0.002)
    try:
        yield
    finally:
        lock.release()
