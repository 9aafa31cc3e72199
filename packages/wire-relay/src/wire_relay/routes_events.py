# SPDX-License-Identifier: AGPL-3.0-or-later
"""Slots and events: allocate, post (single and batch), list, slot state, responder health.

Handlers are thin: parse → authorise → size/shape rules → one store call → answer. The event is
serialised once (``compact_json``: sorted keys, compact) — that is both the stored form and the size
measured against the 256 KiB cap and the per-slot quota.
"""

from __future__ import annotations

import secrets
from json.encoder import encode_basestring

from aiohttp import web

from wire_protocol import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, CanonicalizationError
from wire_relay.codec import stored_form
from wire_relay.config import RelayConfig
from wire_relay.errors import (
    ApiError,
    authorize,
    authorize_post,
    fail,
    json_response,
    opt_str,
    query_int,
    read_object,
    read_object_tracking,
    req_str,
)
from wire_relay.ratelimit import check_rate, client_address
from wire_relay.state import BATCH_GATE, CONFIG, STORE
from wire_relay.store import EventItem, Store

__all__ = ["routes"]

routes = web.RouteTableDef()

_JSON = "application/json"
ACK_BODY_MAX_BYTES = 4096
_JSON_HEADERS = {"Content-Type": _JSON}  # copied by web.Response; cheaper than content_type=


def _verdict_response(event_id: str | None, status: int, verdict: bytes) -> web.Response:
    """``json_response({"event_id": event_id, "status": ...})`` without the generic encoder (hot path)."""
    encoded = b"null" if event_id is None else encode_basestring(event_id).encode()
    return web.Response(body=b'{"event_id":' + encoded + verdict, status=status, headers=_JSON_HEADERS)


def _serialize(event: object, plain: bool) -> tuple[str | None, bytes]:
    """``(event_id, stored bytes)``; the id is the event's ``event_id`` when that is a string."""
    try:
        data = stored_form(event, plain)
    except CanonicalizationError as exc:
        fail(400, f"event cannot be stored: {exc.message}")
    event_id = event.get("event_id") if isinstance(event, dict) else None
    return (event_id if isinstance(event_id, str) else None), data


def quota_error(used: int, quota: int, message: str = "slot quota exceeded") -> web.Response:
    return json_response(
        {
            "error": message,
            "slot_bytes_used": used,
            "slot_bytes_max": quota,
            "remediation": "the quota counts unacknowledged events: the slot's owner must read them and "
            "acknowledge (POST /v1/slot/{slot_id}/ack) so they stop counting",
        },
        status=413,
    )


