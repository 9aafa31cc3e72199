# SPDX-License-Identifier: MIT
"""The PostgreSQL store: the shared contract, PostgreSQL-only properties, and several relays as one.

Everything runs against ONE real server per session (``tests.helpers.postgres``), a fresh database
per test. Layers:

* :class:`TestPostgresStore` — the conformance suite (``store_contract.py``);
* single-store properties (schema version, concurrent migration, hashed tokens, no start-up scan);
* two ``PostgresStore`` instances (two pools, two LISTEN connections) on one database: dedupe,
  handles, pair slots, invites, rate buckets, counters, last pull and wake-ups cross between them;
  the seq visibility rule under concurrent writers; the listener reconnecting;
* two real relay PROCESSES on one database (``tests.helpers.relay_process``): allocate on A / post
  on B / list on A, cross-process duplicate, SSE on A of an event posted on B, and kill -9 of one
  process under load losing no acknowledged event.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import postgres as pg
from tests.helpers.relay_process import RelayProcess
from tests.relay.store_contract import NOW, TTL, StoreContract, handle, item, new_slot
from wire_relay.store import InviteRecord, Store, hash_token, open_store, redact_url
from wire_relay.store._pg_channel import PAYLOAD_MAX, payloads
from wire_relay.store.postgres import PostgresStore, parse_postgres_url

pytestmark = pytest.mark.postgres

pg_server = pg.pg_server
fresh_pg_url = pg.fresh_pg_url

WAIT = 10.0  # bound on every wait for something another process/connection does


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store_url(self, fresh_pg_url: str) -> str:
        return fresh_pg_url


async def _open(url: str) -> PostgresStore:
    store = await open_store(url)
    assert isinstance(store, PostgresStore)
    return store


@pytest.fixture
async def pair_of_stores(fresh_pg_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores (two pools, two listeners) on one database: what two relay processes hold."""
    a = await _open(fresh_pg_url)
    b = await _open(fresh_pg_url)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def _slot(store: Store) -> tuple[str, str]:
    slot_id, token = new_slot()
    await store.allocate_slot(slot_id, token, NOW)
    return slot_id, token


# ------------------------------------------------------------------------------------ URLs, packaging


def test_parse_urls() -> None:
    dsn, lo, hi = parse_postgres_url("postgresql://u:p@h:5433/db")
    assert (dsn, lo, hi) == ("postgresql://u:p@h:5433/db", 1, 16)
    dsn, lo, hi = parse_postgres_url("postgres://u@h/db?pool_max=4&sslmode=disable&pool_min=0")
    assert (dsn, lo, hi) == ("postgresql://u@h/db?sslmode=disable", 0, 4)
    for bad in ("sqlite:///x", "postgresql://h/db?pool_max=x", "postgresql://h/db?pool_min=5&pool_max=2"):
        with pytest.raises(ValueError, match=r"."):
            parse_postgres_url(bad)
    assert "secret" not in redact_url("postgresql://u:secret@h:5432/db")


async def test_missing_asyncpg_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    with pytest.raises(ImportError, match=r"wire-relay\[postgres\]"):
        await open_store("postgresql://postgres@127.0.0.1:1/none")


def test_payloads_stay_under_the_notify_limit() -> None:
    ids = [f"{n:032x}" for n in range(1000)]
    chunks = payloads(ids)
    assert len(chunks) > 1
    assert all(len(c.encode()) <= PAYLOAD_MAX for c in chunks)
    assert [s for c in chunks for s in c.split(",")] == ids


# ------------------------------------------------------------------------------------- single store


async def test_schema_version_recorded_and_newer_refused(fresh_pg_url: str) -> None:
    store = await _open(fresh_pg_url)
    assert await store.pool.fetchval("SELECT version FROM wire_schema_version") == 2
    await store.pool.execute("UPDATE wire_schema_version SET version = 99")
    await store.close()
    with pytest.raises(RuntimeError, match="newer"):
        await open_store(fresh_pg_url)


async def test_processes_starting_at_once_migrate_once(fresh_pg_url: str) -> None:
    stores = await asyncio.gather(*(_open(fresh_pg_url) for _ in range(4)))
    try:
        assert await stores[0].pool.fetchval("SELECT count(*) FROM wire_schema_version") == 1
        slot_id, _ = await _slot(stores[1])
        assert await stores[3].slot_exists(slot_id)
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_tokens_are_stored_hashed_only(fresh_pg_url: str) -> None:
    store = await _open(fresh_pg_url)
    try:
        slot_id, token = await _slot(store)
        rows = await store.pool.fetch("SELECT * FROM wire_slots")
        assert len(rows) == 1
        assert bytes(rows[0]["token_hash"]) == hash_token(token)
        assert all(token not in str(v) for v in rows[0].values())
        assert slot_id == rows[0]["slot_id"]
    finally:
        await store.close()


