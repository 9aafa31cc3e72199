# SPDX-License-Identifier: AGPL-3.0-or-later
"""The PostgreSQL store's schema, its server-side append function and the start-up migration.

Everything lives in tables prefixed ``wire_`` so the relay can share a database with other things.

Events and sequence numbers: ``wire_slots.next_seq`` is the slot's next seq. :data:`APPEND_FUNCTION`
(``wire_append``) locks each slot row it appends to (``SELECT ... FOR UPDATE``), checks
the quota, inserts each event with ``ON CONFLICT (slot, event_id) DO NOTHING`` (UNIQUE constraint:
the database decides duplicates) and advances ``next_seq``/``bytes_used``/``event_count``. Because
the row lock is held until commit, two transactions appending to one slot are strictly serialised:
the one holding seq n+1 cannot start before the one holding n has committed (or rolled back, in
which case n is handed out again) — so no reader can see n+1 without n, in any process.

Counters are sharded by backend (``pg_backend_pid() % 64``) so that appends to different slots do
not all queue on one counter row until commit; ``stats`` sums the shards.

Pulls and rate buckets are UNLOGGED tables: shared by every relay process, never fsynced, emptied
by PostgreSQL after a crash (both are hints: base.py allows losing them on restart).
"""

from __future__ import annotations

from typing import Any

from wire_relay.store._pg_deposits import DEPOSIT_TABLE

__all__ = ["APPEND_SQL", "BUMP2_SQL", "BUMP_SQL", "SCHEMA_VERSION", "migrate"]

SCHEMA_VERSION = 2
#: ``pg_advisory_xact_lock`` key serialising concurrent migrations ("wirerela" as a bigint)
MIGRATION_LOCK = 0x7769726572656C61

_TABLES = """
CREATE TABLE wire_slots (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot_id TEXT NOT NULL UNIQUE,
    token_hash BYTEA NOT NULL,
    created_unix BIGINT NOT NULL,
    bytes_used BIGINT NOT NULL DEFAULT 0,
    event_count BIGINT NOT NULL DEFAULT 0,
    next_seq BIGINT NOT NULL DEFAULT 1,
    responder_health TEXT,
    acked_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE wire_events (
    slot BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    event_id TEXT,
    data BYTEA NOT NULL,
    at BIGINT,
    PRIMARY KEY (slot, seq),
    CONSTRAINT wire_events_dedupe UNIQUE (slot, event_id)
);
CREATE UNLOGGED TABLE wire_pulls (slot_id TEXT PRIMARY KEY, at_unix BIGINT NOT NULL);
CREATE TABLE wire_handles (
    nick TEXT COLLATE "C" PRIMARY KEY,
    did TEXT NOT NULL,
    card TEXT NOT NULL,
    slot_id TEXT NOT NULL,
    relay_url TEXT,
    claimed_at TEXT NOT NULL,
    discoverable BOOLEAN NOT NULL,
    listed BOOLEAN NOT NULL,
    vibes TEXT[] NOT NULL,
    proof TEXT,
    proven BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX wire_handles_listed ON wire_handles (nick) WHERE listed;
CREATE TABLE wire_pairs (
    pair_id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    touched DOUBLE PRECISION NOT NULL,
    host_msg TEXT,
    guest_msg TEXT,
    host_boot TEXT,
    guest_boot TEXT
);
CREATE TABLE wire_invites (
    token TEXT PRIMARY KEY,
    invite_url TEXT NOT NULL,
    expires_unix BIGINT NOT NULL,
    uses_remaining BIGINT,
    created_unix BIGINT NOT NULL
);
CREATE TABLE wire_counters (
    name TEXT NOT NULL,
    shard INTEGER NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (name, shard)
);
CREATE TABLE wire_acks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot BIGINT NOT NULL,
    through_seq BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX wire_acks_by_at ON wire_acks (at);
CREATE INDEX wire_events_at ON wire_events USING brin (at);
CREATE UNLOGGED TABLE wire_rate (
    key TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    ok BOOLEAN NOT NULL
);
"""

#: version 1 → 2: acknowledgements (backlog quota), event time (retention), claim proofs
_UPGRADE_1_TO_2 = """
ALTER TABLE wire_slots ADD COLUMN IF NOT EXISTS acked_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE wire_events ADD COLUMN IF NOT EXISTS at BIGINT;
ALTER TABLE wire_handles ADD COLUMN IF NOT EXISTS proof TEXT;
ALTER TABLE wire_handles ADD COLUMN IF NOT EXISTS proven BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE IF NOT EXISTS wire_acks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot BIGINT NOT NULL,
    through_seq BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS wire_acks_by_at ON wire_acks (at);
CREATE INDEX IF NOT EXISTS wire_events_at ON wire_events USING brin (at);
"""

