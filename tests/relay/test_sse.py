# SPDX-License-Identifier: MIT
"""SSE stream: live delivery, keep-alive, and our replay extension (cursor, Last-Event-ID, no gap)."""

from __future__ import annotations

import asyncio
import json

from aiohttp import ClientResponse

from tests.relay.conftest import Client, MakeRelay, bearer, new_slot


class SSEReader:
    """Parses an SSE response into (id, data) messages and comments, with bounded waits."""

    def __init__(self, resp: ClientResponse) -> None:
        self.resp = resp
        self.comments: list[str] = []

    async def next(self, within: float = 5.0) -> tuple[str | None, object]:
        event_id: str | None = None
        data: str | None = None
        async with asyncio.timeout(within):
            while True:
                raw = await self.resp.content.readline()
                assert raw, "stream ended"
                line = raw.decode().rstrip("\n")
                if line == "":
                    if data is not None:
                        return event_id, json.loads(data)
                    continue
                if line.startswith(":"):
                    self.comments.append(line)
                elif line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: "):
                    data = line[6:]

    async def take(self, n: int, within: float = 5.0) -> list[tuple[str | None, object]]:
        return [await self.next(within) for _ in range(n)]


async def post(client: Client, slot_id: str, token: str, event: object) -> int:
    resp = await client.post(f"/v1/events/{slot_id}", json={"event": event}, headers=bearer(token))
    return resp.status


async def open_stream(client: Client, slot_id: str, token: str, query: str = "", **headers: str) -> SSEReader:
    resp = await client.get(
        f"/v1/events/{slot_id}/stream{query}", headers={**bearer(token), "Accept": "text/event-stream", **headers}
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    return SSEReader(resp)


async def test_live_events_carry_ids(client: Client) -> None:
    slot_id, token = await new_slot(client)
    await post(client, slot_id, token, {"event_id": "before"})
    stream = await open_stream(client, slot_id, token)  # no cursor: live only, like the reference
    await post(client, slot_id, token, {"event_id": "live1", "n": 1})
    await post(client, slot_id, token, {"no": "id"})
    assert await stream.take(2) == [("live1", {"event_id": "live1", "n": 1}), (None, {"no": "id"})]
    stream.resp.close()


async def test_replay_from_since_then_live(client: Client) -> None:
    slot_id, token = await new_slot(client)
    for n in range(5):
        await post(client, slot_id, token, {"event_id": f"e{n}"})
    stream = await open_stream(client, slot_id, token, "?since=e1")
    assert [i for i, _ in await stream.take(3)] == ["e2", "e3", "e4"]
    await post(client, slot_id, token, {"event_id": "e5"})
    assert (await stream.next())[0] == "e5"
    stream.resp.close()


async def test_replay_from_last_event_id_header(client: Client) -> None:
    slot_id, token = await new_slot(client)
    for n in range(3):
        await post(client, slot_id, token, {"event_id": f"e{n}"})
    stream = await open_stream(client, slot_id, token, **{"Last-Event-ID": "e0"})
    assert [i for i, _ in await stream.take(2)] == ["e1", "e2"]
    stream.resp.close()


async def test_unknown_cursor_replays_everything(client: Client) -> None:
    slot_id, token = await new_slot(client)
    for n in range(3):
        await post(client, slot_id, token, {"event_id": f"e{n}"})
    stream = await open_stream(client, slot_id, token, "?since=never-seen")
    assert [i for i, _ in await stream.take(3)] == ["e0", "e1", "e2"]
    stream.resp.close()


async def test_no_gap_no_duplicate_while_posting(client: Client) -> None:
    slot_id, token = await new_slot(client)
    total = 300
    await post(client, slot_id, token, {"event_id": "e0"})
    started = asyncio.Event()

    async def poster() -> None:
        for n in range(1, total):
            await post(client, slot_id, token, {"event_id": f"e{n}"})
            if n == 50:
                started.set()

    task = asyncio.create_task(poster())
    async with asyncio.timeout(10):
        await started.wait()
    stream = await open_stream(client, slot_id, token, "?since=e0")
    got = [i for i, _ in await stream.take(total - 1, within=10)]
    await task
    assert got == [f"e{n}" for n in range(1, total)]
    stream.resp.close()


async def test_keepalive_comment(make_relay: MakeRelay) -> None:
    client = await make_relay(sse_keepalive_seconds=0.05)
    slot_id, token = await new_slot(client)
    stream = await open_stream(client, slot_id, token)
    async with asyncio.timeout(5):
        while not stream.comments:
            line = (await stream.resp.content.readline()).decode().strip()
            if line.startswith(":"):
                stream.comments.append(line)
    assert stream.comments[0].startswith(":")
    stream.resp.close()


async def test_stream_cap_per_slot(make_relay: MakeRelay) -> None:
    client = await make_relay(max_streams_per_slot=1)
    slot_id, token = await new_slot(client)
    first = await open_stream(client, slot_id, token)
    resp = await client.get(f"/v1/events/{slot_id}/stream", headers=bearer(token))
    assert resp.status == 503
    assert "error" in await resp.json()
    first.resp.close()


async def test_streams_active_in_stats(client: Client) -> None:
    slot_id, token = await new_slot(client)
    stream = await open_stream(client, slot_id, token)
    stats = await (await client.get("/stats.json")).json()
    assert stats["streams_active"] == 1
    stream.resp.close()
