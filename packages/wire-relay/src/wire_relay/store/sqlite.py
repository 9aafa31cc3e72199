# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQLite store: one file in WAL mode, one writer thread with group commit, reads on other connections.

URLs: ``sqlite:///abs/path/relay.sqlite3`` (parent directories are created) or ``sqlite://:memory:``
(a private in-memory database, for tests). Option ``?synchronous=full`` makes every commit fsync
(default ``normal``: durable against process crashes, which is what an acknowledgement promises).

Reads: short point lookups (token check on a cache miss, handle lookup, counts) run directly on a
read connection owned by the event-loop thread — they are index lookups of microseconds; listings
(up to 1000 events) run on a small thread pool with one connection per thread. In memory mode there
is only one connection, shared under a lock. Nothing is read at start-up, so opening is O(1).

Pair slots and rate buckets live in process memory (ephemeral by definition; empty after restart).
One relay process per database file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from wire_protocol import SLOT_QUOTA_BYTES, JSONObject
from wire_relay.log import store_log
from wire_relay.store._memory_pairs import MemoryPairSlots
from wire_relay.store._sqlite_deposits import DepositOps
from wire_relay.store._sqlite_retention import ack_op, purge_op
from wire_relay.store._sqlite_writer import (
    Group,
    Writer,
    append_many,
    append_one,
    checkpoint,
    connect,
    migrate,
    single_statement,
)
from wire_relay.store.base import (
    COUNTER_NAMES,
    AckResult,
    AppendResult,
    ClaimResult,
    EventItem,
    HandleRecord,
    InviteLookup,
    InviteRecord,
    LocalNotifier,
    MemoryRateBuckets,
    PairOpenResult,
    PairPeer,
    SlotExistsError,
    SlotState,
    StoredEvent,
    StoreStats,
    Subscription,
    TokenCache,
    TokenCheck,
    claim_conflicts,
    hash_token,
    listing_facts,
    merge_claim,
)

__all__ = ["SQLiteStore", "open_store", "parse_sqlite_url"]

T = TypeVar("T")
Role = Literal["host", "guest"]
CHECKPOINT_SECONDS = 1.0
_HANDLE_BY_NICK = (
    "SELECT nick, did, card, slot_id, relay_url, claimed_at, discoverable, proof, proven FROM handles WHERE nick = ?"
)
_HANDLE_LIST = (
    "SELECT nick, did, card, slot_id, relay_url, claimed_at, discoverable, proof, proven FROM handles "
    "WHERE listed = 1 AND nick > ? ORDER BY nick LIMIT ?"
)
_HANDLE_LIST_VIBE = (
    "SELECT nick, did, card, slot_id, relay_url, claimed_at, discoverable, proof, proven FROM handles "
    "WHERE listed = 1 AND nick > ? AND EXISTS (SELECT 1 FROM json_each(handles.vibes) WHERE value = ?) "
    "ORDER BY nick LIMIT ?"
)


