# SPDX-License-Identifier: MIT
"""Issue 18: each attack on a public relay, performed against a real relay process, fails safely.

Every test bounds its load (a few hundred connections or requests at most) and its waits.
Attackers that must look like another client connect from 127.0.0.2 (all of 127/8 is loopback).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import postgres as pg
from tests.helpers.relay_process import RelayProcess
from tests.relay.conftest import claim_proof, make_agent
from wire_protocol import b64encode

pytestmark = pytest.mark.timeout(90)

pg_server = pg.pg_server
fresh_pg_url = pg.fresh_pg_url

ATTACKER = "127.0.0.2"
TIMEOUT = aiohttp.ClientTimeout(total=15)


@pytest.fixture
def relay_args() -> list[str]:
    return []


@pytest.fixture
def relay(tmp_path: Path, relay_args: list[str]) -> Iterator[RelayProcess]:
    with RelayProcess(tmp_path, extra_args=["--log-level", "warning", *relay_args]) as process:
        yield process


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
        yield s


def attacker_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=TIMEOUT, connector=aiohttp.TCPConnector(local_addr=(ATTACKER, 0)))


async def allocate(session: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    async with session.post(f"{url}/v1/slot/allocate", json={}) as resp:
        assert resp.status == 201
        body = await resp.json()
        return body["slot_id"], body["slot_token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def raw_connect(port: int, source: str = ATTACKER) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def read_reply(sock: socket.socket, limit: float = 5.0) -> bytes:
    """Everything the relay sends until it closes (or ``limit`` seconds pass)."""
    sock.settimeout(limit)
    chunks: list[bytes] = []
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


# ------------------------------------------------------------------------------ 1. invite enumeration


async def test_invite_tokens_are_128_bit_reads_consume_and_misses_are_rate_limited(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    with RelayProcess(tmp_path, rate_limits=True) as relay:
        async with session.post(
            f"{relay.url}/v1/invite/register", json={"invite_url": "wire://pair?v=1&inv=a.b", "uses": 1}
        ) as resp:
            assert resp.status == 201
            token = (await resp.json())["token"]
        assert len(token) == 32
        async with session.get(f"{relay.url}/i/{token}?format=url") as resp:
            assert resp.status == 200  # this read used the single use up
        async with session.get(f"{relay.url}/i/{token}") as resp:
            assert resp.status == 410
        # a scanner from one address: misses count, and it is stopped long before it could matter
        statuses = []
        async with attacker_session() as scanner:
            for _ in range(40):
                async with scanner.get(f"{relay.url}/i/{secrets.token_hex(16)}") as resp:
                    statuses.append(resp.status)
        assert statuses[0] == 404
        assert statuses.count(429) >= 15
        async with session.get(f"{relay.url}/i/{secrets.token_hex(16)}") as resp:
            assert resp.status == 404  # another client is not affected
        async with session.post(f"{relay.url}/v1/invite/register", json={"invite_url": "https://evil.example"}) as r:
            assert r.status == 400


# ------------------------------------------------------------------------------ 2. nick squatting


async def test_squatter_cannot_claim_with_a_replayed_card(relay: RelayProcess, session: aiohttp.ClientSession) -> None:
    alice = make_agent("alice", 1)
    slot_m, token_m = await allocate(session, relay.url)
    body = {"nick": "alice", "slot_id": slot_m, "relay_url": None, "card": alice.card.to_json()}
    async with session.post(f"{relay.url}/v1/handle/claim", json=body, headers=auth(token_m)) as resp:
        assert resp.status == 403
        assert (await resp.json())["required"] == "proof"
    async with session.get(f"{relay.url}/.well-known/wire/agent?handle=alice") as resp:
        assert resp.status == 404
    async with session.get(f"{relay.url}/v1/info") as resp:
        assert (await resp.json())["claims"]["proof"] == "required"


async def _claim(
    session: aiohttp.ClientSession, url: str, agent: Any, slot_id: str, token: str, *, proven: bool
) -> int:
    body: dict[str, Any] = {"nick": agent.nick, "slot_id": slot_id, "relay_url": None, "card": agent.card.to_json()}
    if proven:
        body["proof"] = claim_proof(agent, slot_id, url)
    async with session.post(f"{url}/v1/handle/claim", json=body, headers=auth(token)) as resp:
        return resp.status


async def _record(session: aiohttp.ClientSession, url: str, nick: str) -> Any:
    async with session.get(f"{url}/.well-known/wire/agent?handle={nick}") as resp:
        assert resp.status == 200
        return await resp.json()


async def test_proven_claim_replaces_unproven_across_two_postgres_relays(
    tmp_path: Path, fresh_pg_url: str, session: aiohttp.ClientSession
) -> None:
    args = ["--log-level", "warning", "--accept-unproven-claims"]
    with (
        RelayProcess(tmp_path / "a", store_url=fresh_pg_url, extra_args=args) as a,
        RelayProcess(tmp_path / "b", store_url=fresh_pg_url, extra_args=args) as b,
    ):
        squatter, alice = make_agent("alice", 66), make_agent("alice", 1)
        slot_s, token_s = await allocate(session, a.url)
        slot_a, token_a = await allocate(session, b.url)
        assert await _claim(session, a.url, squatter, slot_s, token_s, proven=False) == 201
        record = await _record(session, b.url, "alice")
        assert (record["did"], record["proven"]) == (squatter.did, False)
        assert await _claim(session, b.url, alice, slot_a, token_a, proven=True) == 201
        record = await _record(session, a.url, "alice")
        assert (record["did"], record["proven"], record["slot_id"]) == (alice.did, True, slot_a)
        assert record["claim_proof"]["slot_id"] == slot_a
        assert await _claim(session, a.url, squatter, slot_s, token_s, proven=False) == 409
        assert await _claim(session, a.url, squatter, slot_s, token_s, proven=True) == 409


# ------------------------------------------------------------------------ 3. slowloris, connection caps


@pytest.mark.parametrize(
    "relay_args", [["--max-connections-per-client", "32", "--header-timeout", "2", "--max-connections", "400"]]
)
async def test_slowloris_is_capped_and_timed_out_while_healthz_answers(
    relay: RelayProcess, session: aiohttp.ClientSession
) -> None:
    assert relay.port is not None
    held: list[socket.socket] = []
    refused = 0
    try:
        for _ in range(300):  # 300 half-sent requests from one address
            sock = raw_connect(relay.port)
            sock.sendall(b"POST /v1/slot/allocate HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            held.append(sock)
        latencies: list[float] = []
        for _ in range(50):
            started = time.monotonic()
            async with session.get(f"{relay.url}/healthz") as resp:
                assert resp.status == 200
            latencies.append(time.monotonic() - started)
        replies = [read_reply(sock, 0.05) for sock in held[200:]]
        for reply in replies:
            assert reply == b"" or reply.startswith(b"HTTP/1.1 503")  # never served: over the cap of 32
            if reply:
                refused += 1
                assert b"Retry-After: 5" in reply
                assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]
        assert refused >= 50  # answered 503 (past 256 waiting refusals, the rest are dropped bare)
        # the ones admitted are dropped once the header deadline passes
        late = read_reply(held[0], 6.0)
        assert late.startswith(b"HTTP/1.1 408")
        p99 = statistics.quantiles(latencies, n=100)[98]
        print(f"/healthz during slowloris: p50={statistics.median(latencies) * 1000:.1f} ms p99={p99 * 1000:.1f} ms")
        assert p99 < 0.5
    finally:
        for sock in held:
            sock.close()


@pytest.mark.parametrize("relay_args", [["--max-connections", "40", "--max-connections-per-client", "1000"]])
async def test_global_connection_cap_answers_503_and_recovers(
    relay: RelayProcess, session: aiohttp.ClientSession
) -> None:
    assert relay.port is not None
    held = [raw_connect(relay.port, f"127.0.0.{3 + n % 4}") for n in range(60)]
    try:
        replies = [read_reply(sock, 0.05) for sock in held[40:]]
        assert sum(r.startswith(b"HTTP/1.1 503") for r in replies) >= 15
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10
    while True:  # freed slots are reused at once
        try:
            async with session.get(f"{relay.url}/healthz") as resp:
                if resp.status == 200:
                    break
        except aiohttp.ClientError:
            pass
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("relay_args", [["--max-streams-per-client", "3"]])
async def test_sse_streams_are_capped_per_client(relay: RelayProcess, session: aiohttp.ClientSession) -> None:
    slot_id, token = await allocate(session, relay.url)
    streams = [await session.get(f"{relay.url}/v1/events/{slot_id}/stream", headers=auth(token)) for _ in range(3)]
    try:
        assert all(s.status == 200 for s in streams)
        async with session.get(f"{relay.url}/v1/events/{slot_id}/stream", headers=auth(token)) as resp:
            assert resp.status == 503
            assert int(resp.headers["Retry-After"]) > 0
    finally:
        for s in streams:
            s.close()


# ------------------------------------------------------------------------------ 4. work before auth


@pytest.mark.parametrize("relay_args", [["--body-timeout", "1"]])
async def test_anonymous_slow_uploads_do_not_hold_the_batch_gate(
    relay: RelayProcess, session: aiohttp.ClientSession
) -> None:
    assert relay.port is not None
    slot_id, token = await allocate(session, relay.url)
    slow: list[socket.socket] = []
    try:
        for _ in range(8):  # twice the gate's width, 16 MiB each announced, a trickle sent
            sock = raw_connect(relay.port)
            sock.sendall(
                f"POST /v1/events/{slot_id}/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {16 * 1024 * 1024}\r\n\r\n{{".encode()
            )
            slow.append(sock)
        for sock in slow:
            assert read_reply(sock, 3.0).startswith(b"HTTP/1.1 401")  # refused before the body
        events = [{"event_id": f"e{n}", "n": n} for n in range(100)]
        started = time.monotonic()
        async with session.post(
            f"{relay.url}/v1/events/{slot_id}/batch", json={"events": events}, headers=auth(token)
        ) as resp:
            assert resp.status == 200
        assert time.monotonic() - started < 2.0
        # even a token holder cannot hold a handler with a slow body
        sock = raw_connect(relay.port)
        slow.append(sock)
        sock.sendall(
            f"POST /v1/events/{slot_id} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n{{".encode()
        )
        assert read_reply(sock, 5.0).startswith(b"HTTP/1.1 408")
    finally:
        for sock in slow:
            sock.close()


# --------------------------------------------------------------------- 5. one IP silencing a nick


async def test_junk_intros_cannot_silence_a_nick(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    with RelayProcess(tmp_path, rate_limits=True, extra_args=["--log-level", "warning"]) as relay:
        alice = make_agent("alice", 1)
        slot_id, token = await allocate(session, relay.url)
        assert await _claim(session, relay.url, alice, slot_id, token, proven=True) == 201
        pest = make_agent("pest", 9)
        junk = pest.event()
        junk["signature"] = "A" * 86 + "=="
        async with attacker_session() as attacker:
            for _ in range(30):
                async with attacker.post(f"{relay.url}/v1/handle/intro/alice", json={"event": junk}) as resp:
                    assert resp.status == 400
        friend = make_agent("friend", 12)
        async with session.post(f"{relay.url}/v1/handle/intro/alice", json={"event": friend.event()}) as resp:
            assert resp.status == 201


# ------------------------------------------------------------------ 6. lifetime quota → backlog quota


async def _fill(session: aiohttp.ClientSession, url: str, slot_id: str, token: str, prefix: str) -> list[str]:
    """Post 200 KiB events until the slot's quota refuses one; returns the stored ids."""
    stored: list[str] = []
    pad = "x" * (200 * 1024)
    for n in range(400):
        event_id = f"{prefix}{n}"
        async with session.post(
            f"{url}/v1/events/{slot_id}", json={"event": {"event_id": event_id, "p": pad}}, headers=auth(token)
        ) as resp:
            if resp.status == 413:
                assert "acknowledge" in (await resp.json())["remediation"]
                return stored
            assert resp.status == 201
            stored.append(event_id)
    raise AssertionError("the quota never refused")


