# SPDX-License-Identifier: AGPL-3.0-or-later
"""``GET /v1/events/:slot_id/stream`` — Server-Sent Events with replay from a cursor.

Reference behaviour kept: auth first (401/404/403 JSON), ``text/event-stream``, one
``data: <compact JSON event>`` message per event, a keep-alive comment every 30 s.

Our extension: each message carries ``id: <event_id>`` (omitted for events without an id), and a
client may resume with ``?since=<event_id>`` or the standard ``Last-Event-ID`` header: the stream
first replays every stored event after that one (all events when the id is unknown, as for GET
listing) and then continues live. Without a cursor only new events are sent (reference behaviour).

No gap, no duplicate: the handler subscribes for wake-ups BEFORE it reads anything, then reads by
sequence number (``seq > last sent``), so an event committed at any moment is either in a read or
triggers another read, and never appears twice.
"""

from __future__ import annotations

from typing import NoReturn

from aiohttp import web

from wire_relay.errors import ApiError, authorize, fail
from wire_relay.log import sse_log
from wire_relay.ratelimit import client_address
from wire_relay.state import CONFIG, STORE, STREAMS

__all__ = ["routes"]

routes = web.RouteTableDef()

REPLAY_PAGE = 1000
RETRY_AFTER_SECONDS = 10
KEEPALIVE = b": still on the line\n\n"


@routes.get("/v1/events/{slot_id}/stream")
async def stream(request: web.Request) -> web.StreamResponse:
    config, store, streams = request.app[CONFIG], request.app[STORE], request.app[STREAMS]
    slot_id = request.match_info["slot_id"]
    await authorize(request, store, slot_id)
    if streams.closing:
        fail(503, "relay is shutting down")
    if streams.count(slot_id) >= config.max_streams_per_slot:
        _busy("too many streams open on this slot", config.max_streams_per_slot)
    client = client_address(request, config)
    if streams.client_count(client) >= config.max_streams_per_client:
        _busy("too many streams open from this client", config.max_streams_per_client)
    if streams.count() >= config.max_streams:
        _busy("too many streams open on this relay", config.max_streams)
    cursor = request.query.get("since") or request.headers.get("Last-Event-ID") or None

    with store.subscribe(slot_id) as sub:
        streams.add(sub, client)
        try:
            if cursor is not None:
                after = await store.seq_of(slot_id, cursor) or 0
            else:
                after = await store.last_seq(slot_id)
            response = web.StreamResponse(
                headers={
                    "Content-Type": "text/event-stream",
                    "Cache-Control": "no-cache",
                    "X-Accel-Buffering": "no",
                }
            )
            await response.prepare(request)
            sse_log.debug("event=stream_open slot_id=%s replay=%s", slot_id, cursor is not None)
            while not streams.closing:
                events = await store.list_since_seq(slot_id, after, REPLAY_PAGE)
                if events:
                    parts: list[bytes] = []
                    for event in events:
                        if event.event_id is not None and "\n" not in event.event_id and "\r" not in event.event_id:
                            parts.append(b"id: " + event.event_id.encode() + b"\n")
                        parts.append(b"data: " + event.data + b"\n\n")
                    await response.write(b"".join(parts))
                    after = events[-1].seq
                    if len(events) == REPLAY_PAGE:
                        continue
                if not await sub.wait(config.sse_keepalive_seconds):
                    await response.write(KEEPALIVE)
        except ConnectionResetError:
            sse_log.debug("event=stream_closed_by_client slot_id=%s", slot_id)
        finally:
            streams.remove(sub, client)
    return response


def _busy(message: str, cap: int) -> NoReturn:
    raise ApiError(
        503,
        message,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        max_streams=cap,
        retry_after_seconds=RETRY_AFTER_SECONDS,
    )