#: ``wire_append(slot_ids[], event_ids[], datas[], quotas[], count_posted[])`` → one verdict row per
#: item ``(o_index, o_status, o_seq, o_used)``: a group of appends, to one slot or many, in ONE
#: transaction. Slot rows are locked in slot_id order (a fixed order: two groups never deadlock);
#: each slot's items are applied in their order in the arrays.
APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION wire_append(
    p_slots TEXT[], p_ids TEXT[], p_datas BYTEA[], p_quotas BIGINT[], p_counts BOOLEAN[],
    OUT o_index INTEGER, OUT o_status TEXT, OUT o_seq BIGINT, OUT o_used BIGINT
) RETURNS SETOF RECORD LANGUAGE plpgsql AS $fn$
DECLARE
    v_slot TEXT;
    v_found BOOLEAN;
    v_id BIGINT;
    v_used BIGINT;
    v_next BIGINT;
    v_size BIGINT;
    v_stored BIGINT;
    v_posted BIGINT := 0;
    v_i INTEGER;
    v_now BIGINT := extract(epoch FROM clock_timestamp())::bigint;
BEGIN
    FOR v_slot IN SELECT DISTINCT u.s FROM unnest(p_slots) AS u(s) ORDER BY u.s LOOP
        SELECT s.id, s.bytes_used, s.next_seq INTO v_id, v_used, v_next
            FROM wire_slots s WHERE s.slot_id = v_slot FOR UPDATE;
        v_found := FOUND;
        v_stored := 0;
        FOR v_i IN SELECT g FROM generate_subscripts(p_slots, 1) AS g WHERE p_slots[g] = v_slot ORDER BY g LOOP
            o_index := v_i;
            o_seq := NULL;
            o_used := v_used;
            v_size := octet_length(p_datas[v_i]);
            IF NOT v_found THEN
                o_status := 'unknown_slot';
                o_used := 0;
            ELSIF v_used + v_size > p_quotas[v_i] THEN
                o_status := 'quota_exceeded';
            ELSE
                INSERT INTO wire_events (slot, seq, event_id, data, at)
                    VALUES (v_id, v_next, p_ids[v_i], p_datas[v_i], v_now)
                    ON CONFLICT ON CONSTRAINT wire_events_dedupe DO NOTHING;
                IF FOUND THEN
                    o_status := 'stored';
                    o_seq := v_next;
                    v_next := v_next + 1;
                    v_used := v_used + v_size;
                    v_stored := v_stored + 1;
                    o_used := v_used;
                    IF p_counts[v_i] THEN
                        v_posted := v_posted + 1;
                    END IF;
                ELSE
                    o_status := 'duplicate';
                END IF;
            END IF;
            RETURN NEXT;
        END LOOP;
        IF v_stored > 0 THEN
            UPDATE wire_slots SET next_seq = v_next, bytes_used = v_used, event_count = event_count + v_stored
                WHERE id = v_id;
        END IF;
    END LOOP;
    IF v_posted > 0 THEN
        INSERT INTO wire_counters AS c (name, shard, value)
            VALUES ('events_posted_total', pg_backend_pid() % 64, v_posted)
            ON CONFLICT (name, shard) DO UPDATE SET value = c.value + EXCLUDED.value;
    END IF;
END
$fn$;
"""

APPEND_SQL = (
    "SELECT o_index, o_status, o_seq, o_used "
    "FROM wire_append($1::text[], $2::text[], $3::bytea[], $4::bigint[], $5::boolean[])"
)


#: add ``$2`` to counter ``$1`` (in this backend's shard, one of 64)
BUMP_SQL = (
    "INSERT INTO wire_counters AS c (name, shard, value) VALUES ($1::text, pg_backend_pid() % 64, $2::bigint) "
    "ON CONFLICT (name, shard) DO UPDATE SET value = c.value + EXCLUDED.value"
)
#: the same for two counters (``$1``/``$2`` and ``$3``/``$4``), locked in that order
BUMP2_SQL = (
    "INSERT INTO wire_counters AS c (name, shard, value) VALUES ($1::text, pg_backend_pid() % 64, $2::bigint), "
    "($3::text, pg_backend_pid() % 64, $4::bigint) "
    "ON CONFLICT (name, shard) DO UPDATE SET value = c.value + EXCLUDED.value"
)


async def migrate(conn: Any) -> None:
    """Create the schema if missing (idempotent; concurrent openers serialise on an advisory lock).

    Raises RuntimeError if the database was written by a newer relay (unknown schema version).
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS wire_schema_version (version INTEGER NOT NULL)")
        version = await conn.fetchval("SELECT max(version) FROM wire_schema_version")
        if version is None:
            await conn.execute(_TABLES)
            await conn.execute(APPEND_FUNCTION)
            await conn.execute("INSERT INTO wire_schema_version (version) VALUES ($1)", SCHEMA_VERSION)
        elif version < SCHEMA_VERSION:
            await conn.execute(_UPGRADE_1_TO_2)
            await conn.execute(APPEND_FUNCTION)
            await conn.execute("UPDATE wire_schema_version SET version = $1", SCHEMA_VERSION)
        elif version > SCHEMA_VERSION:
            raise RuntimeError(
                f"the database schema is version {version}, newer than this relay understands "
                f"({SCHEMA_VERSION}); upgrade wire-relay"
            )
        await conn.execute(DEPOSIT_TABLE)  # additive: created in place on any version-2 database
