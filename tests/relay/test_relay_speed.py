# SPDX-License-Identifier: MIT
"""The relay's speed options as real processes: ``--event-loop uvloop`` keeps every guarantee."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.helpers.relay_process import RelayProcess

pytestmark = pytest.mark.timeout(60)


async def _allocate(session: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    async with session.post(f"{url}/v1/slot/allocate", json={}) as resp:
        assert resp.status == 201
        body = await resp.json()
        return body["slot_id"], body["slot_token"]


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
            slot = await _allocate(session, relay.url)
            statuses = await asyncio.gather(*(_post(session, relay.url, slot, f"e{i}") for i in range(300)))
            assert statuses == [201] * 300
            assert await _post(session, relay.url, slot, "e7") == 200  # duplicate, not stored again
        relay.kill()  # no clean shutdown: acknowledged events must already be committed
        relay.start()  # the default loop reads what the uvloop relay wrote
        async with aiohttp.ClientSession() as session:
            stored = await _stored_ids(session, relay.url, slot)
    assert sorted(stored) == sorted(f"e{i}" for i in range(300))


def test_unknown_event_loop_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wire_relay", "--event-loop", "trio"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice: 'trio'" in done.stderr
