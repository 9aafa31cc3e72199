# SPDX-License-Identifier: AGPL-3.0-or-later
"""Health, info, OpenAPI, stats (JSON, history, HTML) and the landing and phonebook pages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aiohttp import web

from wire_protocol import (
    CLAIM_PROOF_MAX_SKEW_SECONDS,
    CLAIM_PROOF_VERSION,
    LIST_LIMIT_DEFAULT,
    LIST_LIMIT_MAX,
    MAX_INVITE_URL_BYTES,
    PAIR_SLOT_TTL_SECONDS,
)
from wire_relay.__about__ import __version__
from wire_relay.errors import json_response, query_int
from wire_relay.openapi import openapi_document
from wire_relay.pages import favicon_svg, landing_page, phonebook_page, stats_page
from wire_relay.ratelimit import request_scheme
from wire_relay.routes_directory import profile_summary
from wire_relay.state import CONFIG, HISTORY, STORE, STREAMS

__all__ = ["FEATURES", "public_routes", "routes"]

routes = web.RouteTableDef()  # every mode
public_routes = web.RouteTableDef()  # public mode only

FEATURES = [
    "sse-replay",
    "batch",
    "openapi",
    "unclaim",
    "info",
    "claim-proof",
    "ack",
    "backlog-quota",
    "deposit-tokens",
]
PROTOCOL = "v3.1"
HTML_CACHE = {"Cache-Control": "public, max-age=60"}
PRIVATE_CACHE = {"Cache-Control": "private, max-age=60", "Vary": "Host"}
_HOST_RE = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


@routes.get("/v1/info")
async def info(request: web.Request) -> web.Response:
    """Our extension: what this relay is and which of our additions it supports."""
    config = request.app[CONFIG]
    return json_response(
        {
            "software": "wire-relay",
            "version": __version__,
            "protocol": PROTOCOL,
            "mode": config.mode,
            "limits": {
                "max_event_bytes": config.max_event_bytes,
                "slot_quota_bytes": config.slot_quota_bytes,
                "max_body_bytes": config.max_body_bytes,
                "max_batch_body_bytes": config.max_batch_body_bytes,
                "max_batch_events": config.max_batch_events,
                "list_limit_default": LIST_LIMIT_DEFAULT,
                "list_limit_max": LIST_LIMIT_MAX,
                "pair_slot_ttl_seconds": PAIR_SLOT_TTL_SECONDS,
                "max_invite_url_bytes": MAX_INVITE_URL_BYTES,
                "max_streams_per_slot": config.max_streams_per_slot,
                "max_streams_per_client": config.max_streams_per_client,
                "sse_keepalive_seconds": config.sse_keepalive_seconds,
                "max_card_bytes": config.max_card_bytes,
                "max_intro_bytes": config.max_intro_bytes,
                "max_pair_slots": config.max_pair_slots,
                "max_connections_per_client": config.max_connections_per_client,
                "header_timeout_seconds": config.header_timeout_seconds,
                "body_timeout_seconds": config.body_timeout_seconds,
                "idle_timeout_seconds": config.idle_timeout_seconds,
            },
            "claims": {
                "proof": "optional" if config.accept_unproven_claims else "required",
                "proof_version": CLAIM_PROOF_VERSION,
                "proof_max_skew_seconds": CLAIM_PROOF_MAX_SKEW_SECONDS,
            },
            "quota": {
                "kind": "backlog",
                "acked_retention_seconds": config.acked_retention_seconds,
                "event_retention_seconds": config.event_retention_seconds,
            },
            "features": FEATURES,
        }
    )


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document(public=request.app[CONFIG].public_routes))


async def current_stats(app: web.Application) -> dict[str, int]:
    config, store, streams = app[CONFIG], app[STORE], app[STREAMS]
    now = config.clock()
    snapshot = await store.stats(now)
    return {
        "uptime_seconds": max(0, int(now - app[HISTORY].started)),
        "handles_active": snapshot.handles_active,
        "slots_active": snapshot.slots_active,
        "pair_slots_open": snapshot.pair_slots_open,
        "streams_active": streams.count(),
        **snapshot.counters,
    }


def _wants_html(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "")


async def _stats_html(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    stats = await current_stats(request.app)
    history = request.app[HISTORY].since(config.clock() - 24 * 3600)
    return web.Response(text=stats_page(stats, history), content_type="text/html", charset="utf-8", headers=HTML_CACHE)


@public_routes.get("/stats")
async def stats(request: web.Request) -> web.Response:
    if _wants_html(request):
        return await _stats_html(request)
    return json_response({"version": __version__, **await current_stats(request.app)})


@public_routes.get("/stats.json")
async def stats_json(request: web.Request) -> web.Response:
    return json_response({"version": __version__, **await current_stats(request.app)})


@public_routes.get("/stats.html")
async def stats_html(request: web.Request) -> web.Response:
    return await _stats_html(request)


@public_routes.get("/stats.history")
async def stats_history(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    hours = max(1, min(query_int(request, "hours", 24), 168))
    now = config.clock()
    entries = request.app[HISTORY].since(now - hours * 3600)
    return json_response({"hours": hours, "now_unix": int(now), "count": len(entries), "entries": entries})


def base_url(request: web.Request) -> str:
    """``--public-url``, else the scheme (``X-Forwarded-Proto`` behind trusted proxies) and a
    syntactically checked Host header; pages built from the latter are never publicly cached."""
    config = request.app[CONFIG]
    if config.public_url:
        return config.public_url.rstrip("/")
    host = request.host if _HOST_RE.fullmatch(request.host or "") else "localhost"
    return f"{request_scheme(request, config)}://{host}"


def page_cache(request: web.Request) -> dict[str, str]:
    """Public caching only when the page does not depend on the request's Host header."""
    return HTML_CACHE if request.app[CONFIG].public_url else PRIVATE_CACHE


def domain_of(request: web.Request) -> str:
    return urlsplit(base_url(request)).netloc or "localhost"


@public_routes.get("/")
async def landing(request: web.Request) -> web.Response:
    stats = await current_stats(request.app)
    page = landing_page(base_url=base_url(request), domain=domain_of(request), stats=stats)
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=page_cache(request))


@public_routes.get("/favicon.svg")
async def favicon(_request: web.Request) -> web.Response:
    return web.Response(text=favicon_svg(), content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


async def _phonebook(request: web.Request) -> web.Response:
    cursor = request.query.get("cursor") or None
    records = await request.app[STORE].list_handles(cursor=cursor, limit=100, vibe=None)
    entries = [{"nick": r.nick, "profile": profile_summary(r), "claimed_at": r.claimed_at} for r in records]
    next_cursor = records[-1].nick if len(records) == 100 else None
    page = phonebook_page(entries, domain=domain_of(request), next_cursor=next_cursor)
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers=page_cache(request))


@public_routes.get("/phonebook")
async def phonebook(request: web.Request) -> web.Response:
    return await _phonebook(request)


@public_routes.get("/phonebook.html")
async def phonebook_html(request: web.Request) -> web.Response:
    return await _phonebook(request)