def parse_sqlite_url(url: str) -> tuple[str, str]:
    """``(path, synchronous)`` from a ``sqlite:`` URL; path ``:memory:`` for an in-memory store."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise ValueError(f"not a sqlite URL: {url!r}")
    options = parse_qs(parts.query)
    synchronous = options.get("synchronous", ["normal"])[-1].upper()
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"bad synchronous option {synchronous!r} in store URL")
    if parts.netloc == ":memory:" or parts.path in (":memory:", "/:memory:"):
        return ":memory:", synchronous
    if parts.netloc or not parts.path.startswith("/"):
        raise ValueError(f"sqlite store URL needs an absolute path: sqlite:///abs/path (got {url!r})")
    return parts.path, synchronous


async def open_store(url: str) -> SQLiteStore:
    """Open (creating if needed) the SQLite store at ``url``."""
    path, synchronous = parse_sqlite_url(url)
    store = SQLiteStore(path, synchronous=synchronous, display_url=url)
    await store.start()
    return store


class SQLiteStore(DepositOps):
    """The embedded default store (see the module docstring and :class:`~wire_relay.store.base.Store`)."""

    def __init__(self, path: str, *, synchronous: str = "NORMAL", display_url: str | None = None) -> None:
        self.path = path
        self.display_url = display_url or f"sqlite:///{path}"
        self._synchronous = synchronous
        self._memory = path == ":memory:"
        self._lock = threading.RLock()
        self._notifier = LocalNotifier()
        self._rates = MemoryRateBuckets()
        self._tokens = TokenCache()
        self._last_pull: dict[str, int] = {}
        self._pairs = MemoryPairSlots()
        self._conns: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._writer: Writer | None = None
        self._ckpt_task: asyncio.Task[None] | None = None
        self._writes_since_checkpoint = 0
        self._closed = False

    async def start(self) -> None:
        if not self._memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        wconn = connect(self.path, writer=True, synchronous=self._synchronous)
        self._conns.append(wconn)
        migrate(wconn, COUNTER_NAMES)
        if self._memory:
            self._rconn = wconn
        else:
            self._rconn = self._new_conn()
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="wire-relay-sqlite-read")
        self._writer = Writer(wconn, self._notifier_commit)
        if not self._memory:
            self._ckpt_conn = self._new_conn(query_only=False)
            self._ckpt_task = asyncio.create_task(self._checkpointer(), name="wire-relay-sqlite-checkpoint")

    async def _checkpointer(self) -> None:
        """Checkpoint the WAL every second when there were writes (PASSIVE, on a worker thread)."""
        assert self._pool is not None  # noqa: S101 - file mode only
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            if self._writes_since_checkpoint:
                self._writes_since_checkpoint = 0
                try:
                    await loop.run_in_executor(self._pool, checkpoint, self._ckpt_conn)
                except sqlite3.Error:
                    store_log.exception("event=checkpoint_failed")

    def _new_conn(self, *, query_only: bool = True) -> sqlite3.Connection:
        conn = connect(self.path, writer=False, synchronous=self._synchronous)
        if query_only:
            conn.execute("PRAGMA query_only=ON")
        with self._lock:
            self._conns.append(conn)
        return conn

    def _notifier_commit(self, slot_ids: set[str]) -> None:
        for slot_id in slot_ids:
            self._notifier.notify(slot_id)

    # -- plumbing ------------------------------------------------------------------------------------

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A point read on the loop thread's connection (under the lock in memory mode)."""
        if self._memory:
            with self._lock:
                return fn(self._rconn)
        return fn(self._rconn)

    async def _read_bulk(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A listing on a pool thread with that thread's own connection."""
        if self._pool is None:
            return self._read(fn)

        def run() -> T:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self._new_conn()
            return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._pool, run)

    async def _write(self, op: Callable[[Group], T]) -> T:
        if self._writer is None:
            raise RuntimeError("store is not open")
        self._writes_since_checkpoint += 1
        return cast("T", await self._writer.submit(op))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._ckpt_task is not None:
            self._ckpt_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ckpt_task
        if self._writer is not None:
            await self._writer.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        with self._lock:
            for conn in reversed(self._conns):
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._conns.clear()

    async def sweep(self, now: float) -> None:
        self._pairs.sweep(now)

        def purge(g: Group) -> None:
            g.conn.execute("DELETE FROM invites WHERE expires_unix <= ?", (int(now) - 86400,))

        await self._write(purge)

    # -- slots ---------------------------------------------------------------------------------------

    async def allocate_slot(self, slot_id: str, token: str, now: float) -> None:
        digest = hash_token(token)

        def op(g: Group) -> None:
            try:
                g.conn.execute(
                    "INSERT INTO slots (slot_id, token_hash, created_unix) VALUES (?, ?, ?)",
                    (slot_id, digest, int(now)),
                )
            except sqlite3.IntegrityError as exc:
                raise SlotExistsError(slot_id) from exc
            g.slots.pop(slot_id, None)
            g.count("slot_allocations_total")

        await self._write(op)

    async def check_token(self, slot_id: str, token: str) -> TokenCheck:
        digest = self._tokens.get(slot_id)
        if digest is None:
            row = self._read(
                lambda c: c.execute("SELECT token_hash FROM slots WHERE slot_id = ?", (slot_id,)).fetchone()
            )
            if row is not None:
                digest = bytes(row[0])
                self._tokens.remember(slot_id, digest)
        return TokenCache.verdict(token, digest)

    async def slot_exists(self, slot_id: str) -> bool:
        if slot_id in self._tokens:
            return True
        row = self._read(lambda c: c.execute("SELECT 1 FROM slots WHERE slot_id = ?", (slot_id,)).fetchone())
        return row is not None

    # -- events --------------------------------------------------------------------------------------

    async def append(
        self, slot_id: str, item: EventItem, *, quota: int = SLOT_QUOTA_BYTES, count_posted: bool = True
    ) -> AppendResult:
        return await self._write(single_statement(lambda g: append_one(g, slot_id, item, quota, count_posted)))

    async def append_batch(
        self, slot_id: str, items: Sequence[EventItem], *, quota: int = SLOT_QUOTA_BYTES
    ) -> list[AppendResult]:
        if not items:
            return []

        def op(g: Group) -> list[AppendResult]:
            return append_many(g, slot_id, items, quota)

        return await self._write(op)

    async def list_events(self, slot_id: str, since: str | None, limit: int) -> list[bytes]:
        if limit <= 0:
            return []

        def run(c: sqlite3.Connection) -> list[bytes]:
            row = c.execute("SELECT id FROM slots WHERE slot_id = ?", (slot_id,)).fetchone()
            if row is None:
                return []
            after = 0
            if since is not None:
                hit = c.execute("SELECT seq FROM events WHERE slot = ? AND event_id = ?", (row[0], since)).fetchone()
                after = hit[0] if hit is not None else 0
            rows = c.execute(
                "SELECT data FROM events WHERE slot = ? AND seq > ? ORDER BY seq LIMIT ?", (row[0], after, limit)
            ).fetchall()
            return [bytes(r[0]) for r in rows]

        return await self._read_bulk(run)

    async def seq_of(self, slot_id: str, event_id: str) -> int | None:
        row = self._read(
            lambda c: c.execute(
                "SELECT e.seq FROM events e JOIN slots s ON e.slot = s.id WHERE s.slot_id = ? AND e.event_id = ?",
                (slot_id, event_id),
            ).fetchone()
        )
        return int(row[0]) if row is not None else None

    async def list_since_seq(self, slot_id: str, after_seq: int, limit: int) -> list[StoredEvent]:
        def run(c: sqlite3.Connection) -> list[StoredEvent]:
            rows = c.execute(
                "SELECT seq, event_id, data FROM events WHERE slot = (SELECT id FROM slots WHERE slot_id = ?) "
                "AND seq > ? ORDER BY seq LIMIT ?",
                (slot_id, after_seq, limit),
            ).fetchall()
            return [StoredEvent(seq=r[0], event_id=r[1], data=bytes(r[2])) for r in rows]

        return await self._read_bulk(run)

    async def last_seq(self, slot_id: str) -> int:
        row = self._read(
            lambda c: c.execute(
                "SELECT max(seq) FROM events WHERE slot = (SELECT id FROM slots WHERE slot_id = ?)", (slot_id,)
            ).fetchone()
        )
        return int(row[0]) if row is not None and row[0] is not None else 0

    def subscribe(self, slot_id: str) -> Subscription:
        return self._notifier.subscribe(slot_id)

    async def ack(self, slot_id: str, event_id: str, now: float) -> AckResult | None:
        return await self._write(lambda g: ack_op(g, slot_id, event_id, int(now)))

    async def purge(self, now: float, *, acked_retention: float, event_retention: float | None) -> int:
        deleted: int = await self._write(lambda g: purge_op(g, int(now), acked_retention, event_retention))
        return deleted

    # -- slot state ----------------------------------------------------------------------------------

    async def touch_pull(self, slot_id: str, now: float) -> None:
        self._last_pull[slot_id] = int(now)

    async def slot_state(self, slot_id: str) -> SlotState | None:
        row = self._read(
            lambda c: c.execute(
                "SELECT event_count, responder_health FROM slots WHERE slot_id = ?", (slot_id,)
            ).fetchone()
        )
        if row is None:
            return None
        health = json.loads(row[1]) if row[1] is not None else None
        return SlotState(event_count=row[0], last_pull_at_unix=self._last_pull.get(slot_id), responder_health=health)

    async def set_responder_health(self, slot_id: str, record: JSONObject) -> None:
        text = json.dumps(record, separators=(",", ":"), sort_keys=True)
        await self._write(
            lambda g: g.conn.execute("UPDATE slots SET responder_health = ? WHERE slot_id = ?", (text, slot_id))
        )

    # -- handles -------------------------------------------------------------------------------------

    async def claim_handle(self, record: HandleRecord, *, discoverable: bool | None) -> ClaimResult:
        def op(g: Group) -> ClaimResult:
            row = g.conn.execute(_HANDLE_BY_NICK, (record.nick,)).fetchone()
            current = HandleRecord.from_row(row) if row is not None else None
            if current is not None and claim_conflicts(current, record):
                return ClaimResult("conflict", current)
            new = merge_claim(current, record, discoverable)
            listed, vibes = listing_facts(new)
            g.conn.execute(
                "INSERT OR REPLACE INTO handles (nick, did, card, slot_id, relay_url, claimed_at, discoverable, "
                "listed, vibes, proof, proven) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.nick,
                    new.did,
                    json.dumps(new.card, separators=(",", ":"), sort_keys=True),
                    new.slot_id,
                    new.relay_url,
                    new.claimed_at,
                    int(new.discoverable),
                    int(listed),
                    json.dumps(vibes),
                    new.proof_text(),
                    int(new.proven),
                ),
            )
            g.count("handle_claims_total")
            first = current is None or current.did != new.did
            if first:
                g.count("handle_first_claims_total")
            return ClaimResult("claimed" if first else "re-claimed", new)

        return await self._write(op)

    async def get_handle(self, nick: str) -> HandleRecord | None:
        row = self._read(lambda c: c.execute(_HANDLE_BY_NICK, (nick,)).fetchone())
        return HandleRecord.from_row(row) if row is not None else None

    async def list_handles(self, *, cursor: str | None, limit: int, vibe: str | None) -> list[HandleRecord]:
        params: tuple[object, ...]
        if vibe is None:
            sql, params = _HANDLE_LIST, (cursor or "", limit)
        else:
            sql, params = _HANDLE_LIST_VIBE, (cursor or "", vibe, limit)
        rows = await self._read_bulk(lambda c: c.execute(sql, params).fetchall())
        return [HandleRecord.from_row(r) for r in rows]

    async def unclaim_handle(self, nick: str, slot_id: str) -> bool:
        def op(g: Group) -> bool:
            cur = g.conn.execute("DELETE FROM handles WHERE nick = ? AND slot_id = ?", (nick, slot_id))
            return cur.rowcount > 0

        return await self._write(op)

    # -- pair slots (memory) -------------------------------------------------------------------------

    async def pair_open(
        self, code_hash: str, role: Role, msg: str, new_pair_id: str, now: float, *, max_open: int | None = None
    ) -> PairOpenResult:
        result = self._pairs.open(code_hash, role, msg, new_pair_id, now, max_open=max_open)
        if not result.conflict and not result.full:
            await self._write(lambda g: g.count("pair_opens_total"))
        return result

    async def pair_get(self, pair_id: str, role: Role, now: float) -> PairPeer | None:
        return self._pairs.get(pair_id, role, now)

    async def pair_set_bootstrap(self, pair_id: str, role: Role, sealed: str, now: float) -> bool:
        return self._pairs.set_bootstrap(pair_id, role, sealed, now)

    async def pair_abandon(self, code_hash: str) -> None:
        self._pairs.abandon(code_hash)

    # -- invites -------------------------------------------------------------------------------------

    async def invite_register(self, record: InviteRecord) -> bool:
        token = record.token.lower()

        def op(g: Group) -> bool:
            row = g.conn.execute("SELECT expires_unix FROM invites WHERE token = ?", (token,)).fetchone()
            if row is not None and row[0] > record.created_unix:
                return False
            g.conn.execute(
                "INSERT OR REPLACE INTO invites (token, invite_url, expires_unix, uses_remaining, created_unix) "
                "VALUES (?, ?, ?, ?, ?)",
                (token, record.invite_url, record.expires_unix, record.uses_remaining, record.created_unix),
            )
            return True

        return await self._write(op)

    async def invite_take(self, token: str, now: float, *, consume: bool) -> InviteLookup:
        token = token.lower()

        def check(c: sqlite3.Connection) -> InviteLookup:
            row = c.execute(
                "SELECT invite_url, expires_unix, uses_remaining FROM invites WHERE token = ?", (token,)
            ).fetchone()
            if row is None:
                return InviteLookup("unknown")
            if now >= row[1]:
                return InviteLookup("expired")
            if row[2] is not None and row[2] <= 0:
                return InviteLookup("used_up")
            return InviteLookup("ok", row[0])

        if not consume:
            return self._read(check)

        def op(g: Group) -> InviteLookup:
            verdict = check(g.conn)
            if verdict.status == "ok":
                g.conn.execute(
                    "UPDATE invites SET uses_remaining = uses_remaining - 1 WHERE token = ? AND uses_remaining > 0",
                    (token,),
                )
            return verdict

        return await self._write(op)

    # -- rate, stats ---------------------------------------------------------------------------------

    async def rate_take(self, key: str, capacity: float, refill_per_second: float, now: float) -> float:
        return self._rates.take(key, capacity, refill_per_second, now)

    async def stats(self, now: float) -> StoreStats:
        def run(c: sqlite3.Connection) -> tuple[int, int, dict[str, int]]:
            handles = c.execute("SELECT count(*) FROM handles").fetchone()[0]
            slots = c.execute("SELECT count(*) FROM slots").fetchone()[0]
            counters = dict(c.execute("SELECT name, value FROM counters"))
            return handles, slots, counters

        handles, slots, counters = await self._read_bulk(run)
        return StoreStats(
            handles_active=handles, slots_active=slots, pair_slots_open=self._pairs.count(now), counters=counters
        )
