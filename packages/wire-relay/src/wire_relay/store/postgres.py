# SPDX-License-Identifier: AGPL-3.0-or-later
"""PostgreSQL store (asyncpg): several relay processes on one database behave as one relay.

URL: ``postgresql://user:pass@host:port/db`` (or ``postgres://``). Our own query options, removed
before the URL reaches asyncpg: ``pool_min`` (default 1) and ``pool_max`` (default 16) connections
per relay process; every other option (``sslmode=...``) is passed on to asyncpg.

Every decision that must be the same in every process is taken by the database inside one
transaction (see ``_pg_schema``): slot ids (UNIQUE), event dedupe (UNIQUE(slot, event_id) +
``ON CONFLICT DO NOTHING``), per-slot seq and quota (slot row lock), nick FCFS (row lock + primary
key), pair slots (a table with TTL, evicted on touch and by :meth:`sweep`), invite use counts
(``FOR UPDATE`` + decrement), rate buckets (an UNLOGGED table updated by one atomic upsert) and the
``*_total`` counters. SSE wake-ups cross processes through LISTEN/NOTIFY (``_pg_channel``).

Only immutable facts are cached in process memory: slot → token hash. Statements are one round trip
wherever possible. Appends call the server-side ``wire_append`` function: a batch is one call, and
concurrent single appends are grouped into shared calls (group commit, ``_pg_append``). Pair slots
and invites live in ``_pg_rendezvous``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wire_protocol import PAIR_SLOT_TTL_SECONDS, SLOT_QUOTA_BYTES, JSONObject
from wire_relay.store._pg_append import AppendRequest, GroupCommitter
from wire_relay.store._pg_channel import NotifyChannel, WakeAllNotifier
from wire_relay.store._pg_deposits import DepositOps
from wire_relay.store._pg_rendezvous import RendezvousOps
from wire_relay.store._pg_retention import RetentionOps
from wire_relay.store._pg_schema import APPEND_SQL, BUMP2_SQL, BUMP_SQL, migrate
from wire_relay.store._urls import redact_url
from wire_relay.store.base import (
    COUNTER_NAMES,
    AppendResult,
    AppendStatus,
    ClaimResult,
    EventItem,
    HandleRecord,
    SlotExistsError,
    SlotState,
    StoredEvent,
    StoreError,
    StoreStats,
    Subscription,
    TokenCache,
    TokenCheck,
    claim_conflicts,
    hash_token,
    listing_facts,
    merge_claim,
)

__all__ = ["PostgresStore", "open_store", "parse_postgres_url"]

PULL_CACHE_MAX = 50_000
#: rate buckets idle this long are dropped by :meth:`PostgresStore.sweep` (full again for any sane spec)
RATE_IDLE_SECONDS = 3600.0
_SELECT_HANDLE = (
    "SELECT nick, did, card, slot_id, relay_url, claimed_at, discoverable, proof, proven FROM wire_handles "
)


def _asyncpg() -> Any:
    """The asyncpg module (an optional dependency: ``pip install 'wire-relay[postgres]'``)."""
    try:
        return importlib.import_module("asyncpg")
    except ImportError as exc:
        raise ImportError(
            "the PostgreSQL store needs asyncpg: install it with pip install 'wire-relay[postgres]'"
        ) from exc


async def _keep_session(_conn: Any) -> None:
    """Pool release hook: skip asyncpg's default reset query (a round trip per release). Pooled
    connections never change session state (no LISTEN, session locks, cursors or SET); asyncpg
    still rolls back a transaction left open before calling this."""


def parse_postgres_url(url: str) -> tuple[str, int, int]:
    """``(dsn for asyncpg, pool_min, pool_max)``; raises ValueError for a bad URL or option."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {parts.scheme}://...")
    options: list[tuple[str, str]] = []
    sizes = {"pool_min": 1, "pool_max": 16}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in sizes:
            try:
                sizes[key] = int(value)
            except ValueError:
                raise ValueError(f"bad {key} option {value!r} in store URL") from None
        else:
            options.append((key, value))
    if not 0 <= sizes["pool_min"] <= sizes["pool_max"] or sizes["pool_max"] < 1:
        raise ValueError("store URL needs 0 <= pool_min <= pool_max and pool_max >= 1")
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(options), ""))
    return dsn, sizes["pool_min"], sizes["pool_max"]


async def open_store(url: str) -> PostgresStore:
    """Open (creating the schema if needed) the PostgreSQL store at ``url``."""
    dsn, pool_min, pool_max = parse_postgres_url(url)
    store = PostgresStore(dsn, pool_min=pool_min, pool_max=pool_max, display_url=redact_url(url))
    await store.start()
    return store


