# SPDX-License-Identifier: MIT
"""Conformance suite every :class:`wire_relay.store.Store` implementation must pass.

Plug a new store in by subclassing :class:`StoreContract` in a ``test_*.py`` module and providing a
``store_url`` fixture that yields a URL of a FRESH, empty store (e.g. a new database per test)::

    class TestPostgresStore(StoreContract):
        @pytest.fixture
        def store_url(self, fresh_pg_database: str) -> str:
            return fresh_pg_database

The suite opens the URL with :func:`wire_relay.store.open_store` (the ``store`` fixture) and, for
the restart tests, opens it a second time after closing the first (``reopen``). Everything passes
``now`` explicitly; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from wire_relay.store import (
    COUNTER_NAMES,
    EventItem,
    HandleRecord,
    InviteRecord,
    SlotExistsError,
    Store,
    TokenCheck,
    open_store,
)

NOW = 1_800_000_000.0
TTL = 300


def new_slot() -> tuple[str, str]:
    return secrets.token_hex(16), secrets.token_hex(32)


def item(event_id: str | None, size: int = 40) -> EventItem:
    """An event whose stored form is exactly ``size`` bytes (at least its minimal JSON)."""
    head = f'{{"event_id":"{event_id}","p":"' if event_id else '{"p":"'
    body = "x" * max(0, size - len(head) - 2)
    return EventItem(event_id=event_id, data=f'{head}{body}"}}'.encode())


def handle(nick: str, did: str, slot_id: str, *, profile: dict[str, object] | None = None) -> HandleRecord:
    card: dict[str, object] = {"did": did, "handle": nick, "signature": "sig"}
    if profile is not None:
        card["profile"] = profile
    return HandleRecord(
        nick=nick,
        did=did,
        card=card,  # type: ignore[arg-type]
        slot_id=slot_id,
        relay_url=None,
        claimed_at="2027-01-15T08:00:00Z",
    )


class StoreContract:
    """Subclass and provide ``store_url``. Test names say the rule they check."""

    @pytest.fixture
    def store_url(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    async def store(self, store_url: str) -> AsyncIterator[Store]:
        opened = await open_store(store_url)
        try:
            yield opened
        finally:
            await opened.close()

    @pytest.fixture
    def reopen(self, store_url: str) -> Callable[[], Awaitable[Store]]:
        async def _reopen() -> Store:
            return await open_store(store_url)

        return _reopen

    async def slot(self, store: Store) -> tuple[str, str]:
        slot_id, token = new_slot()
        await store.allocate_slot(slot_id, token, NOW)
        return slot_id, token

    # ------------------------------------------------------------------------------------- slots

    async def test_token_check_verdicts(self, store: Store) -> None:
        slot_id, token = await self.slot(store)
        assert await store.check_token(slot_id, token) is TokenCheck.OK
        assert await store.check_token(slot_id, "0" * 64) is TokenCheck.BAD_TOKEN
        assert await store.check_token(slot_id, "") is TokenCheck.BAD_TOKEN
        assert await store.check_token("f" * 32, token) is TokenCheck.UNKNOWN_SLOT
        assert await store.slot_exists(slot_id)
        assert not await store.slot_exists("e" * 32)

    async def test_allocate_twice_raises(self, store: Store) -> None:
        slot_id, token = await self.slot(store)
        with pytest.raises(SlotExistsError):
            await store.allocate_slot(slot_id, token, NOW)

    # ------------------------------------------------------------------------------------ events

    async def test_append_stored_duplicate_and_no_id(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        first = await store.append(slot_id, item("a"))
        assert first.status == "stored"
        assert first.seq is not None
        dup = await store.append(slot_id, item("a"))
        assert dup.status == "duplicate"
        assert dup.seq is None
        n1 = await store.append(slot_id, item(None))
        n2 = await store.append(slot_id, item(None))
        assert n1.status == n2.status == "stored"
        assert n1.seq is not None
        assert n2.seq is not None
        assert first.seq < n1.seq < n2.seq
        assert await store.list_events(slot_id, None, 100) == [item("a").data, item(None).data, item(None).data]

    async def test_same_event_id_in_two_slots_is_not_a_duplicate(self, store: Store) -> None:
        s1, _ = await self.slot(store)
        s2, _ = await self.slot(store)
        assert (await store.append(s1, item("same"))).status == "stored"
        assert (await store.append(s2, item("same"))).status == "stored"

    async def test_append_unknown_slot(self, store: Store) -> None:
        assert (await store.append("a" * 32, item("x"))).status == "unknown_slot"

    async def test_quota_checked_before_dedupe(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        ok = await store.append(slot_id, item("a", 100), quota=250)
        assert ok.status == "stored"
        assert ok.slot_bytes_used == 100
        assert (await store.append(slot_id, item("b", 100), quota=250)).status == "stored"
        over = await store.append(slot_id, item("c", 100), quota=250)
        assert over.status == "quota_exceeded"
        assert over.slot_bytes_used == 200
        # a duplicate of a stored event is still refused by quota first (reference order)
        assert (await store.append(slot_id, item("a", 100), quota=250)).status == "quota_exceeded"
        assert (await store.append(slot_id, item("d", 50), quota=250)).status == "stored"
        assert len(await store.list_events(slot_id, None, 100)) == 3

    async def test_list_since_is_exclusive_and_unknown_since_replays(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        for n in range(5):
            await store.append(slot_id, item(f"e{n}"))
        datas = [item(f"e{n}").data for n in range(5)]
        assert await store.list_events(slot_id, "e1", 100) == datas[2:]
        assert await store.list_events(slot_id, "e4", 100) == []
        assert await store.list_events(slot_id, "nope", 100) == datas
        assert await store.list_events(slot_id, None, 2) == datas[:2]
        assert await store.list_events(slot_id, "e0", 0) == []
        assert await store.list_events("b" * 32, None, 10) == []

    async def test_seq_queries(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        assert await store.last_seq(slot_id) == 0
        seqs = [(await store.append(slot_id, item(f"e{n}"))).seq for n in range(4)]
        assert await store.seq_of(slot_id, "e2") == seqs[2]
        assert await store.seq_of(slot_id, "zz") is None
        assert await store.last_seq(slot_id) == seqs[3]
        assert seqs[1] is not None
        after = await store.list_since_seq(slot_id, seqs[1], 100)
        assert [e.event_id for e in after] == ["e2", "e3"]
        assert [e.seq for e in after] == seqs[2:]
        assert after[0].data == item("e2").data
        assert [e.event_id for e in await store.list_since_seq(slot_id, 0, 1)] == ["e0"]

    async def test_batch_verdicts_in_one_call(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        await store.append(slot_id, item("old"))
        results = await store.append_batch(
            slot_id, [item("a", 100), item("old"), item("a"), item(None), item("b", 200)], quota=300
        )
        assert [r.status for r in results] == ["stored", "duplicate", "duplicate", "stored", "quota_exceeded"]
        stored_seqs = [r.seq for r in results if r.status == "stored"]
        assert stored_seqs == sorted(stored_seqs)
        assert len(await store.list_events(slot_id, None, 100)) == 3
        assert [r.status for r in await store.append_batch("c" * 32, [item("z")])] == ["unknown_slot"]
        assert await store.append_batch(slot_id, []) == []

    async def test_concurrent_appends_dedupe_exactly_once(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        ids = [f"id{n % 50}" for n in range(200)]
        results = await asyncio.gather(*(store.append(slot_id, item(i)) for i in ids))
        stored = [r for r in results if r.status == "stored"]
        assert len(stored) == 50
        assert len({r.seq for r in stored}) == 50
        assert sum(r.status == "duplicate" for r in results) == 150
        assert len(await store.list_events(slot_id, None, 1000)) == 50

    async def test_subscribe_wakes_after_commit(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        other, _ = await self.slot(store)
        with store.subscribe(slot_id) as sub, store.subscribe(other) as quiet:
            assert not await sub.wait(0)
            await store.append(slot_id, item("w"))
            assert await sub.wait(5)
            events = await store.list_since_seq(slot_id, 0, 10)
            assert [e.event_id for e in events] == ["w"]
            assert not await quiet.wait(0.05)
            await store.append_batch(slot_id, [item("w2")])
            assert await sub.wait(5)

    # -------------------------------------------------------------------------------- slot state

    async def test_slot_state_and_responder_health(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        state = await store.slot_state(slot_id)
        assert state is not None
        assert (state.event_count, state.last_pull_at_unix, state.responder_health) == (0, None, None)
        await store.append(slot_id, item("a"))
        await store.append(slot_id, item("a"))
        await store.touch_pull(slot_id, NOW + 5.7)
        health = {"status": "online", "set_at": "2027-01-01T00:00:00Z"}
        await store.set_responder_health(slot_id, health)  # type: ignore[arg-type]
        state = await store.slot_state(slot_id)
        assert state is not None
        assert state.event_count == 1
        assert state.last_pull_at_unix == int(NOW + 5)
        assert state.responder_health == health
        assert await store.slot_state("d" * 32) is None

    # ----------------------------------------------------------------------------------- handles

    async def test_claim_reclaim_conflict(self, store: Store) -> None:
        slot_a, _ = await self.slot(store)
        slot_b, _ = await self.slot(store)
        first = await store.claim_handle(handle("alice", "did:wire:alice-00000001", slot_a), discoverable=False)
        assert first.status == "claimed"
        again = await store.claim_handle(handle("alice", "did:wire:alice-00000001", slot_b), discoverable=None)
        assert again.status == "re-claimed"
        assert again.record.slot_id == slot_b
        assert again.record.discoverable is False  # omitted on re-claim keeps the previous value
        other = await store.claim_handle(handle("alice", "did:wire:alice-99999999", slot_a), discoverable=True)
        assert other.status == "conflict"
        assert other.record.did == "did:wire:alice-00000001"
        got = await store.get_handle("alice")
        assert got is not None
        assert got.slot_id == slot_b
        assert got.card["did"] == "did:wire:alice-00000001"
        assert await store.get_handle("bob") is None
        stats = await store.stats(NOW)
        assert stats.counters["handle_claims_total"] == 2
        assert stats.counters["handle_first_claims_total"] == 1
        assert stats.handles_active == 1

    async def test_concurrent_claims_have_one_winner(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        results = await asyncio.gather(
            *(store.claim_handle(handle("zed", f"did:wire:zed-{n:08x}", slot_id), discoverable=None) for n in range(10))
        )
        assert sum(r.status == "claimed" for r in results) == 1
        assert sum(r.status == "conflict" for r in results) == 9

    async def test_list_handles_filters_and_pages(self, store: Store) -> None:
        slot_id, _ = await self.slot(store)
        for nick in ("carol", "alice", "bob", "demo-x", "test-y", "dave"):
            await store.claim_handle(
                handle(nick, f"did:wire:{nick}-00000001", slot_id, profile={"vibe": ["Chill", "music"]}),
                discoverable=None,
            )
        await store.claim_handle(handle("hidden", "did:wire:hidden-00000001", slot_id), discoverable=False)
        await store.claim_handle(
            handle("unlisted", "did:wire:unlisted-00000001", slot_id, profile={"listed": False}), discoverable=None
        )
        await store.claim_handle(handle("eve", "did:wire:eve-00000001", slot_id), discoverable=True)
        page = await store.list_handles(cursor=None, limit=3, vibe=None)
        assert [r.nick for r in page] == ["alice", "bob", "carol"]
        page = await store.list_handles(cursor="carol", limit=3, vibe=None)
        assert [r.nick for r in page] == ["dave", "eve"]
        vibed = await store.list_handles(cursor=None, limit=10, vibe="chill")
        assert [r.nick for r in vibed] == ["alice", "bob", "carol", "dave"]
        assert await store.list_handles(cursor=None, limit=10, vibe="nope") == []

    async def test_unclaim_only_for_bound_slot(self, store: Store) -> None:
        slot_a, _ = await self.slot(store)
        slot_b, _ = await self.slot(store)
        await store.claim_handle(handle("frank", "did:wire:frank-00000001", slot_a), discoverable=None)
        assert not await store.unclaim_handle("frank", slot_b)
        assert await store.unclaim_handle("frank", slot_a)
        assert await store.get_handle("frank") is None
        assert not await store.unclaim_handle("frank", slot_a)
        again = await store.claim_handle(handle("frank", "did:wire:frank-00000002", slot_b), discoverable=None)
        assert again.status == "claimed"

    # -------------------------------------------------------------------------------- pair slots

    async def test_pair_open_join_conflict_and_peer_data(self, store: Store) -> None:
        host = await store.pair_open("ch1", "host", "HOSTMSG", "1" * 32, NOW)
        assert (host.pair_id, host.conflict) == ("1" * 32, False)
        guest = await store.pair_open("ch1", "guest", "GUESTMSG", "2" * 32, NOW + 1)
        assert (guest.pair_id, guest.conflict) == ("1" * 32, False)
        dup = await store.pair_open("ch1", "host", "OTHER", "3" * 32, NOW + 2)
        assert dup.conflict
        assert dup.pair_id == "1" * 32
        peer = await store.pair_get("1" * 32, "host", NOW + 3)
        assert peer is not None
        assert (peer.peer_msg, peer.peer_bootstrap) == ("GUESTMSG", None)
        assert await store.pair_set_bootstrap("1" * 32, "guest", "SEALED", NOW + 4)
        assert await store.pair_set_bootstrap("1" * 32, "guest", "SEALED2", NOW + 4)  # overwrite allowed
        peer = await store.pair_get("1" * 32, "host", NOW + 5)
        assert peer is not None
        assert (peer.peer_msg, peer.peer_bootstrap) == ("GUESTMSG", "SEALED2")
        peer = await store.pair_get("1" * 32, "guest", NOW + 5)
        assert peer is not None
        assert (peer.peer_msg, peer.peer_bootstrap) == ("HOSTMSG", None)
        assert await store.pair_get("9" * 32, "host", NOW) is None
        assert not await store.pair_set_bootstrap("9" * 32, "host", "x", NOW)
        assert (await store.stats(NOW + 5)).pair_slots_open == 1
        assert (await store.stats(NOW)).counters["pair_opens_total"] == 2

    async def test_pair_ttl_and_abandon(self, store: Store) -> None:
        await store.pair_open("ch2", "host", "M", "4" * 32, NOW)
        assert await store.pair_get("4" * 32, "host", NOW + TTL - 1) is not None  # a read: no touch
        assert await store.pair_set_bootstrap("4" * 32, "host", "B", NOW + TTL - 1)  # a write touches
        assert await store.pair_get("4" * 32, "host", NOW + 2 * TTL - 2) is not None  # still alive via the write
        assert await store.pair_get("4" * 32, "host", NOW + 3 * TTL) is None
        again = await store.pair_open("ch2", "host", "M", "5" * 32, NOW + 3 * TTL)
        assert again.pair_id == "5" * 32
        assert not again.conflict
        await store.pair_abandon("ch2")
        assert await store.pair_get("5" * 32, "host", NOW + 3 * TTL) is None
        await store.pair_abandon("never-existed")
        await store.sweep(NOW + 10 * TTL)
        assert (await store.stats(NOW + 10 * TTL)).pair_slots_open == 0

    # ----------------------------------------------------------------------------------- invites

    async def test_invites(self, store: Store) -> None:
        rec = InviteRecord(
            token="abc123", invite_url="wire://pair?x", expires_unix=int(NOW) + 60, uses_remaining=2, created_unix=0
        )
        assert await store.invite_register(rec)
        assert not await store.invite_register(rec)
        assert (await store.invite_take("abc123", NOW, consume=False)).invite_url == "wire://pair?x"
        assert (await store.invite_take("ABC123", NOW, consume=True)).status == "ok"
        assert (await store.invite_take("abc123", NOW, consume=True)).status == "ok"
        assert (await store.invite_take("abc123", NOW, consume=True)).status == "used_up"
        assert (await store.invite_take("abc123", NOW, consume=False)).status == "used_up"
        assert (await store.invite_take("ffffff", NOW, consume=True)).status == "unknown"
        unlimited = InviteRecord(
            token="def456", invite_url="wire://u", expires_unix=int(NOW) + 60, uses_remaining=None, created_unix=0
        )
        assert await store.invite_register(unlimited)
        for _ in range(3):
            assert (await store.invite_take("def456", NOW, consume=True)).status == "ok"
        assert (await store.invite_take("def456", NOW + 60, consume=True)).status == "expired"

    async def test_concurrent_invite_uses_never_overspend(self, store: Store) -> None:
        rec = InviteRecord(
            token="aaaaaa", invite_url="wire://c", expires_unix=int(NOW) + 60, uses_remaining=3, created_unix=0
        )
        await store.invite_register(rec)
        results = await asyncio.gather(*(store.invite_take("aaaaaa", NOW, consume=True) for _ in range(10)))
        assert sum(r.status == "ok" for r in results) == 3

    # ---------------------------------------------------------------------------- rate and stats

    async def test_ack_frees_the_backlog_and_purge_deletes_after_retention(self, store: Store) -> None:
        """Issue 18 item 6: the quota counts the backlog; acknowledged events go after the retention."""
        slot_id, _ = await self.slot(store)
        for event_id in ("a", "b"):
            assert (await store.append(slot_id, item(event_id, 100), quota=250)).status == "stored"
        assert (await store.append(slot_id, item("c", 100), quota=250)).status == "quota_exceeded"
        assert await store.ack(slot_id, "nope", NOW) is None
        acked = await store.ack(slot_id, "b", NOW)
        assert acked is not None
        assert acked.backlog_bytes == 0
        again = await store.ack(slot_id, "a", NOW)  # backwards: nothing changes
        assert again is not None
        assert (again.acked_seq, again.backlog_bytes) == (acked.acked_seq, 0)
        stored = await store.append(slot_id, item("c", 100), quota=250)
        assert (stored.status, stored.slot_bytes_used) == ("stored", 100)
        assert await store.purge(NOW + 10, acked_retention=60, event_retention=None) == 0  # not yet
        assert len(await store.list_events(slot_id, None, 10)) == 3
        assert await store.purge(NOW + 61, acked_retention=60, event_retention=None) == 2
        assert await store.list_events(slot_id, None, 10) == [item("c", 100).data]
        state = await store.slot_state(slot_id)
        assert state is not None
        assert state.event_count == 1
        assert await store.purge(NOW + 62, acked_retention=60, event_retention=None) == 0

    async def test_operator_retention_deletes_old_unacknowledged_events(self, store: Store) -> None:
        """Reference clients never acknowledge: the operator's retention window bounds their backlog."""
        slot_id, _ = await self.slot(store)
        for event_id in ("a", "b"):
            assert (await store.append(slot_id, item(event_id, 100), quota=250)).status == "stored"
        later = time.time() + 3600
        assert await store.purge(later, acked_retention=1e9, event_retention=7200) == 0
        assert await store.purge(later, acked_retention=1e9, event_retention=60) == 2
        assert await store.list_events(slot_id, None, 10) == []
        assert (await store.append(slot_id, item("c", 200), quota=250)).status == "stored"  # backlog is empty

    async def test_proven_claim_replaces_an_unproven_one(self, store: Store) -> None:
        slot_a, _ = await self.slot(store)
        slot_b, _ = await self.slot(store)
        squat = handle("zed", "did:wire:zed-0001", slot_a)
        owner = dataclasses.replace(handle("zed", "did:wire:zed-0002", slot_b), proof={"v": 1}, proven=True)
        assert (await store.claim_handle(squat, discoverable=None)).status == "claimed"
        assert (await store.claim_handle(owner, discoverable=None)).status == "claimed"
        record = await store.get_handle("zed")
        assert record is not None
        assert (record.did, record.proven, record.proof) == (owner.did, True, {"v": 1})
        assert (await store.claim_handle(squat, discoverable=None)).status == "conflict"
        rival = dataclasses.replace(handle("zed", "did:wire:zed-0003", slot_a), proof={"v": 1}, proven=True)
        assert (await store.claim_handle(rival, discoverable=None)).status == "conflict"

    async def test_rate_take(self, store: Store) -> None:
        assert await store.rate_take("k", 2, 1.0, NOW) == 0.0
        assert await store.rate_take("k", 2, 1.0, NOW) == 0.0
        wait = await store.rate_take("k", 2, 1.0, NOW)
        assert 0 < wait <= 1.0
        assert await store.rate_take("other", 2, 1.0, NOW) == 0.0
        assert await store.rate_take("k", 2, 1.0, NOW + 1.0) == 0.0

    async def test_counters(self, store: Store) -> None:
        stats = await store.stats(NOW)
        assert set(stats.counters) == set(COUNTER_NAMES)
        assert stats.slots_active == 0
        slot_id, _ = await self.slot(store)
        await store.append(slot_id, item("a"))
        await store.append(slot_id, item("a"))
        await store.append(slot_id, item("intro"), count_posted=False)
        await store.append_batch(slot_id, [item("b"), item("c")])
        stats = await store.stats(NOW)
        assert stats.slots_active == 1
        assert stats.counters["slot_allocations_total"] == 1
        assert stats.counters["events_posted_total"] == 3

    # ---------------------------------------------------------------------------------- restarts

    async def test_reopen_keeps_everything_durable(self, store: Store, reopen: Callable[[], Awaitable[Store]]) -> None:
        slot_id, token = await self.slot(store)
        seq = (await store.append(slot_id, item("keep"))).seq
        await store.claim_handle(handle("gina", "did:wire:gina-00000001", slot_id), discoverable=None)
        await store.set_responder_health(slot_id, {"status": "online", "set_at": "t"})
        rec = InviteRecord(
            token="bbbbbb", invite_url="wire://r", expires_unix=int(NOW) + 60, uses_remaining=1, created_unix=0
        )
        await store.invite_register(rec)
        assert (await store.invite_take("bbbbbb", NOW, consume=True)).status == "ok"
        await store.close()
        second = await reopen()
        try:
            assert await second.check_token(slot_id, token) is TokenCheck.OK
            assert await second.list_events(slot_id, None, 10) == [item("keep").data]
            assert (await second.append(slot_id, item("keep"))).status == "duplicate"
            after = await second.append(slot_id, item("new"))
            assert after.seq is not None
            assert seq is not None
            assert after.seq > seq
            got = await second.get_handle("gina")
            assert got is not None
            assert got.slot_id == slot_id
            state = await second.slot_state(slot_id)
            assert state is not None
            assert state.responder_health == {"status": "online", "set_at": "t"}
            assert (await second.invite_take("bbbbbb", NOW, consume=True)).status == "used_up"
            counters = (await second.stats(NOW)).counters
            assert counters["slot_allocations_total"] == 1
            assert counters["events_posted_total"] == 2
        finally:
            await second.close()
