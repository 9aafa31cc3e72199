# SPDX-License-Identifier: MIT
"""Hypothesis stateful test: the mailbox of a real relay process against an in-memory model.

The system under test is ``python -m wire_relay`` on a loopback port with a SQLite file store,
driven over HTTP (the same bytes a client sends). Each example allocates two fresh slots (so
examples never see each other's events, and cross-slot isolation is checked too) and runs a
random program of these rules:

* ``post`` — one event with a string ``event_id`` drawn from a small pool (so duplicates are
  frequent; the pool includes ``""``, non-ASCII and NUL-bearing ids) → 201 ``stored`` the first
  time, 200 ``duplicate`` after, and the first body is the one kept;
* ``post_without_id`` — an event with no ``event_id``, a non-string one, or a non-object event →
  always 201 ``stored`` with ``event_id: null`` (never deduplicated);
* ``post_batch`` — 0..12 events of both kinds (duplicates inside the batch too) → 200 and one
  verdict per index, in order;
* ``post_bulk`` — once per example, 1,000 events in one batch, so ``limit`` caps are reachable;
* ``list`` — ``since`` absent / a known id / an unknown id / ``""``, ``limit`` absent or 0..1,200;
* ``restart`` — once per example: SIGTERM or SIGKILL the relay process and start it again on the
  same SQLite file and port (a real process restart, ~0.5 s; bounded by the one-per-example
  precondition so the whole test stays well under 30 s).

Invariants after every step: listing a slot (``limit=1000``) returns exactly the model's first
1,000 events — every acknowledged event stored once, in acknowledgement order, across restarts.
The ``list`` rule checks: ``since`` is exclusive; an unknown ``since`` replays from the first
event; ``limit`` defaults to 100 and is capped at 1,000; ``limit=0`` lists nothing.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.badinput.http import Http
from tests.helpers.relay_process import RelayProcess
from wire_protocol import compact_json

LIST_DEFAULT = 100
LIST_MAX = 1000

ID_POOL = ["a", "b", "c", "0" * 64, "", "ü-éé", "id with space", "x\x00y", "\u2028", "A" * 300]
ids = st.sampled_from(ID_POOL)
# JSON values that round-trip exactly through the relay's compact form (no floats)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.text(max_size=12))
payloads = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
not_string_ids = st.one_of(st.none(), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2))
slot_index = st.integers(0, 1)

_RELAY: RelayProcess | None = None


class Slot:
    def __init__(self, slot_id: str, token: str) -> None:
        self.slot_id = slot_id
        self.token = token
        self.events: list[Any] = []  # the model: what a full listing must return, in order
        self.ids: dict[str, int] = {}  # event_id → position in ``events``


class MailboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert _RELAY is not None
        self.relay = _RELAY
        self.http = Http(self.relay.url)
        self.slots: list[Slot] = []
        self.counter = itertools.count()
        self.restarted = False
        self.bulked = False

    def teardown(self) -> None:
        self.http.close()

    # -- helpers ---------------------------------------------------------------------------------------

    def marker(self) -> int:
        return next(self.counter)

    def event_with_id(self, event_id: str, payload: Any) -> dict[str, Any]:
        return {"event_id": event_id, "n": self.marker(), "body": payload}

    def event_without_id(self, shape: int, bad_id: Any, payload: Any) -> Any:
        n = self.marker()
        if shape == 0:
            return {"n": n, "body": payload}
        if shape == 1:
            return {"event_id": bad_id, "n": n, "body": payload}
        return [n, payload]  # not an object at all: stored as-is, never deduplicated

    def apply(self, slot: Slot, event: Any) -> str:
        """Update the model as the relay must; returns the expected verdict."""
        event_id = event.get("event_id") if isinstance(event, dict) else None
        if isinstance(event_id, str):
            if event_id in slot.ids:
                return "duplicate"
            slot.ids[event_id] = len(slot.events)
        # the relay stores an event in its canonical form, which renders an integer beyond 64 bits the
        # way the reference's JSON reader does (as a float: docs/PROTOCOL.md §3 item 6); so does the model
        slot.events.append(json.loads(compact_json(event)))
        return "stored"

    def list_events(self, slot: Slot, query: dict[str, str]) -> list[Any]:
        target = f"/v1/events/{slot.slot_id}" + (f"?{urlencode(query, quote_via=quote)}" if query else "")
        reply = self.http.get(target, token=slot.token)
        assert reply.status == 200, (reply.status, reply.body[:300])
        assert reply.content_type == "application/json"
        listed = reply.json()
        assert isinstance(listed, list)
        return listed

    # -- rules -----------------------------------------------------------------------------------------

    @initialize()
    def allocate(self) -> None:
        for _ in range(2):
            reply = self.http.post("/v1/slot/allocate", json_body={})
            assert reply.status == 201, reply.body
            body = reply.json()
            self.slots.append(Slot(body["slot_id"], body["slot_token"]))

    @rule(which=slot_index, event_id=ids, payload=payloads)
    def post(self, which: int, event_id: str, payload: Any) -> None:
        slot = self.slots[which]
        event = self.event_with_id(event_id, payload)
        expected = self.apply(slot, event)
        reply = self.http.post(f"/v1/events/{slot.slot_id}", json_body={"event": event}, token=slot.token)
        assert reply.status == (201 if expected == "stored" else 200), (reply.status, reply.body[:300])
        assert reply.json() == {"event_id": event_id, "status": expected}

    @rule(which=slot_index, shape=st.integers(0, 2), bad_id=not_string_ids, payload=payloads)
    def post_without_id(self, which: int, shape: int, bad_id: Any, payload: Any) -> None:
        slot = self.slots[which]
        event = self.event_without_id(shape, bad_id, payload)
        assert self.apply(slot, event) == "stored"
        reply = self.http.post(f"/v1/events/{slot.slot_id}", json_body={"event": event}, token=slot.token)
        assert reply.status == 201, (reply.status, reply.body[:300])
        assert reply.json() == {"event_id": None, "status": "stored"}

    @rule(
        which=slot_index,
        plan=st.lists(st.tuples(st.booleans(), ids, st.integers(0, 2), not_string_ids, payloads), max_size=12),
    )
    def post_batch(self, which: int, plan: list[tuple[bool, str, int, Any, Any]]) -> None:
        slot = self.slots[which]
        events = [
            self.event_with_id(event_id, payload) if with_id else self.event_without_id(shape, bad_id, payload)
            for with_id, event_id, shape, bad_id, payload in plan
        ]
        expected = []
        for index, event in enumerate(events):
            verdict = self.apply(slot, event)
            event_id = event.get("event_id") if isinstance(event, dict) else None
            expected.append(
                {"index": index, "event_id": event_id if isinstance(event_id, str) else None, "status": verdict}
            )
        reply = self.http.post(f"/v1/events/{slot.slot_id}/batch", json_body={"events": events}, token=slot.token)
        assert reply.status == 200, (reply.status, reply.body[:300])
        assert reply.json() == {"results": expected}

    @precondition(lambda self: not self.bulked)
    @rule(which=slot_index)
    def post_bulk(self, which: int) -> None:
        self.bulked = True
        slot = self.slots[which]
        events = [{"n": self.marker()} for _ in range(LIST_MAX)]
        for event in events:
            self.apply(slot, event)
        reply = self.http.post(f"/v1/events/{slot.slot_id}/batch", json_body={"events": events}, token=slot.token)
        assert reply.status == 200, (reply.status, reply.body[:300])
        assert [r["status"] for r in reply.json()["results"]] == ["stored"] * LIST_MAX

    @rule(
        which=slot_index,
        since=st.one_of(st.none(), st.just("known"), st.sampled_from(["", "never-posted", "%2e%2e", "a\x00"])),
        pick=st.integers(0, 10_000),
        limit=st.one_of(st.none(), st.integers(0, 3), st.integers(0, 1200), st.just(LIST_MAX), st.just(LIST_MAX + 1)),
    )
    def list(self, which: int, since: str | None, pick: int, limit: int | None) -> None:
        slot = self.slots[which]
        query: dict[str, str] = {}
        start = 0
        if since == "known" and slot.ids:
            known = sorted(slot.ids)[pick % len(slot.ids)]
            query["since"] = known
            start = slot.ids[known] + 1  # exclusive
        elif since is not None and since != "known":
            query["since"] = since
            start = slot.ids[since] + 1 if since in slot.ids else 0  # unknown → full replay
        if limit is not None:
            query["limit"] = str(limit)
        cap = min(LIST_DEFAULT if limit is None else limit, LIST_MAX)
        assert self.list_events(slot, query) == slot.events[start : start + cap]

    @precondition(lambda self: not self.restarted)
    @rule(kill=st.booleans())
    def restart(self, kill: bool) -> None:
        self.restarted = True
        self.http.close()
        self.relay.restart(kill=kill)

    # -- invariants ------------------------------------------------------------------------------------

    @invariant()
    def every_acknowledged_event_once_in_order(self) -> None:
        for slot in self.slots:
            assert self.list_events(slot, {"limit": str(LIST_MAX)}) == slot.events[:LIST_MAX]


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    workdir: Path = tmp_path_factory.mktemp("stateful-relay")
    with RelayProcess(workdir, extra_args=["--log-level", "warning"]) as process:
        yield process


def test_mailbox_against_model(relay: RelayProcess) -> None:
    global _RELAY  # noqa: PLW0603 - the machine class is instantiated by Hypothesis, not by us
    _RELAY = relay
    try:
        run_state_machine_as_test(
            MailboxMachine,
            settings=settings(
                max_examples=20,
                stateful_step_count=20,
                deadline=None,
                database=None,
                # shrinking replays restarts (~0.5 s each) and can take minutes: CI reports the
                # failing program unshrunk; add Phase.shrink here to minimise one by hand
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            ),
        )
    finally:
        _RELAY = None