@routes.post("/v1/slot/allocate")
async def allocate(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    await check_rate(store, config, "allocate", client_address(request, config))
    body = await read_object(request, config.max_body_bytes)
    opt_str(body, "handle")  # accepted for compatibility, ignored
    slot_id, token = secrets.token_hex(16), secrets.token_hex(32)
    try:
        await store.allocate_slot(slot_id, token, config.clock())
    except Exception as exc:  # noqa: BLE001 - reference: 500 "persist failed: ..."
        fail(500, f"persist failed: {type(exc).__name__}")
    return json_response({"slot_id": slot_id, "slot_token": token}, status=201)


@routes.post("/v1/events/{slot_id}")
async def post_event(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    slot_id = request.match_info["slot_id"]
    await authorize_post(request, store, slot_id)  # path and header only: no body byte read before this
    body, plain = await read_object_tracking(request, config.max_body_bytes)
    if "event" not in body:
        fail(422, "missing field `event`")
    event_id, data = _serialize(body["event"], plain)
    if len(data) > config.max_event_bytes:
        return json_response({"error": "event exceeds 256 KiB", "max_bytes": config.max_event_bytes}, status=413)
    result = await store.append(slot_id, EventItem(event_id, data), quota=config.slot_quota_bytes)
    if result.status == "stored":
        return _verdict_response(event_id, 201, b',"status":"stored"}')
    if result.status == "duplicate":
        return _verdict_response(event_id, 200, b',"status":"duplicate"}')
    if result.status == "quota_exceeded":
        return quota_error(result.slot_bytes_used, config.slot_quota_bytes)
    raise ApiError(404, "unknown slot")


@routes.post("/v1/events/{slot_id}/batch")
async def post_batch(request: web.Request) -> web.Response:
    """Our extension: up to ``max_batch_events`` events, one transaction, one verdict each.

    Authorised from the path and header first; only then does the request take the batch gate and
    read its (up to 16 MiB) body, so anonymous uploads can neither hold the gate nor cost a parse."""
    config, store = request.app[CONFIG], request.app[STORE]
    slot_id = request.match_info["slot_id"]
    await authorize_post(request, store, slot_id)
    async with request.app[BATCH_GATE]:
        return await _post_batch(request, config, store, slot_id)


async def _post_batch(request: web.Request, config: RelayConfig, store: Store, slot_id: str) -> web.Response:
    body, plain = await read_object_tracking(request, config.max_batch_body_bytes)
    events = body.get("events")
    if not isinstance(events, list):
        fail(422, "field `events` must be an array" if "events" in body else "missing field `events`")
    if len(events) > config.max_batch_events:
        fail(413, "too many events in one batch", max_events=config.max_batch_events)
    results: list[dict[str, object]] = []
    items: list[EventItem] = []
    positions: list[int] = []
    for index, event in enumerate(events):
        try:
            data = stored_form(event, plain)
        except CanonicalizationError as exc:
            results.append({"index": index, "event_id": None, "status": "rejected", "error": exc.message})
            continue
        raw_id = event.get("event_id") if isinstance(event, dict) else None
        event_id = raw_id if isinstance(raw_id, str) else None
        results.append({"index": index, "event_id": event_id, "status": "rejected"})
        if len(data) > config.max_event_bytes:
            results[-1]["error"] = "event exceeds 256 KiB"
            continue
        items.append(EventItem(event_id, data))
        positions.append(index)
    verdicts = await store.append_batch(slot_id, items, quota=config.slot_quota_bytes)
    for index, verdict in zip(positions, verdicts, strict=True):
        entry = results[index]
        if verdict.status in ("stored", "duplicate"):
            entry["status"] = verdict.status
        else:
            entry["error"] = "slot quota exceeded" if verdict.status == "quota_exceeded" else "unknown slot"
    return json_response({"results": results})


@routes.get("/v1/events/{slot_id}")
async def list_events(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    limit = min(query_int(request, "limit", LIST_LIMIT_DEFAULT), LIST_LIMIT_MAX)
    since = request.query.get("since")
    slot_id = request.match_info["slot_id"]
    await authorize(request, store, slot_id)
    rows = await store.list_events(slot_id, since, limit)
    await store.touch_pull(slot_id, config.clock())
    return web.Response(body=b"[" + b",".join(rows) + b"]", content_type=_JSON)


@routes.get("/v1/slot/{slot_id}/state")
async def slot_state(request: web.Request) -> web.Response:
    store = request.app[STORE]
    slot_id = request.match_info["slot_id"]
    await authorize(request, store, slot_id)
    state = await store.slot_state(slot_id)
    if state is None:
        fail(404, "unknown slot")
    return json_response(
        {
            "slot_id": slot_id,
            "event_count": state.event_count,
            "last_pull_at_unix": state.last_pull_at_unix,
            "responder_health": state.responder_health,
        }
    )


@routes.post("/v1/slot/{slot_id}/responder-health")
async def responder_health(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    body = await read_object(request, config.max_body_bytes)
    record: dict[str, str | None] = {
        "status": req_str(body, "status"),
        "reason": opt_str(body, "reason"),
        "last_success_at": opt_str(body, "last_success_at"),
        "set_at": req_str(body, "set_at"),
    }
    slot_id = request.match_info["slot_id"]
    await authorize(request, store, slot_id)
    await store.set_responder_health(slot_id, dict(record))
    return json_response(record)


@routes.post("/v1/slot/{slot_id}/ack")
async def acknowledge(request: web.Request) -> web.Response:
    """Our extension: the owner read through event ``through``; it and everything before it stop
    counting against the (backlog) quota and are deleted after the acknowledged-retention window."""
    config, store = request.app[CONFIG], request.app[STORE]
    slot_id = request.match_info["slot_id"]
    await authorize(request, store, slot_id)
    body = await read_object(request, ACK_BODY_MAX_BYTES)
    through = req_str(body, "through")
    now = config.clock()
    result = await store.ack(slot_id, through, now)
    if result is None:
        fail(404, "no event with that event_id in this slot", through=through)
    return json_response(
        {
            "slot_id": slot_id,
            "acked_through": through,
            "backlog_bytes": result.backlog_bytes,
            "slot_bytes_max": config.slot_quota_bytes,
            "deleted_after_unix": int(now + config.acked_retention_seconds),
        }
    )
