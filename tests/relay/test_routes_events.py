# SPDX-License-Identifier: MIT
"""Slots and events routes: success paths, every documented error, and the order of checks."""

from __future__ import annotations

import asyncio
import io
import json

import pytest

from tests.relay.conftest import Client, MakeRelay, bearer, new_slot

SLOT0 = "0" * 32


async def post_event(client: Client, slot_id: str, token: str | None, event: object) -> tuple[int, object]:
    headers = bearer(token) if token is not None else {}
    resp = await client.post(f"/v1/events/{slot_id}", json={"event": event}, headers=headers)
    return resp.status, await resp.json()


async def test_allocate_returns_hex_ids(client: Client) -> None:
    resp = await client.post("/v1/slot/allocate", json={"handle": "ignored"})
    assert resp.status == 201
    body = await resp.json()
    assert len(body["slot_id"]) == 32
    assert len(body["slot_token"]) == 64
    int(body["slot_id"], 16)
    int(body["slot_token"], 16)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),
        ({"data": b"{}"}, 415),
        ({"data": b"{nope", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": []}, 422),
        ({"json": {"handle": 5}}, 422),
    ],
)
async def test_allocate_body_errors(client: Client, kwargs: dict[str, object], status: int) -> None:
    resp = await client.post("/v1/slot/allocate", **kwargs)  # type: ignore[arg-type]
    assert resp.status == status
    assert "error" in await resp.json()


async def test_post_list_dedupe_roundtrip(client: Client) -> None:
    slot_id, token = await new_slot(client)
    assert await post_event(client, slot_id, token, {"event_id": "a", "z": 1, "b": [1, 2]}) == (
        201,
        {"event_id": "a", "status": "stored"},
    )
    assert await post_event(client, slot_id, token, {"event_id": "a", "z": 2}) == (
        200,
        {"event_id": "a", "status": "duplicate"},
    )
    assert await post_event(client, slot_id, token, {"no": "id"}) == (201, {"event_id": None, "status": "stored"})
    assert await post_event(client, slot_id, token, {"no": "id"}) == (201, {"event_id": None, "status": "stored"})
    assert await post_event(client, slot_id, token, "just a string") == (201, {"event_id": None, "status": "stored"})
    resp = await client.get(f"/v1/events/{slot_id}", headers=bearer(token))
    assert resp.status == 200
    text = await resp.text()
    assert text.startswith('[{"b":[1,2],"event_id":"a","z":1}')  # stored as sorted compact JSON
    assert json.loads(text) == [{"b": [1, 2], "event_id": "a", "z": 1}, {"no": "id"}, {"no": "id"}, "just a string"]


async def test_list_since_limit(client: Client) -> None:
    slot_id, token = await new_slot(client)
    for n in range(5):
        await post_event(client, slot_id, token, {"event_id": f"e{n}"})

    async def ids(query: str) -> list[str]:
        resp = await client.get(f"/v1/events/{slot_id}{query}", headers=bearer(token))
        assert resp.status == 200
        return [e["event_id"] for e in await resp.json()]

    assert await ids("?since=e2") == ["e3", "e4"]
    assert await ids("?since=unknown") == ["e0", "e1", "e2", "e3", "e4"]
    assert await ids("?limit=2") == ["e0", "e1"]
    assert await ids("?limit=0") == []
    assert await ids("?limit=999999") == ["e0", "e1", "e2", "e3", "e4"]
    for bad in ("?limit=abc", "?limit=-1", "?limit=1.5"):
        resp = await client.get(f"/v1/events/{slot_id}{bad}", headers=bearer(token))
        assert resp.status == 400
        assert "error" in await resp.json()


async def test_list_limit_defaults_to_100_and_caps_at_1000(client: Client) -> None:
    slot_id, token = await new_slot(client)
    events = [{"event_id": f"e{n}"} for n in range(1100)]
    resp = await client.post(f"/v1/events/{slot_id}/batch", json={"events": events[:1000]}, headers=bearer(token))
    assert resp.status == 200
    resp = await client.post(f"/v1/events/{slot_id}/batch", json={"events": events[1000:]}, headers=bearer(token))
    assert resp.status == 200
    resp = await client.get(f"/v1/events/{slot_id}", headers=bearer(token))
    assert len(await resp.json()) == 100
    resp = await client.get(f"/v1/events/{slot_id}?limit=5000", headers=bearer(token))
    assert len(await resp.json()) == 1000


