# SPDX-License-Identifier: MIT
"""kill -9 of the relay under load, as the CLIENT sees it (the relay-level version — every 201/200 in
the store exactly once — lives in tests/relay/test_relay_process.py and test_store_postgres.py).

alice sends to bob and carol in a tight loop with every agent's daemon running; the relay process that
holds bob's slot is SIGKILLed mid-load and restarted. Verdict: every send that returned ``delivered``
is in the peer's inbox exactly once, every ``queued`` one arrives after the restart, in send order.
On PostgreSQL the relay is two processes on one database (bob on P1, carol on P2): carol's traffic
keeps flowing through P2 while P1 is down.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.scenarios import relay_kill_under_load
from tests.helpers import postgres as pg

pytestmark = pytest.mark.timeout(120)

pg_server = pg.pg_server
fresh_pg_url = pg.fresh_pg_url


async def test_sqlite_relay_killed_under_load(tmp_path: Path) -> None:
    stats = await relay_kill_under_load(tmp_path)
    assert stats["delivered"] >= 20


@pytest.mark.postgres
async def test_postgres_relay_process_killed_under_load(tmp_path: Path, fresh_pg_url: str) -> None:
    stats = await relay_kill_under_load(tmp_path, fresh_pg_url)
    assert stats["delivered"] >= 20
