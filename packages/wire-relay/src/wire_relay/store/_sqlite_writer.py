# SPDX-License-Identifier: AGPL-3.0-or-later
"""The SQLite store's schema and its single writer thread with group commit.

Theory of operation: every mutation is a function ``op(group) -> result`` queued with a future.
The writer takes everything queued (up to :data:`MAX_GROUP_OPS` per transaction), runs each op
inside its own SAVEPOINT of ONE ``BEGIN IMMEDIATE`` transaction, commits, and only then resolves the
futures and wakes SSE subscribers. So N concurrent POSTs cost one commit, and a caller is answered
only after its data is in the WAL (which survives kill -9; with ``synchronous=NORMAL`` only a power
cut can lose the last transactions, ``?synchronous=full`` closes that too).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wire_relay.store.base import AppendResult, EventItem

__all__ = ["SCHEMA_VERSION", "Group", "SlotRow", "Writer", "checkpoint", "connect", "migrate", "single_statement"]

log = logging.getLogger("wire_relay.store")

SCHEMA_VERSION = 2
MAX_GROUP_OPS = 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS slots (
    id INTEGER PRIMARY KEY,
    slot_id TEXT NOT NULL UNIQUE,
    token_hash BLOB NOT NULL,
    created_unix INTEGER NOT NULL,
    bytes_used INTEGER NOT NULL DEFAULT 0,
    event_count INTEGER NOT NULL DEFAULT 0,
    responder_health TEXT,
    acked_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    slot INTEGER NOT NULL,
    event_id TEXT,
    data BLOB NOT NULL,
    at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS events_dedupe ON events (slot, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_slot ON events (slot, seq);
CREATE TABLE IF NOT EXISTS handles (
    nick TEXT PRIMARY KEY,
    did TEXT NOT NULL,
    card TEXT NOT NULL,
    slot_id TEXT NOT NULL,
    relay_url TEXT,
    claimed_at TEXT NOT NULL,
    discoverable INTEGER NOT NULL,
    listed INTEGER NOT NULL,
    vibes TEXT NOT NULL,
    proof TEXT,
    proven INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS invites (
    token TEXT PRIMARY KEY,
    invite_url TEXT NOT NULL,
    expires_unix INTEGER NOT NULL,
    uses_remaining INTEGER,
    created_unix INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS acks (slot INTEGER NOT NULL, through_seq INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS acks_by_at ON acks (at);
CREATE INDEX IF NOT EXISTS acks_by_slot ON acks (slot);
CREATE TABLE IF NOT EXISTS deposit_tokens (
    token_hash BLOB PRIMARY KEY,
    slot_id TEXT NOT NULL,
    token_id TEXT NOT NULL,
    label TEXT NOT NULL,
    created_unix INTEGER NOT NULL,
    revoked_unix INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS deposit_tokens_by_slot ON deposit_tokens (slot_id, token_id);
"""

#: columns schema version 2 added to version-1 tables (acknowledgements, event time, claim proofs)
_ADDED_COLUMNS = (
    ("slots", "acked_seq", "INTEGER NOT NULL DEFAULT 0"),
    ("events", "at", "INTEGER"),
    ("handles", "proof", "TEXT"),
    ("handles", "proven", "INTEGER NOT NULL DEFAULT 0"),
)


def connect(path: str, *, writer: bool, synchronous: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, with a busy timeout."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-8000" if writer else "PRAGMA cache_size=-2000")
    if writer and path != ":memory:":
        conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run off the event loop (checkpoint())
    return conn


