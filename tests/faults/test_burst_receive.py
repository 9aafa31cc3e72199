# SPDX-License-Identifier: MIT
"""A receiving daemon SIGKILLed in the middle of a burst it receives in batches (issue 17, bursts).

The daemon opens, verifies and appends streamed events in batches of up to 500 with one inbox fsync
per batch; only then does it move its cursor and acknowledge to the relay. Killed mid-burst (real
processes: relay, daemon), everything the relay already counts as acknowledged and everything up to
the saved cursor must be in the inbox; a restarted daemon completes the burst, each event once, in
order, with no unreadable line left.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.support import until
from tests.helpers.agents import paired_agents
from tests.helpers.daemons import LibDaemon
from tests.helpers.relay_process import RelayProcess
from wire_client._home.files import read_jsonl

pytestmark = pytest.mark.timeout(120)

BURST = 6000


def _inbox_ids(path: Path) -> list[str]:
    """Event ids of the complete inbox lines (a line torn by the kill is not counted)."""
    return [str(r["event_id"]) for _, r in read_jsonl(path).records if isinstance(r, dict)]


def _acknowledged(relay: RelayProcess) -> list[str]:
    """Ids the relay has been told are stored on the receiver's side (read from its own database)."""
    database = Path(relay.store_url.removeprefix("sqlite:///"))
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as conn:
        rows = conn.execute(
            "SELECT e.event_id FROM events e JOIN slots s ON e.slot = s.id WHERE e.seq <= s.acked_seq ORDER BY e.seq"
        ).fetchall()
    return [str(row[0]) for row in rows]


async def test_kill_9_mid_burst_loses_nothing_acknowledged_and_duplicates_nothing(
    relay: RelayProcess, tmp_path: Path, daemons: list[LibDaemon]
) -> None:
    alice, bob = await paired_agents(tmp_path, relay.url, "alice", "bob")
    async with alice, bob:
        verdicts = await bob.send_many("alice", [f"burst {i}" for i in range(BURST)])
    sent = [v.event_id for v in verdicts]
    assert {v.status for v in verdicts} == {"delivered"}
    inbox = alice.home.inbox_path("bob")

    receiving = LibDaemon(alice.home)
    daemons.append(receiving)
    # kill once at least two batches are in and the relay holds an acknowledgement, well before the end
    until(lambda: len(_inbox_ids(inbox)) >= 1000 and bool(_acknowledged(relay)), 60, "acknowledged batches", 0.002)
    receiving.kill9()

    stored = _inbox_ids(inbox)
    acknowledged = _acknowledged(relay)
    assert 0 < len(stored) < BURST, "the kill did not land mid-burst"
    assert set(acknowledged) <= set(stored), "the relay was told about events that are not in the inbox"
    assert acknowledged == sent[: len(acknowledged)]
    cursors = json.loads(alice.home.cursors.read_text())
    [cursor] = [entry["event_id"] for entry in cursors.values()]
    assert sent[: sent.index(cursor) + 1] == stored[: sent.index(cursor) + 1], "the cursor passed unstored events"
    assert stored == sent[: len(stored)], "stored out of order or twice"

    daemons.append(LibDaemon(alice.home).wait_ready())
    until(lambda: len(_inbox_ids(inbox)) >= BURST, 60, "the rest of the burst")
    healed = read_jsonl(inbox)
    assert [r["event_id"] for _, r in healed.records if isinstance(r, dict)] == sent, "each event once, in order"
    assert not healed.bad_lines
    assert not healed.torn_tail
    bodies = [r["opened"]["body"] for _, r in healed.records if isinstance(r, dict)]
    assert bodies == [f"burst {i}" for i in range(BURST)]  # every one opened (sealed as always)