async def test_auth_order_401_404_403(client: Client) -> None:
    slot_id, token = await new_slot(client)
    for path in ("/v1/events/{}", "/v1/slot/{}/state", "/v1/events/{}/stream"):
        url = path.format(slot_id)
        missing = await client.get(url)
        assert missing.status == 401
        assert await missing.json() == {"error": "missing Bearer token"}
        lowercase = await client.get(url, headers={"Authorization": f"bearer {token}"})
        assert lowercase.status == 401
        unknown = await client.get(path.format(SLOT0), headers=bearer("0" * 64))  # unknown slot beats bad token
        assert unknown.status == 404
        assert await unknown.json() == {"error": "unknown slot"}
        wrong = await client.get(url, headers=bearer("f" * 64))
        assert wrong.status == 403
        assert await wrong.json() == {"error": "bad token"}
    # POST: no token → 401 even for an unknown slot
    assert (await post_event(client, SLOT0, None, {}))[0] == 401
    assert (await post_event(client, "not-hex", token, {}))[0] == 404


async def test_auth_is_checked_before_the_body(client: Client) -> None:
    """Issue 18 item 4: no work for anonymous callers; body errors (415/400/422) only for token holders."""
    slot_id, token = await new_slot(client)
    for route in (f"/v1/events/{slot_id}", f"/v1/events/{slot_id}/batch"):
        resp = await client.post(route, data=b"{", headers={"Content-Type": "application/json"})
        assert resp.status == 401
        resp = await client.post(route, data=b"{", headers={"Content-Type": "application/json", **bearer("f" * 64)})
        assert resp.status == 403
        resp = await client.post(route, data=b"{", headers={"Content-Type": "application/json", **bearer(token)})
        assert resp.status == 400
        resp = await client.post(route, json={"not_event": 1}, headers=bearer(token))
        assert resp.status == 422
        resp = await client.post(route, data=b"{}", headers=bearer(token))
        assert resp.status == 415


async def test_event_size_checked_before_dedupe(make_relay: MakeRelay) -> None:
    client = await make_relay(max_event_bytes=200)
    slot_id, token = await new_slot(client)
    big = {"event_id": "big", "pad": "x" * 300}
    status, body = await post_event(client, slot_id, token, big)
    assert status == 413
    assert body == {"error": "event exceeds 256 KiB", "max_bytes": 200}
    # an oversized re-send of a stored id is still 413, not "duplicate"
    assert (await post_event(client, slot_id, token, {"event_id": "small"}))[0] == 201
    assert (await post_event(client, slot_id, token, {"event_id": "small", "pad": "x" * 300}))[0] == 413


async def test_real_event_cap_is_256_kib(client: Client) -> None:
    slot_id, token = await new_slot(client)
    base = len('{"p":""}')
    assert (await post_event(client, slot_id, token, {"p": "x" * (262144 - base)}))[0] == 201
    assert (await post_event(client, slot_id, token, {"p": "x" * (262144 - base + 1)}))[0] == 413


async def test_slot_quota(make_relay: MakeRelay) -> None:
    client = await make_relay(slot_quota_bytes=100)
    slot_id, token = await new_slot(client)
    assert (await post_event(client, slot_id, token, {"event_id": "a", "p": "x" * 40}))[0] == 201
    status, body = await post_event(client, slot_id, token, {"event_id": "b", "p": "x" * 60})
    assert status == 413
    assert isinstance(body, dict)
    assert body["error"] == "slot quota exceeded"
    assert body["slot_bytes_max"] == 100
    assert body["slot_bytes_used"] == len('{"event_id":"a","p":""}') + 40
    assert "remediation" in body


async def test_body_over_2_mib_is_413_json(client: Client) -> None:
    slot_id, token = await new_slot(client)
    payload = b'{"event":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    resp = await client.post(
        f"/v1/events/{slot_id}", data=io.BytesIO(payload), headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert "error" in await resp.json()


async def test_framework_errors_are_json(client: Client) -> None:
    resp = await client.get("/no/such/route")
    assert resp.status == 404
    assert resp.content_type == "application/json"
    assert await resp.json() == {"error": "not found"}
    resp = await client.put("/v1/slot/allocate")
    assert resp.status == 405
    assert "POST" in resp.headers["Allow"]
    assert "error" in await resp.json()


