# SPDX-License-Identifier: MIT
"""Deposit tokens (issue 13 item 4), against real relay processes (SQLite; PostgreSQL with two).

A peer holding a deposit token can post (single and batch) and do nothing else; a revoked token is
refused with 401 at once, in every process sharing the store; the owner's routes refuse it.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import postgres as pg
from tests.helpers.relay_process import RelayProcess

pytestmark = pytest.mark.timeout(60)

pg_server = pg.pg_server
fresh_pg_url = pg.fresh_pg_url

TIMEOUT = aiohttp.ClientTimeout(total=15)


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelayProcess]:
    with RelayProcess(tmp_path, extra_args=["--log-level", "warning"]) as process:
        yield process


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
        yield s


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def event(n: int = 0) -> dict[str, Any]:
    return {"event_id": secrets.token_hex(16), "type": "note", "kind": 1, "body": f"hello {n}"}


async def allocate(session: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    async with session.post(f"{url}/v1/slot/allocate", json={}) as resp:
        assert resp.status == 201
        body = await resp.json()
        return body["slot_id"], body["slot_token"]


async def mint(session: aiohttp.ClientSession, url: str, slot: str, token: str, label: str) -> dict[str, Any]:
    async with session.post(f"{url}/v1/slot/{slot}/deposit-tokens", json={"label": label}, headers=auth(token)) as r:
        assert r.status == 201, await r.text()
        body: dict[str, Any] = await r.json()
        return body


async def post(session: aiohttp.ClientSession, url: str, slot: str, token: str) -> tuple[int, dict[str, Any]]:
    async with session.post(f"{url}/v1/events/{slot}", json={"event": event()}, headers=auth(token)) as resp:
        return resp.status, await resp.json()


async def status_of(session: aiohttp.ClientSession, method: str, url: str, token: str, **kw: Any) -> int:
    async with session.request(method, url, headers=auth(token), **kw) as resp:
        assert resp.content_type == "application/json"
        return resp.status


async def test_feature_is_advertised(relay: RelayProcess, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{relay.url}/v1/info") as resp:
        assert "deposit-tokens" in (await resp.json())["features"]


async def test_a_deposit_token_can_post_and_nothing_else(relay: RelayProcess, session: aiohttp.ClientSession) -> None:
    url = relay.url
    slot, owner = await allocate(session, url)
    minted = await mint(session, url, slot, owner, "did:wire:peer")
    deposit = minted["token"]
    assert len(deposit) == 64
    assert deposit != owner
    assert len(minted["token_id"]) == 16
    assert (await post(session, url, slot, deposit))[0] == 201
    batch = {"events": [event(1), event(2)]}
    async with session.post(f"{url}/v1/events/{slot}/batch", json=batch, headers=auth(deposit)) as resp:
        assert resp.status == 200
        assert [r["status"] for r in (await resp.json())["results"]] == ["stored", "stored"]
    # the peer's own slot accepts nothing from it
    other_slot, _ = await allocate(session, url)
    assert (await post(session, url, other_slot, deposit))[0] == 403
    base = f"{url}/v1/slot/{slot}"
    refused = {
        "list": await status_of(session, "GET", f"{url}/v1/events/{slot}", deposit),
        "stream": await status_of(session, "GET", f"{url}/v1/events/{slot}/stream", deposit),
        "state": await status_of(session, "GET", f"{base}/state", deposit),
        "ack": await status_of(session, "POST", f"{base}/ack", deposit, json={"through": "x"}),
        "health": await status_of(
            session, "POST", f"{base}/responder-health", deposit, json={"status": "ok", "set_at": "now"}
        ),
        "mint": await status_of(session, "POST", f"{base}/deposit-tokens", deposit, json={"label": "x"}),
        "list-tokens": await status_of(session, "GET", f"{base}/deposit-tokens", deposit),
        "revoke": await status_of(session, "DELETE", f"{base}/deposit-tokens/{minted['token_id']}", deposit),
    }
    assert set(refused.values()) <= {401, 403}, refused
    # the owner sees the three events, and the token (never its secret) in the listing
    async with session.get(f"{url}/v1/events/{slot}", headers=auth(owner)) as resp:
        assert len(await resp.json()) == 3
    async with session.get(f"{base}/deposit-tokens", headers=auth(owner)) as resp:
        listing = await resp.json()
    assert [t["token_id"] for t in listing["deposit_tokens"]] == [minted["token_id"]]
    assert deposit not in str(listing)


async def test_a_revoked_token_gets_401_on_post(relay: RelayProcess, session: aiohttp.ClientSession) -> None:
    url = relay.url
    slot, owner = await allocate(session, url)
    kept = await mint(session, url, slot, owner, "keep")
    dropped = await mint(session, url, slot, owner, "drop")
    async with session.delete(
        f"{url}/v1/slot/{slot}/deposit-tokens/{dropped['token_id']}", headers=auth(owner)
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["revoked_unix"] is not None
    status, body = await post(session, url, slot, dropped["token"])
    assert status == 401
    assert body["error"] == "deposit token revoked"
    async with session.post(
        f"{url}/v1/events/{slot}/batch", json={"events": [event()]}, headers=auth(dropped["token"])
    ) as resp:
        assert resp.status == 401
    assert (await post(session, url, slot, kept["token"]))[0] == 201
    assert await status_of(session, "DELETE", f"{url}/v1/slot/{slot}/deposit-tokens/{'0' * 16}", owner) == 404
    assert await status_of(session, "DELETE", f"{url}/v1/slot/{slot}/deposit-tokens/..%2fx", owner) == 404


async def test_bad_mint_requests_are_clear_errors(relay: RelayProcess, session: aiohttp.ClientSession) -> None:
    url = relay.url
    slot, owner = await allocate(session, url)
    target = f"{url}/v1/slot/{slot}/deposit-tokens"
    assert await status_of(session, "POST", target, owner, json={"label": 7}) == 422
    assert await status_of(session, "POST", target, owner, json={"label": "x" * 300}) == 422
    assert await status_of(session, "POST", target, "0" * 64, json={}) == 403
    async with session.post(target, json={}) as resp:
        assert resp.status == 401


async def test_revocation_holds_at_once_across_two_postgres_relays(
    tmp_path: Path, fresh_pg_url: str, session: aiohttp.ClientSession
) -> None:
    args = ["--log-level", "warning"]
    with (
        RelayProcess(tmp_path / "a", store_url=fresh_pg_url, extra_args=args) as a,
        RelayProcess(tmp_path / "b", store_url=fresh_pg_url, extra_args=args) as b,
    ):
        slot, owner = await allocate(session, a.url)
        minted = await mint(session, a.url, slot, owner, "peer")
        assert (await post(session, b.url, slot, minted["token"]))[0] == 201
        assert await status_of(session, "GET", f"{b.url}/v1/events/{slot}", minted["token"]) == 403
        assert (
            await status_of(session, "DELETE", f"{a.url}/v1/slot/{slot}/deposit-tokens/{minted['token_id']}", owner)
            == 200
        )
        assert (await post(session, b.url, slot, minted["token"]))[0] == 401