async def test_open_does_not_scan_events(fresh_pg_url: str) -> None:
    store = await _open(fresh_pg_url)
    slot_id, _ = await _slot(store)
    await store.pool.execute(
        "INSERT INTO wire_events (slot, seq, event_id, data) "
        "SELECT 1, g, 'x' || g, convert_to(repeat('y', 300), 'UTF8') FROM generate_series(1, 100000) AS g"
    )
    await store.pool.execute("UPDATE wire_slots SET next_seq = 100001, event_count = 100000")
    await store.close()
    started = time.perf_counter()
    store = await _open(fresh_pg_url)
    elapsed = time.perf_counter() - started
    try:
        assert await store.seq_of(slot_id, "x100000") == 100000
        assert await store.last_seq(slot_id) == 100000
        assert (await store.append(slot_id, item("next"))).seq == 100001
    finally:
        await store.close()
    assert elapsed < 1.0


async def test_grouped_appends_keep_per_item_verdicts(fresh_pg_url: str) -> None:
    """Concurrent single appends share transactions (group commit) but keep their own verdicts."""
    store = await _open(fresh_pg_url)
    try:
        s1, _ = await _slot(store)
        s2, _ = await _slot(store)
        calls = [
            store.append(s1, item("a")),
            store.append("f" * 32, item("a")),
            store.append(s2, item("a", 100), quota=150),
            store.append(s1, item("a")),
            store.append(s2, item("b", 100), quota=150),
            store.append(s1, item("intro"), count_posted=False),
            *(store.append(s1 if n % 2 else s2, item(f"n{n}")) for n in range(100)),
        ]
        results = await asyncio.gather(*calls)
        assert [r.status for r in results[:6]] == [
            "stored",
            "unknown_slot",
            "stored",
            "duplicate",
            "quota_exceeded",
            "stored",
        ]
        assert results[4].slot_bytes_used == 100
        assert all(r.status == "stored" for r in results[6:])  # the quota is per call: theirs is the default
        assert await store.last_seq(s1) == 52
        assert [e.seq for e in await store.list_since_seq(s1, 0, 1000)] == list(range(1, 53))
        assert [e.seq for e in await store.list_since_seq(s2, 0, 1000)] == list(range(1, 52))
        stats = await store.stats(NOW)
        assert stats.counters["events_posted_total"] == 2 + 100  # the intro is not counted
        groups = await store.pool.fetchval("SELECT count(DISTINCT xmin::text) FROM wire_events")
        assert groups < 103, "appends were not grouped into shared transactions"
    finally:
        await store.close()


async def test_sweep_deletes_expired_rows(fresh_pg_url: str) -> None:
    store = await _open(fresh_pg_url)
    try:
        await store.pair_open("code", "host", "M", "1" * 32, NOW)
        rec = InviteRecord(token="ab", invite_url="wire://x", expires_unix=int(NOW), uses_remaining=1, created_unix=0)
        await store.invite_register(rec)
        await store.rate_take("k", 1, 1.0, NOW)
        await store.sweep(NOW + 2 * 86400)
        for table in ("wire_pairs", "wire_invites", "wire_rate"):
            assert await store.pool.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    finally:
        await store.close()


# -------------------------------------------------------------------------------- two stores as one