class PostgresStore(RendezvousOps, RetentionOps, DepositOps):
    """The shared store (see the module docstring and :class:`~wire_relay.store.base.Store`)."""

    def __init__(self, dsn: str, *, pool_min: int = 1, pool_max: int = 16, display_url: str | None = None) -> None:
        self.display_url = display_url or "postgresql://..."
        self._dsn = dsn
        self._pool_min = pool_min
        self._pool_max = pool_max
        self._pool: Any = None
        self._notifier = WakeAllNotifier()
        self._channel: NotifyChannel | None = None
        self._committer: GroupCommitter | None = None
        self._tokens = TokenCache()
        self._pulls: dict[str, int] = {}
        self._closing = False
        self._closed = False

    async def start(self, connect_timeout: float = 30.0) -> None:
        asyncpg = _asyncpg()
        settings = {"application_name": "wire-relay", "jit": "off"}
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=self._pool_min,
            max_size=self._pool_max,
            timeout=connect_timeout,
            command_timeout=connect_timeout,
            server_settings=settings,
            reset=_keep_session,
        )
        try:
            async with self._pool.acquire() as conn:
                await migrate(conn)

            async def connect_listener() -> Any:
                return await asyncpg.connect(
                    self._dsn,
                    timeout=connect_timeout,
                    server_settings={**settings, "application_name": "wire-relay-listen"},
                )

            self._channel = NotifyChannel(connect_listener, self._notifier)
            await self._channel.start(connect_timeout)
            self._committer = GroupCommitter(self._run_appends, max_parallel=max(2, self._pool_max // 4))
        except BaseException:
            await self._pool.close()
            raise

    @property
    def pool(self) -> Any:
        if self._pool is None or self._closed:
            raise StoreError("store is not open")
        return self._pool

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True  # new appends are refused; queued ones still commit
        if self._committer is not None:
            await self._committer.drain()
        self._closed = True
        if self._channel is not None:
            await self._channel.close()
        if self._pool is not None:
            try:
                async with asyncio.timeout(10.0):
                    await self._pool.close()
            except TimeoutError:
                self._pool.terminate()

    async def sweep(self, now: float) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("DELETE FROM wire_pairs WHERE $1 - touched > $2", now, float(PAIR_SLOT_TTL_SECONDS))
            await conn.execute("DELETE FROM wire_invites WHERE expires_unix <= $1", int(now) - 86400)
            await conn.execute("DELETE FROM wire_rate WHERE at < $1", now - RATE_IDLE_SECONDS)

    # -- slots ---------------------------------------------------------------------------------------

    async def allocate_slot(self, slot_id: str, token: str, now: float) -> None:
        created = await self.pool.fetchval(
            "WITH ins AS (INSERT INTO wire_slots (slot_id, token_hash, created_unix) VALUES ($1, $2, $3) "
            "ON CONFLICT (slot_id) DO NOTHING RETURNING 1), "
            "bump AS (INSERT INTO wire_counters AS c (name, shard, value) "
            "SELECT 'slot_allocations_total', pg_backend_pid() % 64, 1 FROM ins "
            "ON CONFLICT (name, shard) DO UPDATE SET value = c.value + EXCLUDED.value) "
            "SELECT count(*) FROM ins",
            slot_id,
            hash_token(token),
            int(now),
        )
        if not created:
            raise SlotExistsError(slot_id)

    async def check_token(self, slot_id: str, token: str) -> TokenCheck:
        digest = self._tokens.get(slot_id)
        if digest is None:
            raw = await self.pool.fetchval("SELECT token_hash FROM wire_slots WHERE slot_id = $1", slot_id)
            if raw is not None:
                digest = bytes(raw)
                self._tokens.remember(slot_id, digest)
        return TokenCache.verdict(token, digest)

    async def slot_exists(self, slot_id: str) -> bool:
        if slot_id in self._tokens:
            return True
        return await self.pool.fetchval("SELECT 1 FROM wire_slots WHERE slot_id = $1", slot_id) is not None

    # -- events --------------------------------------------------------------------------------------

    async def _run_appends(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """One ``wire_append`` call (one transaction) for ``requests``; wakes after commit."""
        rows = await self.pool.fetch(
            APPEND_SQL,
            [r.slot_id for r in requests],
            [r.item.event_id for r in requests],
            [r.item.data for r in requests],
            [r.quota for r in requests],
            [r.count_posted for r in requests],
        )
        results: list[AppendResult | None] = [None] * len(requests)
        woken: set[str] = set()
        for row in rows:
            index = row[0] - 1
            status: AppendStatus = row[1]
            results[index] = AppendResult(status, seq=row[2], slot_bytes_used=row[3])
            if status == "stored":
                woken.add(requests[index].slot_id)
        for slot_id in woken:  # committed: wake this process now, the others through NOTIFY
            self._notifier.notify(slot_id)
            if self._channel is not None:
                self._channel.queue(slot_id)
        if any(r is None for r in results):
            raise StoreError("wire_append returned fewer verdicts than items")
        return cast("list[AppendResult]", results)

    async def append(
        self, slot_id: str, item: EventItem, *, quota: int = SLOT_QUOTA_BYTES, count_posted: bool = True
    ) -> AppendResult:
        if self._committer is None or self._closing:
            raise StoreError("store is not open")
        return await self._committer.submit(AppendRequest(slot_id, item, quota, count_posted))

    async def append_batch(
        self, slot_id: str, items: Sequence[EventItem], *, quota: int = SLOT_QUOTA_BYTES
    ) -> list[AppendResult]:
        if not items:
            return []
        return await self._run_appends([AppendRequest(slot_id, it, quota, True) for it in items])

    async def list_events(self, slot_id: str, since: str | None, limit: int) -> list[bytes]:
        if limit <= 0:
            return []
        rows = await self.pool.fetch(
            "SELECT e.data FROM wire_slots s JOIN wire_events e ON e.slot = s.id "
            "WHERE s.slot_id = $1 AND e.seq > COALESCE("
            "(SELECT x.seq FROM wire_events x WHERE x.slot = s.id AND x.event_id = $2), 0) "
            "ORDER BY e.seq LIMIT $3",
            slot_id,
            since,
            limit,
        )
        return [bytes(r[0]) for r in rows]

    async def seq_of(self, slot_id: str, event_id: str) -> int | None:
        seq = await self.pool.fetchval(
            "SELECT e.seq FROM wire_events e JOIN wire_slots s ON e.slot = s.id "
            "WHERE s.slot_id = $1 AND e.event_id = $2",
            slot_id,
            event_id,
        )
        return int(seq) if seq is not None else None

    async def list_since_seq(self, slot_id: str, after_seq: int, limit: int) -> list[StoredEvent]:
        if limit <= 0:
            return []
        rows = await self.pool.fetch(
            "SELECT e.seq, e.event_id, e.data FROM wire_events e "
            "WHERE e.slot = (SELECT id FROM wire_slots WHERE slot_id = $1) AND e.seq > $2 ORDER BY e.seq LIMIT $3",
            slot_id,
            after_seq,
            limit,
        )
        return [StoredEvent(seq=r[0], event_id=r[1], data=bytes(r[2])) for r in rows]

    async def last_seq(self, slot_id: str) -> int:
        # next_seq only moves when the transaction storing those events commits
        seq = await self.pool.fetchval("SELECT next_seq - 1 FROM wire_slots WHERE slot_id = $1", slot_id)
        return int(seq) if seq is not None else 0

    def subscribe(self, slot_id: str) -> Subscription:
        return self._notifier.subscribe(slot_id)

    # -- slot state ----------------------------------------------------------------------------------

    async def touch_pull(self, slot_id: str, now: float) -> None:
        at = int(now)
        if self._pulls.get(slot_id) == at:
            return  # already recorded this second by this process
        await self.pool.execute(
            "INSERT INTO wire_pulls AS p (slot_id, at_unix) VALUES ($1, $2) "
            "ON CONFLICT (slot_id) DO UPDATE SET at_unix = EXCLUDED.at_unix WHERE p.at_unix < EXCLUDED.at_unix",
            slot_id,
            at,
        )
        self._pulls.pop(slot_id, None)
        if len(self._pulls) >= PULL_CACHE_MAX:
            del self._pulls[next(iter(self._pulls))]
        self._pulls[slot_id] = at

    async def slot_state(self, slot_id: str) -> SlotState | None:
        row = await self.pool.fetchrow(
            "SELECT s.event_count, p.at_unix, s.responder_health FROM wire_slots s "
            "LEFT JOIN wire_pulls p ON p.slot_id = s.slot_id WHERE s.slot_id = $1",
            slot_id,
        )
        if row is None:
            return None
        health = json.loads(row[2]) if row[2] is not None else None
        return SlotState(event_count=row[0], last_pull_at_unix=row[1], responder_health=health)

    async def set_responder_health(self, slot_id: str, record: JSONObject) -> None:
        text = json.dumps(record, separators=(",", ":"), sort_keys=True)
        await self.pool.execute("UPDATE wire_slots SET responder_health = $2 WHERE slot_id = $1", slot_id, text)

    # -- handles -------------------------------------------------------------------------------------

    async def claim_handle(self, record: HandleRecord, *, discoverable: bool | None) -> ClaimResult:
        async with self.pool.acquire() as conn, conn.transaction():
            for _attempt in range(5):
                row = await conn.fetchrow(_SELECT_HANDLE + "WHERE nick = $1 FOR UPDATE", record.nick)
                current = HandleRecord.from_row(row) if row is not None else None
                if current is not None and claim_conflicts(current, record):
                    return ClaimResult("conflict", current)
                new = merge_claim(current, record, discoverable)
                listed, vibes = listing_facts(new)
                values = (
                    new.nick,
                    new.did,
                    json.dumps(new.card, separators=(",", ":"), sort_keys=True),
                    new.slot_id,
                    new.relay_url,
                    new.claimed_at,
                    new.discoverable,
                    listed,
                    vibes,
                    new.proof_text(),
                    new.proven,
                )
                if current is None:
                    inserted = await conn.fetchval(
                        "INSERT INTO wire_handles (nick, did, card, slot_id, relay_url, claimed_at, discoverable, "
                        "listed, vibes, proof, proven) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                        "ON CONFLICT (nick) DO NOTHING RETURNING 1",
                        *values,
                    )
                    if inserted is None:
                        continue  # a concurrent first claim committed: look again (now locked)
                    await conn.execute(BUMP2_SQL, "handle_claims_total", 1, "handle_first_claims_total", 1)
                    return ClaimResult("claimed", new)
                await conn.execute(
                    "UPDATE wire_handles SET did = $2, card = $3, slot_id = $4, relay_url = $5, claimed_at = $6, "
                    "discoverable = $7, listed = $8, vibes = $9, proof = $10, proven = $11 WHERE nick = $1",
                    *values,
                )
                if current.did != new.did:  # a proven claim replaced an unproven one
                    await conn.execute(BUMP2_SQL, "handle_claims_total", 1, "handle_first_claims_total", 1)
                    return ClaimResult("claimed", new)
                await conn.execute(BUMP_SQL, "handle_claims_total", 1)
                return ClaimResult("re-claimed", new)
        raise StoreError(f"claim of {record.nick!r} kept racing with concurrent changes")

    async def get_handle(self, nick: str) -> HandleRecord | None:
        row = await self.pool.fetchrow(_SELECT_HANDLE + "WHERE nick = $1", nick)
        return HandleRecord.from_row(row) if row is not None else None

    async def list_handles(self, *, cursor: str | None, limit: int, vibe: str | None) -> list[HandleRecord]:
        if limit <= 0:
            return []
        rows = await self.pool.fetch(
            _SELECT_HANDLE + "WHERE listed AND nick > $1 "
            "AND ($3::text IS NULL OR $3::text = ANY(vibes)) ORDER BY nick LIMIT $2",
            cursor or "",
            limit,
            vibe,
        )
        return [HandleRecord.from_row(r) for r in rows]

    async def unclaim_handle(self, nick: str, slot_id: str) -> bool:
        deleted = await self.pool.fetchval(
            "DELETE FROM wire_handles WHERE nick = $1 AND slot_id = $2 RETURNING 1", nick, slot_id
        )
        return deleted is not None

    # -- rate, stats ---------------------------------------------------------------------------------

    async def rate_take(self, key: str, capacity: float, refill_per_second: float, now: float) -> float:
        row = await self.pool.fetchrow(
            "INSERT INTO wire_rate AS r (key, tokens, at, ok) "
            "VALUES ($1, CASE WHEN $2 >= 1 THEN $2 - 1 ELSE $2 END, $4, $2 >= 1) "
            "ON CONFLICT (key) DO UPDATE SET "
            "tokens = LEAST($2, r.tokens + GREATEST(0, $4 - r.at) * $3) "
            "- CASE WHEN LEAST($2, r.tokens + GREATEST(0, $4 - r.at) * $3) >= 1 THEN 1 ELSE 0 END, "
            "ok = LEAST($2, r.tokens + GREATEST(0, $4 - r.at) * $3) >= 1, "
            "at = GREATEST(r.at, $4) RETURNING tokens, ok",
            key,
            float(capacity),
            float(refill_per_second),
            float(now),
        )
        if row[1]:
            return 0.0
        if refill_per_second <= 0:
            return float("inf")
        return (1.0 - float(row[0])) / refill_per_second

    async def stats(self, now: float) -> StoreStats:
        async with self.pool.acquire() as conn:
            gauges = await conn.fetchrow(
                "SELECT (SELECT count(*) FROM wire_handles), (SELECT count(*) FROM wire_slots), "
                "(SELECT count(*) FROM wire_pairs WHERE $1 - touched <= $2)",
                now,
                float(PAIR_SLOT_TTL_SECONDS),
            )
            rows = await conn.fetch("SELECT name, sum(value)::bigint FROM wire_counters GROUP BY name")
        counters = dict.fromkeys(COUNTER_NAMES, 0)
        counters.update({r[0]: int(r[1]) for r in rows})
        return StoreStats(
            handles_active=gauges[0], slots_active=gauges[1], pair_slots_open=gauges[2], counters=counters
        )