async def _ack(session: aiohttp.ClientSession, url: str, slot_id: str, token: str, through: str) -> Any:
    async with session.post(f"{url}/v1/slot/{slot_id}/ack", json={"through": through}, headers=auth(token)) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_acknowledged_events_leave_the_quota_and_are_deleted(tmp_path: Path) -> None:
    args = ["--log-level", "warning", "--acked-retention", "0", "--sweep-interval", "0.2"]
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        with RelayProcess(tmp_path, extra_args=args) as relay:
            slot_id, token = await allocate(session, relay.url)
            stored = await _fill(session, relay.url, slot_id, token, "a")
            assert len(stored) > 300  # 64 MiB of 200 KiB events
            async with session.post(
                f"{relay.url}/v1/slot/{slot_id}/ack", json={"through": stored[-1]}, headers=auth("f" * 64)
            ) as resp:
                assert resp.status == 403  # owner only
            acked = await _ack(session, relay.url, slot_id, token, stored[-1])
            assert acked["backlog_bytes"] == 0
            more = await _fill(session, relay.url, slot_id, token, "b")  # the slot lives on
            assert len(more) == len(stored)
            deadline = time.monotonic() + 20
            while True:  # the sweep deletes the acknowledged ones
                async with session.get(f"{relay.url}/v1/slot/{slot_id}/state", headers=auth(token)) as resp:
                    if (await resp.json())["event_count"] == len(more):
                        break
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
            async with session.get(f"{relay.url}/v1/events/{slot_id}?limit=1", headers=auth(token)) as resp:
                assert [e["event_id"] for e in await resp.json()] == ["b0"]