async def test_dedupe_across_stores(pair_of_stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = pair_of_stores
    slot_id, _ = await _slot(a)
    ids = [f"id{n % 40}" for n in range(160)]
    results = await asyncio.gather(*((a if n % 2 else b).append(slot_id, item(i)) for n, i in enumerate(ids)))
    stored = [r for r in results if r.status == "stored"]
    assert len(stored) == 40
    assert sum(r.status == "duplicate" for r in results) == 120
    assert sorted(r.seq for r in stored if r.seq is not None) == list(range(1, 41))
    assert len(await b.list_events(slot_id, None, 1000)) == 40
    assert (await a.stats(NOW)).counters["events_posted_total"] == 40


async def test_quota_is_shared(pair_of_stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = pair_of_stores
    slot_id, _ = await _slot(a)
    results = await asyncio.gather(
        *((a if n % 2 else b).append(slot_id, item(f"q{n}", 100), quota=1000) for n in range(30))
    )
    assert sum(r.status == "stored" for r in results) == 10
    assert sum(r.status == "quota_exceeded" for r in results) == 20


async def test_seq_visibility_is_a_prefix_under_concurrent_writers(
    pair_of_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    """No reader ever sees seq n+1 before n (the SSE cursor relies on it), with writers in two pools."""
    a, b = pair_of_stores
    slot_id, _ = await _slot(a)
    snapshots: list[list[int]] = []
    writing = True

    async def writer(store: PostgresStore, name: str) -> None:
        for n in range(40):
            if n % 5 == 0:
                await store.append_batch(slot_id, [item(f"{name}-{n}-{k}") for k in range(3)])
            else:
                await store.append(slot_id, item(f"{name}-{n}"))

    async def reader(store: PostgresStore) -> None:
        while writing:
            snapshots.append([e.seq for e in await store.list_since_seq(slot_id, 0, 10_000)])

    readers = [asyncio.create_task(reader(a)), asyncio.create_task(reader(b))]
    await asyncio.gather(*(writer(a if w % 2 else b, f"w{w}") for w in range(8)))
    writing = False
    await asyncio.gather(*readers)
    final = [e.seq for e in await a.list_since_seq(slot_id, 0, 10_000)]
    assert final == list(range(1, 8 * (32 + 8 * 3) + 1))
    assert len(snapshots) > 5
    for snap in snapshots:
        assert snap == final[: len(snap)]
    assert await b.last_seq(slot_id) == final[-1]


async def test_handles_first_come_first_served_across_stores(
    pair_of_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = pair_of_stores
    slot_id, _ = await _slot(a)
    results = await asyncio.gather(
        *(
            (a if n % 2 else b).claim_handle(handle("zoe", f"did:wire:zoe-{n:08x}", slot_id), discoverable=None)
            for n in range(12)
        )
    )
    assert sum(r.status == "claimed" for r in results) == 1
    assert sum(r.status == "conflict" for r in results) == 11
    winner = next(r.record.did for r in results if r.status == "claimed")
    again = await b.claim_handle(handle("zoe", winner, slot_id), discoverable=False)
    assert again.status == "re-claimed"
    got = await a.get_handle("zoe")
    assert got is not None
    assert (got.did, got.discoverable) == (winner, False)
    assert (await a.stats(NOW)).counters["handle_first_claims_total"] == 1


async def test_pair_slot_is_seen_by_every_store(pair_of_stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = pair_of_stores
    host = await a.pair_open("chx", "host", "HOST", "1" * 32, NOW)
    guest = await b.pair_open("chx", "guest", "GUEST", "2" * 32, NOW + 1)
    assert guest.pair_id == host.pair_id == "1" * 32
    assert (await a.pair_open("chx", "guest", "AGAIN", "3" * 32, NOW + 2)).conflict
    peer = await b.pair_get(host.pair_id, "guest", NOW + 2)
    assert peer is not None
    assert peer.peer_msg == "HOST"
    assert await b.pair_set_bootstrap(host.pair_id, "guest", "SEALED", NOW + 3)
    peer = await a.pair_get(host.pair_id, "host", NOW + 4)
    assert peer is not None
    assert (peer.peer_msg, peer.peer_bootstrap) == ("GUEST", "SEALED")
    assert (await b.stats(NOW + 4)).pair_slots_open == 1
    assert await a.pair_get(host.pair_id, "host", NOW + 4 + TTL + 1) is None  # idle past TTL: evicted
    assert await b.pair_get(host.pair_id, "guest", NOW + 4) is None
    assert (await b.stats(NOW)).counters["pair_opens_total"] == 2


async def test_concurrent_pair_opens_across_stores_make_one_slot(
    pair_of_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = pair_of_stores
    results = await asyncio.gather(
        a.pair_open("race", "host", "H", "a" * 32, NOW), b.pair_open("race", "guest", "G", "b" * 32, NOW)
    )
    assert results[0].pair_id == results[1].pair_id
    assert not any(r.conflict for r in results)


async def test_invite_uses_are_shared(pair_of_stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = pair_of_stores
    rec = InviteRecord(
        token="c0ffee", invite_url="wire://i", expires_unix=int(NOW) + 60, uses_remaining=3, created_unix=0
    )
    assert await a.invite_register(rec)
    assert not await b.invite_register(rec)
    results = await asyncio.gather(*((a if n % 2 else b).invite_take("C0FFEE", NOW, consume=True) for n in range(10)))
    assert sum(r.status == "ok" for r in results) == 3
    assert (await a.invite_take("c0ffee", NOW, consume=False)).status == "used_up"


async def test_rate_buckets_counters_and_pulls_are_shared(
    pair_of_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = pair_of_stores
    assert await a.rate_take("ip:1", 2, 1.0, NOW) == 0.0
    assert await b.rate_take("ip:1", 2, 1.0, NOW) == 0.0
    assert await a.rate_take("ip:1", 2, 1.0, NOW) > 0
    assert await b.rate_take("ip:1", 2, 1.0, NOW + 1) == 0.0
    slot_id, _ = await _slot(a)
    await b.touch_pull(slot_id, NOW + 7.9)
    state = await a.slot_state(slot_id)
    assert state is not None
    assert state.last_pull_at_unix == int(NOW + 7)
    await a.touch_pull(slot_id, NOW + 3)  # an older pull from a slower process never moves it back
    state = await b.slot_state(slot_id)
    assert state is not None
    assert state.last_pull_at_unix == int(NOW + 7)
    await b.allocate_slot(new_slot()[0], "t", NOW)
    assert (await a.stats(NOW)).counters["slot_allocations_total"] == 2
    assert (await b.stats(NOW)).slots_active == 2


async def test_wake_up_crosses_stores(pair_of_stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = pair_of_stores
    slot_id, _ = await _slot(a)
    other, _ = await _slot(a)
    with b.subscribe(slot_id) as sub, b.subscribe(other) as quiet, a.subscribe(slot_id) as local:
        started = time.perf_counter()
        await a.append(slot_id, item("x"))
        assert await local.wait(0)  # same process: woken at commit, before the NOTIFY round trip
        assert await sub.wait(WAIT)
        latency = time.perf_counter() - started
        assert [e.event_id for e in await b.list_since_seq(slot_id, 0, 10)] == ["x"]
        await a.append_batch(slot_id, [item("y"), item("z")])
        assert await sub.wait(WAIT)
        assert not await quiet.wait(0.05)
        # a duplicate stores nothing, so it wakes nobody
        await a.append(slot_id, item("x"))
        assert not await sub.wait(0.05)
    assert latency < 1.0


async def test_many_slots_woken_in_one_round(pair_of_stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = pair_of_stores
    slots = [(await _slot(a))[0] for _ in range(300)]
    subs = [b.subscribe(s) for s in slots]
    try:
        await asyncio.gather(*(a.append(s, item("e")) for s in slots))
        woken = await asyncio.gather(*(sub.wait(WAIT) for sub in subs))
        assert all(woken)
    finally:
        for sub in subs:
            sub.close()


async def test_listener_reconnects_and_wakes_everyone(pair_of_stores: tuple[PostgresStore, PostgresStore]) -> None:
    a, b = pair_of_stores
    slot_id, _ = await _slot(a)
    assert b._channel is not None
    connects = b._channel.connects
    with b.subscribe(slot_id) as sub:
        assert await a.pool.fetchval("SELECT pg_terminate_backend($1)", b._channel.pid)
        assert await sub.wait(WAIT)  # the spurious wake-up after re-LISTEN: re-read what may be missed
        assert b._channel.connects == connects + 1
        await a.append(slot_id, item("after-reconnect"))
        assert await sub.wait(WAIT)


async def test_close_is_idempotent_and_refuses_use(fresh_pg_url: str) -> None:
    store = await _open(fresh_pg_url)
    await store.close()
    await store.close()
    with pytest.raises(Exception, match="not open"):
        await store.slot_exists("x")


# ----------------------------------------------------------------------- two relay processes, one DB


@pytest.fixture
def relays(tmp_path: Path, fresh_pg_url: str) -> Any:
    """Two ``wire-relay`` processes on one database (A and B)."""
    with (
        RelayProcess(tmp_path / "a", store_url=fresh_pg_url) as a,
        RelayProcess(tmp_path / "b", store_url=fresh_pg_url) as b,
    ):
        yield a, b


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _event(event_id: str) -> dict[str, Any]:
    return {"event": {"event_id": event_id, "kind": 1, "type": "note", "body": {"text": "x" * 200}}}


async def _allocate(http: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    async with http.post(f"{base}/v1/slot/allocate", json={}) as resp:
        assert resp.status == 201, await resp.text()
        body = await resp.json()
    return body["slot_id"], body["slot_token"]


async def _list_all(http: aiohttp.ClientSession, base: str, slot_id: str, token: str) -> list[str]:
    ids: list[str] = []
    since: str | None = None
    while True:
        params = {"limit": "1000", **({"since": since} if since else {})}
        async with http.get(f"{base}/v1/events/{slot_id}", params=params, headers=_bearer(token)) as resp:
            assert resp.status == 200, await resp.text()
            page = await resp.json()
        ids += [e["event_id"] for e in page]
        if len(page) < 1000:
            return ids
        since = ids[-1]


async def test_two_relay_processes_act_as_one(relays: tuple[RelayProcess, RelayProcess]) -> None:
    a, b = relays
    assert a.mode == b.mode == "public"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
        slot_id, token = await _allocate(http, a.url)
        async with http.post(f"{b.url}/v1/events/{slot_id}", json=_event("e1"), headers=_bearer(token)) as resp:
            assert resp.status == 201
        async with http.post(f"{a.url}/v1/events/{slot_id}", json=_event("e1"), headers=_bearer(token)) as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "duplicate"
        assert await _list_all(http, a.url, slot_id, token) == ["e1"]
        async with http.get(f"{b.url}/v1/events/{slot_id}", headers=_bearer("0" * 64)) as resp:
            assert resp.status == 403

        # SSE on A (live only), event posted on B
        stream = await http.get(f"{a.url}/v1/events/{slot_id}/stream", headers=_bearer(token))
        try:
            assert stream.status == 200
            async with http.post(f"{b.url}/v1/events/{slot_id}", json=_event("e2"), headers=_bearer(token)) as resp:
                assert resp.status == 201
            async with asyncio.timeout(WAIT):
                lines = []
                while b"e2" not in b"".join(lines):
                    line = await stream.content.readline()
                    assert line, "stream ended"
                    lines.append(line)
            assert b"id: e2\n" in lines
        finally:
            stream.close()


async def test_kill_9_under_load_loses_no_acknowledged_event(relays: tuple[RelayProcess, RelayProcess]) -> None:
    a, b = relays
    acked: dict[str, int] = {}
    unacked: list[str] = []
    killed = asyncio.Event()
    enough = asyncio.Event()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
        slot_id, token = await _allocate(http, b.url)

        async def poster(worker: int) -> None:
            for n in range(10_000):
                if killed.is_set() and n % 2 == 0:
                    return
                event_id = f"w{worker}-{n}"
                base = a.url if n % 2 else b.url
                try:
                    async with http.post(
                        f"{base}/v1/events/{slot_id}", json=_event(event_id), headers=_bearer(token)
                    ) as resp:
                        if resp.status in (200, 201):
                            acked[event_id] = resp.status
                        else:
                            unacked.append(event_id)
                except (aiohttp.ClientError, TimeoutError):
                    unacked.append(event_id)
                    if killed.is_set():
                        return
                if len(acked) >= 400:
                    enough.set()

        workers = [asyncio.create_task(poster(w)) for w in range(16)]
        async with asyncio.timeout(60):
            await enough.wait()
        a.kill()  # SIGKILL while requests are in flight on it
        killed.set()
        async with asyncio.timeout(60):
            await asyncio.gather(*workers)
        await asyncio.to_thread(a.start)
        # whatever was in flight when A died: retrying through either process is 201 or 200, never twice
        for n, event_id in enumerate(unacked):
            base = a.url if n % 2 else b.url
            async with http.post(f"{base}/v1/events/{slot_id}", json=_event(event_id), headers=_bearer(token)) as resp:
                assert resp.status in (200, 201), await resp.text()
                acked[event_id] = resp.status
        listed = await _list_all(http, a.url, slot_id, token)
    assert len(listed) == len(set(listed)), "an event is stored twice"
    assert set(listed) == set(acked), "an acknowledged event is missing (or an unknown one appeared)"
    assert len(acked) >= 400


async def test_relay_process_on_postgres_restarts_cleanly(relays: tuple[RelayProcess, RelayProcess]) -> None:
    a, b = relays
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
        slot_id, token = await _allocate(http, a.url)
        async with http.post(f"{a.url}/v1/events/{slot_id}", json=_event("keep"), headers=_bearer(token)) as resp:
            assert resp.status == 201
        assert a.terminate() == 0  # graceful: store closed cleanly
        assert await _list_all(http, b.url, slot_id, token) == ["keep"]
        await asyncio.to_thread(a.start)
        assert await _list_all(http, a.url, slot_id, token) == ["keep"]
    assert "Traceback" not in a.stderr_tail(200) + b.stderr_tail(200)
