# SPDX-License-Identifier: MIT
"""The relay's speed options as real processes: ``--event-loop uvloop`` and ``--workers N`` keep every guarantee."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import postgres as pg
from tests.helpers.relay_process import RelayProcess
from tests.relay.test_relay_process import allocate

pytestmark = pytest.mark.timeout(60)


async def _post(session: aiohttp.ClientSession, url: str, slot: tuple[str, str], event_id: str) -> int:
    async with session.post(
        f"{url}/v1/events/{slot[0]}",
        json={"event": {"event_id": event_id, "pad": "x" * 200}},
        headers={"Authorization": f"Bearer {slot[1]}"},
    ) as resp:
        return resp.status


async def _stored_ids(session: aiohttp.ClientSession, url: str, slot: tuple[str, str]) -> list[str]:
    headers = {"Authorization": f"Bearer {slot[1]}"}
    async with session.get(f"{url}/v1/events/{slot[0]}?limit=1000", headers=headers) as r:
        assert r.status == 200
        return [str(e["event_id"]) for e in await r.json()]


async def test_uvloop_relay_acknowledges_only_durable_events_and_dedupes(tmp_path: Path) -> None:
    pytest.importorskip("uvloop")
    with RelayProcess(tmp_path, extra_args=["--event-loop", "uvloop"]) as relay:
        # 32 connections: below the relay's per-client connection cap (more would be answered 503)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
            slot = await allocate(session, relay.url)
            statuses = await asyncio.gather(*(_post(session, relay.url, slot, f"e{i}") for i in range(300)))
            assert statuses == [201] * 300
            assert await _post(session, relay.url, slot, "e7") == 200  # duplicate, not stored again
        relay.kill()  # no clean shutdown: acknowledged events must already be committed
        relay.start()  # the default loop reads what the uvloop relay wrote
        async with aiohttp.ClientSession() as session:
            stored = await _stored_ids(session, relay.url, slot)
    assert sorted(stored) == sorted(f"e{i}" for i in range(300))


def _relay_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``wire-relay`` with ``args`` for a command line it must refuse before it listens."""
    return subprocess.run(
        [sys.executable, "-m", "wire_relay", *args], capture_output=True, text=True, timeout=30, check=False
    )


def test_unknown_event_loop_is_a_usage_error() -> None:
    done = _relay_cli("--event-loop", "trio")
    assert done.returncode == 2
    assert "invalid choice: 'trio'" in done.stderr


# --------------------------------------------------------------------------------- --workers (PostgreSQL)
pg_server = pg.pg_server
fresh_pg_url = pg.fresh_pg_url


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    """The process exists and has not exited (a zombie waiting for its reaper counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _all_gone(pids: list[int]) -> bool:
    return not _alive(pids)


def _alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if _running(pid)]


async def test_two_workers_share_one_port_and_store_each_event_once(tmp_path: Path, fresh_pg_url: str) -> None:
    with RelayProcess(tmp_path, store_url=fresh_pg_url, extra_args=["--workers", "2"]) as relay:
        assert relay.pid is not None
        workers = _children(relay.pid)
        assert len(workers) == 2
        connector = aiohttp.TCPConnector(limit=32, force_close=True)  # new connections: spread over both workers
        async with aiohttp.ClientSession(connector=connector) as session:
            slot = await allocate(session, relay.url)
            # every id posted three times at once: exactly one 201 each, whichever worker answers
            ids = [f"e{i}" for i in range(200)]
            statuses = await asyncio.gather(*(_post(session, relay.url, slot, i) for i in ids * 3))
            stored = await _stored_ids(session, relay.url, slot)
        assert statuses.count(201) == 200
        assert statuses.count(200) == 400
        assert sorted(stored) == sorted(ids)
        os.kill(workers[1], signal.SIGKILL)  # one worker dies: the supervisor stops the other and fails
        assert await asyncio.to_thread(relay._proc.wait, 30) == 1  # type: ignore[union-attr]
        assert _all_gone(workers)
        assert "stopping the others" in relay.stderr_tail()


async def test_workers_stop_cleanly_on_sigterm(tmp_path: Path, fresh_pg_url: str) -> None:
    relay = RelayProcess(tmp_path, store_url=fresh_pg_url, extra_args=["--workers", "2"]).start()
    try:
        assert relay.pid is not None
        workers = _children(relay.pid)
        assert relay.terminate() == 0
        assert _all_gone(workers)
    finally:
        relay.stop()


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path, fresh_pg_url: str) -> None:
    relay = RelayProcess(tmp_path, store_url=fresh_pg_url, extra_args=["--workers", "2"]).start()
    try:
        assert relay.pid is not None
        workers = _children(relay.pid)
        relay.kill()  # SIGKILL: no chance to pass anything on; the orphaned workers notice by themselves
        deadline = time.monotonic() + 15
        while not _all_gone(workers) and time.monotonic() < deadline:
            time.sleep(0.1)  # polling a condition with a deadline, not a fixed wait
        assert _all_gone(workers)
    finally:
        for pid in _alive(workers):
            os.kill(pid, signal.SIGKILL)
        relay.stop()


def test_workers_refuse_a_sqlite_store(tmp_path: Path) -> None:
    done = _relay_cli("--workers", "2", "--store", f"sqlite:///{tmp_path}/r.sqlite3")
    assert done.returncode == 2
    assert "--workers needs a PostgreSQL store" in done.stderr
