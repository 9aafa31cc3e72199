# SPDX-License-Identifier: MIT
"""RelayClient against a real relay process: every route, error translation, UDS, reference fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.helpers.agents import make_home, unused_port
from tests.helpers.relay_process import RelayProcess
from wire_client import Endpoint, RelayClient, RelayError, RelayUnreachable, Scope, WireAgent
from wire_protocol import JSONObject


async def test_discovery_and_slots(shared_relay: RelayProcess) -> None:
    async with RelayClient(shared_relay.url) as relay:
        assert await relay.healthz()
        info = await relay.info()
        assert info.supports("sse-replay")
        assert info.supports("batch")
        assert not info.is_reference
        slot = await relay.allocate_slot()
        assert len(slot.slot_id) == 32
        assert len(slot.slot_token) == 64
        assert "slot_token" not in repr(slot)
        assert slot.slot_token not in repr(slot)
        event: JSONObject = {"event_id": "e1", "body": "x"}
        assert (await relay.post_event(slot, event)).status == "stored"
        assert (await relay.post_event(slot, event)).status == "duplicate"
        results = await relay.post_batch(slot, [{"event_id": "e2"}, {"event_id": "e1"}, {"event_id": "e3"}])
        assert [r.status for r in results] == ["stored", "duplicate", "stored"]
        assert [e["event_id"] for e in await relay.list_events(slot)] == ["e1", "e2", "e3"]
        assert [e["event_id"] for e in await relay.list_events(slot, since="e1", limit=1)] == ["e2"]
        state = await relay.slot_state(slot)
        assert state["event_count"] == 3
        health = await relay.set_responder_health(slot, "online", set_at="2026-01-01T00:00:00Z")
        assert health["status"] == "online"


async def test_stream_replays_from_cursor(shared_relay: RelayProcess) -> None:
    async with RelayClient(shared_relay.url) as relay:
        slot = await relay.allocate_slot()
        await relay.post_batch(slot, [{"event_id": f"s{i}"} for i in range(3)])
        seen: list[str | None] = []

        async def consume() -> None:
            async for message in relay.stream(slot, since="s0"):
                seen.append(message.event_id)
                if len(seen) == 3:
                    return

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        await relay.post_event(slot, {"event_id": "s3"})
        await asyncio.wait_for(task, 10)
        assert seen == ["s1", "s2", "s3"]


async def test_errors_are_translated(shared_relay: RelayProcess) -> None:
    async with RelayClient(shared_relay.url) as relay:
        slot = await relay.allocate_slot()
        wrong = Endpoint(slot.relay_url, slot.slot_id, "0" * 64)
        with pytest.raises(RelayError) as bad_token:
            await relay.post_event(wrong, {"event_id": "x"})
        assert bad_token.value.status == 403
        assert isinstance(bad_token.value.body, dict)
        with pytest.raises(RelayError) as unknown:
            await relay.list_events(Endpoint(slot.relay_url, "f" * 32, "0" * 64))
        assert unknown.value.status == 404
    async with RelayClient(f"http://127.0.0.1:{unused_port()}") as dead:
        assert not await dead.healthz()
        with pytest.raises(RelayUnreachable, match="connect error") as caught:
            await dead.allocate_slot()
        assert caught.value.__cause__ is not None  # chained, but an aiohttp type never escapes


async def test_handle_directory(shared_relay: RelayProcess, tmp_path: Path) -> None:
    home, identity = make_home(tmp_path, "dirnick")
    agent = WireAgent(home, identity)
    async with agent:
        await agent.bind_relay(shared_relay.url)
        claimed = await agent.claim()
        assert claimed["status"] in ("claimed", "re-claimed")
        resolved = await agent.relay(shared_relay.url).resolve_handle("dirnick")
        assert resolved["did"] == identity.did
        assert "slot_token" not in resolved
        endpoint = agent.endpoints()[0]
        assert (await agent.relay(shared_relay.url).unclaim_handle("dirnick", endpoint))["status"] == "unclaimed"
        with pytest.raises(RelayError) as gone:
            await agent.relay(shared_relay.url).resolve_handle("dirnick")
        assert gone.value.status == 404


async def test_unix_socket_relay(tmp_path: Path) -> None:
    socket_path = tmp_path / "r.sock"
    with RelayProcess(tmp_path, uds=socket_path) as relay:
        assert relay.url == f"unix://{socket_path}"
        async with RelayClient(relay.url) as client:
            assert await client.healthz()
            slot = await client.allocate_slot(scope=Scope.UDS)
            assert slot.scope is Scope.UDS
            assert slot.relay_url == relay.url
            assert (await client.post_event(slot, {"event_id": "u1"})).status == "stored"
            assert [e["event_id"] for e in await client.list_events(slot)] == ["u1"]


def reference_relay_app(store: dict[str, list[JSONObject]]) -> web.Application:
    """A stand-in for a v0.9.3 relay: no /v1/info, SSE without ids, no batch route."""
    wake = asyncio.Event()
    routes = web.RouteTableDef()

    @routes.get("/healthz")
    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    @routes.post("/v1/slot/allocate")
    async def allocate(_: web.Request) -> web.Response:
        slot = f"{len(store):032x}"
        store[slot] = []
        return web.json_response({"slot_id": slot, "slot_token": "c" * 64}, status=201)

    @routes.post("/v1/events/{slot}")
    async def post(request: web.Request) -> web.Response:
        event = (await request.json())["event"]
        events = store[request.match_info["slot"]]
        if any(e.get("event_id") == event.get("event_id") for e in events):
            return web.json_response({"event_id": event.get("event_id"), "status": "duplicate"})
        events.append(event)
        wake.set()
        return web.json_response({"event_id": event.get("event_id"), "status": "stored"}, status=201)

    @routes.get("/v1/events/{slot}")
    async def listing(request: web.Request) -> web.Response:
        events = store[request.match_info["slot"]]
        since = request.query.get("since")
        ids = [e.get("event_id") for e in events]
        start = ids.index(since) + 1 if since in ids else 0
        return web.json_response(events[start : start + int(request.query.get("limit", "100"))])

    @routes.get("/v1/events/{slot}/stream")
    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        while True:
            await wake.wait()
            wake.clear()
            await response.write(b'data: {"wake":true}\n\n')

    app = web.Application()
    app.add_routes(routes)
    return app


@pytest.fixture
async def reference_relay() -> AsyncIterator[str]:
    server = TestServer(reference_relay_app({}), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_reference_relay_fallback(reference_relay: str) -> None:
    async with RelayClient(reference_relay) as relay:
        info = await relay.info()
        assert info.is_reference
        assert not info.supports("batch")
        slot = await relay.allocate_slot()
        results = await relay.post_batch(slot, [{"event_id": "a"}, {"event_id": "a"}])  # falls back to singles
        assert [r.status for r in results] == ["stored", "duplicate"]
