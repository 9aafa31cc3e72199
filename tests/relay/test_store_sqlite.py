# SPDX-License-Identifier: MIT
"""The SQLite store against the shared store contract, plus SQLite-only properties."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.relay.store_contract import NOW, StoreContract, item, new_slot
from wire_relay.store import hash_token, open_store
from wire_relay.store.sqlite import parse_sqlite_url


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/relay.sqlite3"


class TestSQLiteMemoryStore(StoreContract):
    @pytest.fixture
    def store_url(self) -> str:
        return "sqlite://:memory:"

    async def test_reopen_keeps_everything_durable(self) -> None:  # type: ignore[override]
        pytest.skip("an in-memory store is private to one open")


def test_parse_urls(tmp_path: Path) -> None:
    assert parse_sqlite_url("sqlite:///a/b.db") == ("/a/b.db", "NORMAL")
    assert parse_sqlite_url("sqlite://:memory:") == (":memory:", "NORMAL")
    assert parse_sqlite_url("sqlite:///a.db?synchronous=full") == ("/a.db", "FULL")
    for bad in ("sqlite://rel/x.db", "sqlite:///a.db?synchronous=maybe", "postgresql://x"):
        with pytest.raises(ValueError, match=r"."):
            parse_sqlite_url(bad)


def _all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()))


async def test_tokens_are_stored_hashed_only(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    store = await open_store(f"sqlite:///{path}")
    slot_id, token = new_slot()
    await store.allocate_slot(slot_id, token, NOW)
    await store.close()
    raw = _all_bytes(tmp_path)
    assert token.encode() not in raw
    conn = sqlite3.connect(path)
    (stored,) = conn.execute("SELECT token_hash FROM slots").fetchone()
    conn.close()
    assert stored == hash_token(token)


async def test_schema_version_recorded_and_newer_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    await (await open_store(f"sqlite:///{path}")).close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        await open_store(f"sqlite:///{path}")


async def test_open_does_not_scan_events(tmp_path: Path) -> None:
    """Opening cost does not grow with the number of events (nothing is loaded at start-up)."""
    path = tmp_path / "big.sqlite3"
    store = await open_store(f"sqlite:///{path}")
    slot_id, _ = new_slot()
    await store.allocate_slot(slot_id, "t", NOW)
    await store.append_batch(slot_id, [item(f"e{n}") for n in range(1000)])
    await store.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
            "INSERT INTO events (slot, event_id, data) SELECT 1, 'x' || i, zeroblob(300) FROM n"
        )
    conn.close()
    started = time.perf_counter()
    store = await open_store(f"sqlite:///{path}")
    elapsed = time.perf_counter() - started
    assert await store.seq_of(slot_id, "x200000") is not None
    await store.close()
    assert elapsed < 0.5


async def test_version_1_store_is_upgraded_in_place(tmp_path: Path) -> None:
    """A store written before acknowledgements and claim proofs gains their columns on open."""
    path = tmp_path / "v1.sqlite3"
    store = await open_store(f"sqlite:///{path}")
    slot_id, _ = new_slot()
    await store.allocate_slot(slot_id, "t", NOW)
    await store.append(slot_id, item("old"))
    await store.close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP INDEX IF EXISTS acks_by_at")
        conn.execute("DROP INDEX IF EXISTS acks_by_slot")
        conn.execute("DROP TABLE acks")
        for table, column in (("slots", "acked_seq"), ("events", "at"), ("handles", "proof"), ("handles", "proven")):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("UPDATE schema_version SET version = 1")
    conn.close()
    store = await open_store(f"sqlite:///{path}")
    try:
        assert await store.list_events(slot_id, None, 10) == [item("old").data]
        result = await store.ack(slot_id, "old", NOW)
        assert result is not None
        assert result.backlog_bytes == 0
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
    conn.close()
