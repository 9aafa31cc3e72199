# SPDX-License-Identifier: MIT
"""The relay as a real process: crash safety (kill -9 under load), restarts, signals, CLI modes."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.helpers.relay_process import RelayProcess
from tests.relay.conftest import claim_proof, make_agent
from wire_protocol import b64encode

pytestmark = pytest.mark.timeout(60)


async def allocate(session: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    async with session.post(f"{url}/v1/slot/allocate", json={}) as resp:
        assert resp.status == 201
        body = await resp.json()
        return body["slot_id"], body["slot_token"]


async def list_all(session: aiohttp.ClientSession, url: str, slot_id: str, token: str) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    since = ""
    while True:
        query = f"?limit=1000&since={since}" if since else "?limit=1000"
        async with session.get(f"{url}/v1/events/{slot_id}{query}", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200
            page = await r.json()
        events.extend(page)
        if len(page) < 1000:
            return events
        since = str(page[-1]["event_id"])


async def test_kill9_under_load_loses_no_acknowledged_event(tmp_path: Path) -> None:
    with RelayProcess(tmp_path) as relay:
        async with aiohttp.ClientSession() as session:
            slots = [await allocate(session, relay.url) for _ in range(4)]
        acked: set[str] = set()
        enough = asyncio.Event()
        stop = asyncio.Event()

        async def poster(worker: int) -> None:
            slot_id, token = slots[worker % len(slots)]
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
                n = 0
                while not stop.is_set():
                    event_id = f"w{worker}-{n}"
                    n += 1
                    try:
                        async with session.post(
                            f"{relay.url}/v1/events/{slot_id}",
                            json={"event": {"event_id": event_id, "pad": "x" * 200}},
                            headers=headers,
                        ) as resp:
                            if resp.status in (200, 201):
                                acked.add(event_id)
                                if len(acked) >= 1500:
                                    enough.set()
                    except (aiohttp.ClientError, TimeoutError):
                        return

        tasks = [asyncio.create_task(poster(w)) for w in range(32)]
        async with asyncio.timeout(30):
            await enough.wait()
        await asyncio.to_thread(relay.kill)  # SIGKILL while requests are in flight
        stop.set()
        async with asyncio.timeout(20):
            await asyncio.gather(*tasks)
        assert relay.returncode == -9
        relay.start()
        async with aiohttp.ClientSession() as session:
            stored: list[str] = []
            for slot_id, token in slots:
                stored += [str(e["event_id"]) for e in await list_all(session, relay.url, slot_id, token)]
    assert len(stored) == len(set(stored)), "an event is stored twice"
    missing = acked - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:5]}"


async def test_restart_keeps_state_and_pair_slots_start_empty(tmp_path: Path) -> None:
    alice = make_agent("alice")
    with RelayProcess(tmp_path) as relay:
        async with aiohttp.ClientSession() as session:
            slot_id, token = await allocate(session, relay.url)
            auth = {"Authorization": f"Bearer {token}"}
            for n in range(3):
                async with session.post(
                    f"{relay.url}/v1/events/{slot_id}", json={"event": {"event_id": f"e{n}"}}, headers=auth
                ) as r:
                    assert r.status == 201
            body = {
                "nick": "alice",
                "slot_id": slot_id,
                "relay_url": None,
                "card": alice.card.to_json(),
                "proof": claim_proof(alice, slot_id, relay.url),
            }
            async with session.post(f"{relay.url}/v1/handle/claim", json=body, headers=auth) as r:
                assert r.status == 201
            pair_body = {"code_hash": "c" * 64, "msg": b64encode(b"m" * 33), "role": "host"}
            async with session.post(f"{relay.url}/v1/pair", json=pair_body) as r:
                pair_id = (await r.json())["pair_id"]
            invite_body = {"invite_url": "wire://pair?x", "uses": 1}
            async with session.post(f"{relay.url}/v1/invite/register", json=invite_body) as r:
                invite = (await r.json())["token"]
            async with session.get(f"{relay.url}/i/{invite}") as r:
                assert r.status == 200
            port = relay.port

            assert relay.terminate() == 0
            relay.start()
            assert relay.port == port  # same address after restart

            async with session.get(f"{relay.url}/v1/events/{slot_id}", headers=auth) as r:
                assert [e["event_id"] for e in await r.json()] == ["e0", "e1", "e2"]
            async with session.post(
                f"{relay.url}/v1/events/{slot_id}", json={"event": {"event_id": "e1"}}, headers=auth
            ) as r:
                assert r.status == 200  # dedupe survives the restart
            async with session.get(f"{relay.url}/.well-known/wire/agent?handle=alice") as r:
                assert (await r.json())["slot_id"] == slot_id
            async with session.get(f"{relay.url}/v1/pair/{pair_id}?as_role=guest") as r:
                assert r.status == 404  # pair slots are ephemeral
            async with session.get(f"{relay.url}/i/{invite}") as r:
                assert r.status == 410  # regression §7.10: the use count was persisted
            async with session.get(f"{relay.url}/stats.json") as r:
                stats = await r.json()
            assert stats["events_posted_total"] == 3
            assert stats["pair_slots_open"] == 0


async def test_sigterm_with_open_stream_exits_cleanly(tmp_path: Path) -> None:
    relay = RelayProcess(tmp_path).start()
    try:
        async with aiohttp.ClientSession() as session:
            slot_id, token = await allocate(session, relay.url)
            async with session.get(
                f"{relay.url}/v1/events/{slot_id}/stream", headers={"Authorization": f"Bearer {token}"}
            ) as stream:
                assert stream.status == 200
                code = await asyncio.to_thread(relay.terminate, 15.0)
                async with asyncio.timeout(5):
                    assert await stream.content.read() == b""  # the server ended the stream
    finally:
        relay.stop()
    assert code == 0
    log = relay.stderr_tail()
    assert "event=store_closed" in log
    assert "event=shutdown_done" in log
    assert token not in log


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wire_relay", *args], capture_output=True, text=True, timeout=30, check=False
    )


def test_local_only_refuses_public_bind() -> None:
    result = _run_cli("--local-only", "--bind", "0.0.0.0:0", "--store", "sqlite://:memory:")
    assert result.returncode == 2
    assert "--local-only refuses" in result.stderr
    assert result.stdout == ""


def test_help_and_bad_bind() -> None:
    result = _run_cli("--help")
    assert result.returncode == 0
    assert "--local-only" in result.stdout
    assert _run_cli("--bind", "nonsense").returncode == 2
    assert _run_cli("--store", "mysql://x", "--bind", "127.0.0.1:0").returncode == 2


async def test_local_only_and_uds_modes(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "lo", extra_args=["--local-only"]) as relay:
        assert relay.mode == "local-only"
        async with aiohttp.ClientSession() as session, session.get(f"{relay.url}/phonebook") as r:
            assert r.status == 404
    sock = tmp_path / "relay.sock"
    with RelayProcess(tmp_path / "uds", uds=sock) as relay:
        assert relay.url == f"unix://{sock}"
        assert relay.mode == "uds"
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        connector = aiohttp.UnixConnector(path=str(sock))
        async with aiohttp.ClientSession(connector=connector) as session, session.get("http://relay/healthz") as r:
            assert await r.text() == "ok\n"
    assert not sock.exists()