async def test_ack_on_one_postgres_relay_frees_the_quota_on_the_other(tmp_path: Path, fresh_pg_url: str) -> None:
    args = ["--log-level", "warning"]
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        with (
            RelayProcess(tmp_path / "a", store_url=fresh_pg_url, extra_args=args) as a,
            RelayProcess(tmp_path / "b", store_url=fresh_pg_url, extra_args=args) as b,
        ):
            slot_id, token = await allocate(session, a.url)
            stored = await _fill(session, a.url, slot_id, token, "a")
            await _ack(session, b.url, slot_id, token, stored[-1])
            async with session.post(
                f"{a.url}/v1/events/{slot_id}", json={"event": {"event_id": "after"}}, headers=auth(token)
            ) as resp:
                assert resp.status == 201


async def test_operator_retention_covers_clients_that_never_acknowledge(tmp_path: Path) -> None:
    args = ["--log-level", "warning", "--event-retention", "1", "--sweep-interval", "0.2"]
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        with RelayProcess(tmp_path, extra_args=args) as relay:
            slot_id, token = await allocate(session, relay.url)
            async with session.post(
                f"{relay.url}/v1/events/{slot_id}", json={"event": {"event_id": "old"}}, headers=auth(token)
            ) as resp:
                assert resp.status == 201
            deadline = time.monotonic() + 15
            while True:
                async with session.get(f"{relay.url}/v1/events/{slot_id}", headers=auth(token)) as resp:
                    if await resp.json() == []:
                        break
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)