async def test_batch(client: Client) -> None:
    slot_id, token = await new_slot(client)
    await post_event(client, slot_id, token, {"event_id": "old"})
    events = [{"event_id": "n1"}, {"event_id": "old"}, {"event_id": "n1"}, {"x": 1}, {"event_id": "n2"}]
    resp = await client.post(f"/v1/events/{slot_id}/batch", json={"events": events}, headers=bearer(token))
    assert resp.status == 200
    assert await resp.json() == {
        "results": [
            {"index": 0, "event_id": "n1", "status": "stored"},
            {"index": 1, "event_id": "old", "status": "duplicate"},
            {"index": 2, "event_id": "n1", "status": "duplicate"},
            {"index": 3, "event_id": None, "status": "stored"},
            {"index": 4, "event_id": "n2", "status": "stored"},
        ]
    }
    listed = await (await client.get(f"/v1/events/{slot_id}", headers=bearer(token))).json()
    assert [e.get("event_id") for e in listed] == ["old", "n1", None, "n2"]


async def test_batch_rejections_and_limits(make_relay: MakeRelay) -> None:
    client = await make_relay(max_event_bytes=100, slot_quota_bytes=150, max_batch_events=3)
    slot_id, token = await new_slot(client)
    events = [{"event_id": "a", "p": "x" * 200}, {"event_id": "b", "p": "x" * 60}, {"event_id": "c", "p": "x" * 60}]
    resp = await client.post(f"/v1/events/{slot_id}/batch", json={"events": events}, headers=bearer(token))
    results = (await resp.json())["results"]
    assert [r["status"] for r in results] == ["rejected", "stored", "rejected"]
    assert results[0]["error"] == "event exceeds 256 KiB"
    assert results[2]["error"] == "slot quota exceeded"
    resp = await client.post(f"/v1/events/{slot_id}/batch", json={"events": [{}] * 4}, headers=bearer(token))
    assert resp.status == 413
    resp = await client.post(f"/v1/events/{slot_id}/batch", json={"events": {}}, headers=bearer(token))
    assert resp.status == 422
    resp = await client.post(f"/v1/events/{slot_id}/batch", json={"events": []})
    assert resp.status == 401


async def test_concurrent_posts_same_id_store_once(client: Client) -> None:
    slot_id, token = await new_slot(client)
    results = await asyncio.gather(*(post_event(client, slot_id, token, {"event_id": "same"}) for _ in range(20)))
    assert sorted(status for status, _ in results) == [200] * 19 + [201]


async def test_slot_state_and_responder_health(client: Client, make_relay: MakeRelay) -> None:
    slot_id, token = await new_slot(client)
    resp = await client.get(f"/v1/slot/{slot_id}/state", headers=bearer(token))
    assert await resp.json() == {
        "slot_id": slot_id,
        "event_count": 0,
        "last_pull_at_unix": None,
        "responder_health": None,
    }
    await post_event(client, slot_id, token, {"event_id": "a"})
    await client.get(f"/v1/events/{slot_id}", headers=bearer(token))
    record = {"status": "online", "set_at": "2027-01-01T00:00:00Z", "last_success_at": "2027-01-01T00:00:00Z"}
    resp = await client.post(f"/v1/slot/{slot_id}/responder-health", json=record, headers=bearer(token))
    assert resp.status == 200
    assert await resp.json() == {**record, "reason": None}
    state = await (await client.get(f"/v1/slot/{slot_id}/state", headers=bearer(token))).json()
    assert state["event_count"] == 1
    assert isinstance(state["last_pull_at_unix"], int)
    assert state["responder_health"]["status"] == "online"
    for bad in ({"set_at": "x"}, {"status": 1, "set_at": "x"}, {"status": "x", "set_at": "x", "reason": 5}):
        resp = await client.post(f"/v1/slot/{slot_id}/responder-health", json=bad, headers=bearer(token))
        assert resp.status == 422
    resp = await client.post(f"/v1/slot/{slot_id}/responder-health", json=record)
    assert resp.status == 401
    resp = await client.post(f"/v1/slot/{slot_id}/responder-health", json=record, headers=bearer("0" * 64))
    assert resp.status == 403