def migrate(conn: sqlite3.Connection, counter_names: tuple[str, ...]) -> None:
    """Create or check the schema (idempotent; refuses a newer schema than this code knows)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif row[0] > SCHEMA_VERSION:
            raise RuntimeError(f"store schema version {row[0]} is newer than this wire-relay ({SCHEMA_VERSION})")
        elif row[0] < SCHEMA_VERSION:
            for table, column, decl in _ADDED_COLUMNS:
                have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        conn.executemany("INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)", [(n,) for n in counter_names])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@dataclass(slots=True)
class SlotRow:
    """A slot as the writer sees it during one group (pending deltas are flushed before COMMIT)."""

    key: int
    bytes_used: int
    count_delta: int = 0
    bytes_delta: int = 0


@dataclass(slots=True)
class Group:
    """State shared by the ops of one transaction."""

    conn: sqlite3.Connection
    #: Unix seconds stamped on the events this group stores (never decreasing from group to group)
    now: int = 0
    slots: dict[str, SlotRow | None] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    notify: set[str] = field(default_factory=set)

    def slot(self, slot_id: str) -> SlotRow | None:
        if slot_id in self.slots:
            return self.slots[slot_id]
        row = self.conn.execute("SELECT id, bytes_used FROM slots WHERE slot_id = ?", (slot_id,)).fetchone()
        found = SlotRow(key=row[0], bytes_used=row[1]) if row is not None else None
        self.slots[slot_id] = found
        return found

    def count(self, name: str, delta: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta

    def flush(self) -> None:
        updates = [
            (r.bytes_delta, r.count_delta, r.key) for r in self.slots.values() if r is not None and r.count_delta
        ]
        if updates:
            self.conn.executemany(
                "UPDATE slots SET bytes_used = bytes_used + ?, event_count = event_count + ? WHERE id = ?", updates
            )
        if self.counters:
            self.conn.executemany(
                "UPDATE counters SET value = value + ? WHERE name = ?", [(v, k) for k, v in self.counters.items()]
            )


Op = Callable[[Group], Any]


def single_statement(op: Op) -> Op:
    """Mark an op that writes with at most ONE statement (atomic by itself): it needs no SAVEPOINT."""
    op.single_statement = True  # type: ignore[attr-defined]
    return op


class Writer:
    """The single writer, on the event loop thread: ``submit(op)`` queues, one flush per loop turn.

    Every op submitted during one turn of the event loop (typically: every request whose bytes
    arrived in the same poll) is run by one scheduled ``_flush`` inside ONE transaction, committed,
    and only then are the futures resolved. SQLite's own work runs with the GIL released, but a
    second Python thread would fight the event loop for the GIL on every statement (the convoy
    effect cost 5x in throughput when measured), so the writer shares the loop's thread: a flush of
    64 single-event appends blocks the loop for well under a millisecond. WAL checkpoints, the only
    slow part (they fsync), run on a separate connection in a worker thread (``checkpoint``).
    """

    def __init__(self, conn: sqlite3.Connection, on_commit: Callable[[set[str]], None]) -> None:
        self._conn = conn
        self._on_commit = on_commit
        self._loop = asyncio.get_running_loop()
        self._pending: list[tuple[Op, asyncio.Future[Any]]] = []
        self._scheduled = False
        self._closed = False
        self._last_now = 0

    def submit(self, op: Op) -> asyncio.Future[Any]:
        if self._closed:
            raise RuntimeError("store is closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending.append((op, future))
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._gather, len(self._pending))
        return future

    def _gather(self, seen: int) -> None:
        """Commit on the next loop turn, or one turn later if ops arrived since ``submit`` scheduled us.

        Handlers whose requests were read in the same poll as the first op's submit in the previous
        turn are only now running; waiting one more turn lets their ops join the group (about twice
        the ops per commit under load, each commit costs ~150 µs) at the price of one loop turn of
        latency. A lone op (no arrivals since) is committed on the next turn, as before.
        """
        if len(self._pending) > seen and seen < MAX_GROUP_OPS:
            self._loop.call_soon(self._flush)
        else:
            self._flush()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._flush()

    def _flush(self) -> None:
        self._scheduled = False
        while self._pending:
            items, self._pending = self._pending[:MAX_GROUP_OPS], self._pending[MAX_GROUP_OPS:]
            self._run_group(items)

    def _run_group(self, items: list[tuple[Op, asyncio.Future[Any]]]) -> None:
        conn = self._conn
        outcomes: list[tuple[asyncio.Future[Any], bool, Any]] = []
        self._last_now = max(self._last_now, int(time.time()))
        group = Group(conn, self._last_now)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op, future in items:
                single = getattr(op, "single_statement", False)
                if not single:
                    conn.execute("SAVEPOINT op")
                try:
                    result = op(group)
                except Exception as exc:  # noqa: BLE001 - the op's caller gets its own error
                    if not single:
                        conn.execute("ROLLBACK TO op")
                    outcomes.append((future, False, exc))
                else:
                    outcomes.append((future, True, result))
                if not single:
                    conn.execute("RELEASE op")
            group.flush()
            conn.execute("COMMIT")
        except Exception as exc:
            log.exception("event=commit_failed ops=%d", len(items))
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            outcomes = [(future, False, exc) for _op, future in items]
            group.notify.clear()
        for future, ok, value in outcomes:
            if future.cancelled():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if group.notify:
            self._on_commit(group.notify)


# ----------------------------------------------------------------------------------------- event ops
def append_one(g: Group, slot_id: str, item: EventItem, quota: int, posted: bool) -> AppendResult:
    slot = g.slot(slot_id)
    if slot is None:
        return AppendResult("unknown_slot")
    size = len(item.data)
    used = slot.bytes_used + slot.bytes_delta
    if used + size > quota:
        return AppendResult("quota_exceeded", slot_bytes_used=used)
    cur = g.conn.execute(
        "INSERT INTO events (slot, event_id, data, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (slot.key, item.event_id, item.data, g.now),
    )
    if cur.rowcount == 0:
        return AppendResult("duplicate", slot_bytes_used=used)
    slot.bytes_delta += size
    slot.count_delta += 1
    g.notify.add(slot_id)
    if posted:
        g.count("events_posted_total")
    return AppendResult("stored", seq=cur.lastrowid, slot_bytes_used=used + size)


def append_many(g: Group, slot_id: str, items: Sequence[EventItem], quota: int) -> list[AppendResult]:
    """A batch in one ``executemany``: duplicates are found first (one indexed query per 500 ids),
    so every row inserted is new and the seqs assigned by SQLite are consecutive."""
    slot = g.slot(slot_id)
    if slot is None:
        return [AppendResult("unknown_slot")] * len(items)
    ids = list({it.event_id for it in items if it.event_id is not None})
    seen: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT event_id FROM events WHERE slot = ? AND event_id IN ({marks})"  # noqa: S608 - placeholders
        seen.update(row[0] for row in g.conn.execute(sql, (slot.key, *chunk)))
    used = slot.bytes_used + slot.bytes_delta
    results: list[AppendResult | None] = []
    rows: list[tuple[int, str | None, bytes, int]] = []
    for it in items:
        size = len(it.data)
        if used + size > quota:  # quota before dedupe, as for single events
            results.append(AppendResult("quota_exceeded", slot_bytes_used=used))
        elif it.event_id is not None and it.event_id in seen:
            results.append(AppendResult("duplicate", slot_bytes_used=used))
        else:
            if it.event_id is not None:
                seen.add(it.event_id)
            used += size
            rows.append((slot.key, it.event_id, it.data, g.now))
            results.append(None)
    if rows:
        g.conn.executemany("INSERT INTO events (slot, event_id, data, at) VALUES (?, ?, ?, ?)", rows)
        seq = g.conn.execute("SELECT last_insert_rowid()").fetchone()[0] - len(rows) + 1
        running = slot.bytes_used + slot.bytes_delta
        for index, result in enumerate(results):
            if result is None:
                running += len(items[index].data)
                results[index] = AppendResult("stored", seq=seq, slot_bytes_used=running)
                seq += 1
        slot.bytes_delta += used - (slot.bytes_used + slot.bytes_delta)
        slot.count_delta += len(rows)
        g.count("events_posted_total", len(rows))
        g.notify.add(slot_id)
    return [r for r in results if r is not None]


def checkpoint(conn: sqlite3.Connection) -> None:
    """Move WAL content into the database file (PASSIVE: never blocks the writer); run in a thread."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
