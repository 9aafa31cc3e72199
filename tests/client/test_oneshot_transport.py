# SPDX-License-Identifier: MIT
"""The stdlib ``oneshot`` relay transport: same routes, verdicts and errors as aiohttp, no aiohttp import.

Against a real relay process (TCP and Unix socket), plus tiny raw-socket stand-ins for the answers a
relay should never give (silence, garbage, truncation) and the framings it may use (chunked).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.helpers.agents import inbox_lines, make_agent, unused_port
from tests.helpers.relay_process import RelayProcess
from wire_client import (
    Endpoint,
    RelayClient,
    RelayError,
    RelayProtocolError,
    RelayTimeout,
    RelayUnreachable,
    Scope,
    WireAgent,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def oneshot_pair(root: Path, relay_url: str) -> tuple[WireAgent, WireAgent]:
    """alice sends with the oneshot transport, bob receives with the default (aiohttp) one."""
    alice, bob = make_agent(root, "alice"), make_agent(root, "bob")
    alice = WireAgent(alice.home, alice.identity, transport="oneshot")
    await alice.bind_relay(relay_url)
    await bob.bind_relay(relay_url)
    alice.add_peer(bob.card, bob.endpoints())
    bob.add_peer(alice.card, alice.endpoints())
    return alice, bob


async def test_send_through_oneshot_is_delivered_and_verified(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await oneshot_pair(tmp_path, shared_relay.url)
    async with alice, bob:
        assert alice.pool.client(shared_relay.url).transport == "oneshot"
        result = await alice.send("bob", {"text": "hi over stdlib"})
        assert result.status == "delivered"
        assert result.endpoint == f"federation {shared_relay.url}"
        event = alice.sender.build("bob", "twice")
        assert (await alice.sender.send_signed("bob", event)).status == "delivered"
        assert (await alice.sender.send_signed("bob", event)).status == "duplicate"
        reports = await bob.pull()
        assert [e.text for e in reports[0].inboxed] == ['{"text":"hi over stdlib"}', "twice"]
        assert [line["body"] for line in inbox_lines(bob, "alice")] == [{"text": "hi over stdlib"}, "twice"]


async def test_every_route_speaks_oneshot(shared_relay: RelayProcess) -> None:
    async with RelayClient(shared_relay.url, transport="oneshot") as relay:
        assert await relay.healthz()
        info = await relay.info()
        assert info.supports("batch")
        slot = await relay.allocate_slot()
        assert len(slot.slot_token) == 64
        assert (await relay.post_event(slot, {"event_id": "o1", "body": "é ✓"})).status == "stored"
        results = await relay.post_batch(slot, [{"event_id": "o2"}, {"event_id": "o1"}])
        assert [r.status for r in results] == ["stored", "duplicate"]
        listed = await relay.list_events(slot, since="o1", limit=5)
        assert [e["event_id"] for e in listed] == ["o2"]
        assert [e["body"] for e in await relay.list_events(slot, limit=1)] == ["é ✓"]
        assert (await relay.slot_state(slot))["event_count"] == 2


async def test_http_errors_keep_status_message_and_body(shared_relay: RelayProcess) -> None:
    async with RelayClient(shared_relay.url, transport="oneshot") as relay:
        slot = await relay.allocate_slot()
        with pytest.raises(RelayError) as bad_token:
            await relay.post_event(Endpoint(slot.relay_url, slot.slot_id, "0" * 64), {"event_id": "x"})
        assert bad_token.value.status == 403
        assert isinstance(bad_token.value.body, dict)
        with pytest.raises(RelayError) as unknown:
            await relay.list_events(Endpoint(slot.relay_url, "f" * 32, "0" * 64))
        assert unknown.value.status == 404
        assert unknown.value.message


async def test_connection_refused_is_unreachable_and_chained() -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    async with RelayClient(url, transport="oneshot") as dead:
        assert not await dead.healthz()
        with pytest.raises(RelayUnreachable, match="connect error") as caught:
            await dead.allocate_slot()
        assert isinstance(caught.value.__cause__, OSError)
    async with RelayClient("http://", transport="oneshot") as invalid:
        with pytest.raises(RelayUnreachable, match="not a valid relay URL"):
            await invalid.info()


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start a loopback TCP server with a hand-written handler; returns its base URL."""
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def answering(raw: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw)
        await writer.drain()
        writer.close()

    return handler


