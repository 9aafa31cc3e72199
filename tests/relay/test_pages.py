# SPDX-License-Identifier: MIT
"""Health, info, stats, pages (escaping), route sets per mode, and the OpenAPI document."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from aiohttp import web

from tests.relay.conftest import Client, FakeClock, MakeRelay, claim, make_agent, new_slot
from wire_relay.app import create_app
from wire_relay.config import RelayConfig
from wire_relay.openapi import PUBLIC_ONLY_PATHS, openapi_document


async def test_healthz(client: Client) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.text() == "ok\n"


async def test_info(client: Client) -> None:
    body = await (await client.get("/v1/info")).json()
    assert body["software"] == "wire-relay"
    assert body["protocol"] == "v3.1"
    assert body["features"] == [
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
    assert body["claims"]["proof"] == "required"
    assert body["quota"]["kind"] == "backlog"
    assert body["limits"]["max_card_bytes"] > 0
    assert body["limits"]["max_intro_bytes"] > 0
    assert body["limits"]["max_event_bytes"] == 262144
    assert body["limits"]["max_batch_events"] == 1000


async def test_stats_json_and_html(client: Client) -> None:
    slot_id, token = await new_slot(client)
    await client.post(f"/v1/events/{slot_id}", json={"event": {}}, headers={"Authorization": f"Bearer {token}"})
    stats = await (await client.get("/stats")).json()
    for key in (
        "version",
        "uptime_seconds",
        "handles_active",
        "slots_active",
        "pair_slots_open",
        "streams_active",
        "handle_claims_total",
        "handle_first_claims_total",
        "slot_allocations_total",
        "pair_opens_total",
        "events_posted_total",
    ):
        assert key in stats
    assert stats["slots_active"] == 1
    assert stats["events_posted_total"] == 1
    assert await (await client.get("/stats.json")).json() == {**stats, "uptime_seconds": stats["uptime_seconds"]}
    resp = await client.get("/stats", headers={"Accept": "text/html,application/xhtml+xml"})
    assert resp.content_type == "text/html"
    assert "events posted" in await resp.text()
    assert (await client.get("/stats.html")).content_type == "text/html"


async def test_stats_history(make_relay: MakeRelay, clock: FakeClock) -> None:
    client = await make_relay(clock=clock)
    body = await (await client.get("/stats.history")).json()
    assert body["hours"] == 24
    assert body["count"] == 1  # one sample taken at start-up
    assert body["entries"][0]["ts"] == int(clock.now)
    assert (await (await client.get("/stats.history?hours=999")).json())["hours"] == 168
    assert (await client.get("/stats.history?hours=x")).status == 400


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


async def test_pages_render_and_escape_card_text(client: Client) -> None:
    evil = make_agent("evil", 5, {"motto": "<script>alert(1)</script>", "emoji": '"><img src=x>', "vibe": ["<b>"]})
    slot_id, token = await new_slot(client)
    assert (await claim(client, evil, slot_id, token)).status == 201
    for path in ("/", "/phonebook", "/phonebook.html", "/stats.html"):
        resp = await client.get(path)
        assert resp.status == 200, path
        assert resp.content_type == "text/html"
        text = await resp.text()
        parser = _Collector()
        parser.feed(text)
        assert "script" not in parser.tags
        assert "img" not in parser.tags
    phonebook = await (await client.get("/phonebook")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in phonebook
    assert "evil" in phonebook
    assert (await client.get("/favicon.svg")).content_type == "image/svg+xml"


@pytest.mark.parametrize("mode", ["local-only", "uds"])
async def test_local_modes_drop_public_routes(make_relay: MakeRelay, mode: str) -> None:
    client = await make_relay(mode=mode)
    for path in ("/", "/stats", "/stats.json", "/phonebook", "/v1/handles", "/.well-known/wire/agent?handle=a"):
        assert (await client.get(path)).status == 404, path
    assert (await client.post("/v1/invite/register", json={"invite_url": "x"})).status == 404
    assert (await client.get("/i/abcdef")).status == 404
    assert (await client.get("/healthz")).status == 200
    slot_id, token = await new_slot(client)
    assert (await claim(client, make_agent("alice"), slot_id, token)).status == 201  # claim stays
    doc = await (await client.get("/openapi.json")).json()
    assert not set(doc["paths"]) & PUBLIC_ONLY_PATHS


def _app_routes(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        assert isinstance(path, str)
        found.add((route.method.lower(), path))
    return found


def _doc_routes(doc: dict[str, object]) -> set[tuple[str, str]]:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    return {(method, path) for path, item in paths.items() for method in item if method != "parameters"}


@pytest.mark.parametrize("mode", ["public", "local-only"])
def test_openapi_matches_routes(mode: str) -> None:
    app = create_app(RelayConfig(mode=mode))  # type: ignore[arg-type]
    doc = openapi_document(public=mode == "public")
    assert _doc_routes(doc) == _app_routes(app)


def test_openapi_document_is_valid() -> None:
    pytest.importorskip("jsonschema")
    from schemathesis.specs.openapi import definitions  # type: ignore[import-untyped]

    doc = openapi_document()
    assert doc["openapi"] == "3.1.0"
    import jsonschema

    jsonschema.Draft202012Validator(definitions.OPENAPI_31).validate(doc)
    # every $ref resolves
    text = repr(doc)
    for ref in re.findall(r"#/components/schemas/(\w+)", text):
        assert ref in doc["components"]["schemas"]


async def test_openapi_served(client: Client) -> None:
    doc = await (await client.get("/openapi.json")).json()
    assert doc["openapi"] == "3.1.0"
    assert "/v1/events/{slot_id}/batch" in doc["paths"]