# -------------------------------------------------------------------- 7. memory growth via pair slots


@pytest.mark.parametrize("relay_args", [["--max-pair-slots", "50"]])
async def test_pair_slots_are_shaped_and_capped(relay: RelayProcess, session: aiohttp.ClientSession) -> None:
    msg = b64encode(b"m" * 33)
    async with session.post(
        f"{relay.url}/v1/pair", json={"code_hash": "a" * 64, "msg": "x" * 500_000, "role": "host"}
    ) as resp:
        assert resp.status == 413
    statuses = []
    for n in range(60):
        body = {"code_hash": f"{n:064x}", "msg": msg, "role": "host"}
        async with session.post(f"{relay.url}/v1/pair", json=body) as resp:
            statuses.append(resp.status)
    assert statuses[:50] == [201] * 50
    assert set(statuses[50:]) == {503}


# ------------------------------------------------------------------------ 8. forwarded-for spoofing


async def test_forwarded_for_uses_the_right_most_untrusted_hop(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    with RelayProcess(
        tmp_path, rate_limits=True, extra_args=["--log-level", "warning", "--trusted-proxies", "1"]
    ) as relay:
        statuses = []
        for n in range(40):  # a client rotating the part of the header it controls
            headers = {"X-Forwarded-For": f"10.9.{n}.1, 203.0.113.9"}
            async with session.get(f"{relay.url}/i/{secrets.token_hex(16)}", headers=headers) as resp:
                statuses.append(resp.status)
        assert statuses.count(429) >= 15
        headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", "Host": "relay.example"}
        async with session.get(f"{relay.url}/i/{secrets.token_hex(16)}", headers=headers) as resp:
            assert resp.status == 404  # another client
        async with session.get(f"{relay.url}/", headers=headers) as resp:
            assert "https://relay.example" in await resp.text()
            assert resp.headers["Cache-Control"].startswith("private")


# ------------------------------------------------------------------------------------ 9. smaller ones


async def test_huge_integers_are_a_clean_400(relay: RelayProcess, session: aiohttp.ClientSession) -> None:
    slot_id, token = await allocate(session, relay.url)
    big = b"9" * 5000
    for path in (f"/v1/events/{slot_id}", f"/v1/events/{slot_id}/batch", "/v1/handle/claim", "/v1/slot/allocate"):
        body = b'{"event":' + big + b',"events":[' + big + b'],"nick":' + big + b"}"
        async with session.post(
            f"{relay.url}{path}", data=body, headers={"Content-Type": "application/json", **auth(token)}
        ) as resp:
            assert resp.status == 400, path
            assert "error" in await resp.json()
    assert "Traceback" not in relay.stderr_path.read_text()


async def test_http_0_9_is_refused(relay: RelayProcess) -> None:
    assert relay.port is not None
    sock = raw_connect(relay.port, "127.0.0.1")
    try:
        sock.sendall(b"GET /healthz\r\n\r\n")
        reply = read_reply(sock, 3.0)
    finally:
        sock.close()
    assert b" 505 " in reply.split(b"\r\n", 1)[0]
    assert b"ok\n" not in reply


async def test_landing_page_from_a_host_header_is_not_publicly_cacheable(
    relay: RelayProcess, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{relay.url}/", headers={"Host": "evil.example"}) as resp:
        assert resp.headers["Cache-Control"].startswith("private")
    async with session.get(f"{relay.url}/v1/info") as resp:
        limits = (await resp.json())["limits"]
    assert limits["max_card_bytes"] > 0
    assert limits["max_intro_bytes"] > 0


async def test_public_url_pages_are_cacheable(tmp_path: Path, session: aiohttp.ClientSession) -> None:
    args = ["--log-level", "warning", "--public-url", "https://relay.example"]
    with RelayProcess(tmp_path, extra_args=args) as relay:
        async with session.get(f"{relay.url}/", headers={"Host": "evil.example"}) as resp:
            text = await resp.text()
            assert resp.headers["Cache-Control"].startswith("public")
        assert "evil.example" not in text
        assert "relay.example" in text