async def test_silence_is_a_timeout(raw_server: Callable[[Handler], Awaitable[str]]) -> None:
    held = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await held.wait()  # read nothing, answer nothing
        writer.close()

    url = await raw_server(silent)
    try:
        async with RelayClient(url, timeout=0.3, transport="oneshot") as relay:
            with pytest.raises(RelayTimeout, match="timeout"):
                await relay.allocate_slot()
    finally:
        held.set()


async def test_framings_and_malformed_answers(raw_server: Callable[[Handler], Awaitable[str]]) -> None:
    pieces = [b'{"features":["', b'batch"],', b'"x":1}']
    body = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\nX-Trailer: 1\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked = await raw_server(answering(head + body))
    async with RelayClient(chunked, transport="oneshot") as relay:
        assert (await relay.info()).supports("batch")
    to_eof = await raw_server(answering(b'HTTP/1.0 200 OK\r\n\r\n{"features":["sse-replay"]}'))
    async with RelayClient(to_eof, transport="oneshot") as relay:
        assert (await relay.info()).supports("sse-replay")
    teapot = await raw_server(answering(b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 5\r\n\r\nshort"))
    async with RelayClient(teapot, transport="oneshot") as relay:
        with pytest.raises(RelayError) as refused:
            await relay.allocate_slot()
        assert refused.value.status == 418
    truncated = await raw_server(answering(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"slot_id"'))
    async with RelayClient(truncated, transport="oneshot") as relay:
        with pytest.raises(RelayProtocolError, match="truncated"):
            await relay.allocate_slot()
    garbage = await raw_server(answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"))
    async with RelayClient(garbage, transport="oneshot") as relay:
        with pytest.raises(RelayProtocolError, match="malformed"):
            await relay.allocate_slot()
    hangup = await raw_server(answering(b""))
    async with RelayClient(hangup, transport="oneshot") as relay:
        with pytest.raises(RelayUnreachable):
            await relay.allocate_slot()


async def test_unix_socket_relay_over_oneshot(tmp_path: Path) -> None:
    socket_path = tmp_path / "r.sock"
    with RelayProcess(tmp_path, uds=socket_path) as relay:
        async with RelayClient(relay.url, transport="oneshot") as client:
            assert await client.healthz()
            slot = await client.allocate_slot(scope=Scope.UDS)
            assert slot.relay_url == relay.url
            assert (await client.post_event(slot, {"event_id": "u1"})).status == "stored"
            assert [e["event_id"] for e in await client.list_events(slot)] == ["u1"]
    async with RelayClient(f"unix://{tmp_path / 'gone.sock'}", transport="oneshot") as gone:
        with pytest.raises(RelayUnreachable, match="connect error"):
            await gone.info()


async def test_sender_fallback_and_outbox_unchanged(own_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await oneshot_pair(tmp_path, own_relay.url)
    async with alice, bob:
        dead_lan = Endpoint(f"http://127.0.0.1:{unused_port()}", "d" * 32, "e" * 64, Scope.LAN)
        alice.relay_state.pin_peer_endpoints("bob", [dead_lan, *bob.endpoints()])
        first = await alice.send("bob", "via federation")
        assert first.status == "delivered"
        assert first.endpoint == f"federation {own_relay.url}"
        own_relay.kill()
        queued = await alice.send("bob", "while down")
        assert queued.status == "queued"
        assert queued.reason is not None
        assert "connect error" in queued.reason
        assert len(alice.home.outbox_path("bob").read_text().splitlines()) == 1
        own_relay.restart()
        assert [r.status for r in await alice.push()] == ["delivered"]
        await bob.pull()
        assert [line["body"] for line in inbox_lines(bob, "alice")] == ["via federation", "while down"]


def test_unknown_transport_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown relay transport"):
        RelayClient("http://127.0.0.1:1", transport="carrier-pigeon")  # type: ignore[arg-type]


def test_a_oneshot_send_never_imports_aiohttp(shared_relay: RelayProcess, tmp_path: Path) -> None:
    asyncio.run(_prepare_pair(tmp_path, shared_relay.url))
    script = textwrap.dedent(
        f"""
        import asyncio, json, sys
        from wire_client import open_home

        async def main():
            async with await open_home({str(tmp_path / "alice")!r}, transport="oneshot") as agent:
                result = await agent.send("bob", "no aiohttp here")
            print(json.dumps({{"status": result.status, "aiohttp": "aiohttp" in sys.modules}}))

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == {"status": "delivered", "aiohttp": False}


async def _prepare_pair(root: Path, relay_url: str) -> None:
    alice, bob = await oneshot_pair(root, relay_url)
    await alice.close()
    await bob.close()
