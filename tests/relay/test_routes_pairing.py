# SPDX-License-Identifier: MIT
"""SPAKE2 pair slots and short-URL invites (expiry, use counts that survive a restart)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.relay.conftest import Client, FakeClock, MakeRelay
from wire_protocol import b64encode
from wire_relay.routes_pairing import install_script

H1 = "1" * 64
H2 = "2" * 64
HOST_MSG = b64encode(b"H" * 33)
GUEST_MSG = b64encode(b"G" * 33)


async def test_pair_flow(client: Client) -> None:
    resp = await client.post("/v1/pair", json={"code_hash": H1, "msg": HOST_MSG, "role": "host"})
    assert resp.status == 201
    pair_id = (await resp.json())["pair_id"]
    resp = await client.post("/v1/pair", json={"code_hash": H1, "msg": GUEST_MSG, "role": "guest"})
    assert resp.status == 201
    assert (await resp.json())["pair_id"] == pair_id
    resp = await client.post("/v1/pair", json={"code_hash": H1, "msg": GUEST_MSG, "role": "host"})
    assert resp.status == 409
    assert await resp.json() == {"error": "host already registered for this code"}
    peer = await (await client.get(f"/v1/pair/{pair_id}?as_role=host")).json()
    assert peer == {"peer_msg": GUEST_MSG, "peer_bootstrap": None}
    resp = await client.post(f"/v1/pair/{pair_id}/bootstrap", json={"role": "guest", "sealed": "U0VBTEVE"})
    assert resp.status == 201
    assert await resp.json() == {"ok": True}
    peer = await (await client.get(f"/v1/pair/{pair_id}?as_role=host")).json()
    assert peer == {"peer_msg": GUEST_MSG, "peer_bootstrap": "U0VBTEVE"}
    resp = await client.post("/v1/pair/abandon", json={"code_hash": H1})
    assert resp.status == 204
    assert (await client.get(f"/v1/pair/{pair_id}?as_role=host")).status == 404
    assert (await client.post("/v1/pair/abandon", json={"code_hash": "never"})).status == 204


async def test_pair_errors(client: Client) -> None:
    assert (await client.post("/v1/pair", json={"code_hash": "h", "msg": "m", "role": "boss"})).status == 400
    assert (await client.post("/v1/pair", json={"code_hash": "h", "msg": "m"})).status == 422
    assert (await client.get(f"/v1/pair/{'a' * 32}?as_role=host")).status == 404
    assert (await client.get("/v1/pair/whatever?as_role=host")).status == 404
    assert (await client.get(f"/v1/pair/{'a' * 32}")).status == 400
    assert (await client.get(f"/v1/pair/{'a' * 32}?as_role=boss")).status == 400
    resp = await client.post(f"/v1/pair/{'a' * 32}/bootstrap", json={"role": "host", "sealed": "U0VBTEVE"})
    assert resp.status == 404
    resp = await client.post(f"/v1/pair/{'a' * 32}/bootstrap", json={"role": "x", "sealed": "x"})
    assert resp.status == 400
    assert (await client.post("/v1/pair/abandon", json={})).status == 422


async def test_pair_shape_checks(client: Client) -> None:
    """Issue 18 item 7: only a SPAKE2 message and a SHA-256 hex hash are kept, and a bounded bootstrap."""
    for body in (
        {"code_hash": "h", "msg": HOST_MSG, "role": "host"},
        {"code_hash": "AB" * 32, "msg": HOST_MSG, "role": "host"},
        {"code_hash": H1, "msg": "m", "role": "host"},
        {"code_hash": H1, "msg": b64encode(b"x" * 34), "role": "host"},
    ):
        resp = await client.post("/v1/pair", json=body)
        assert resp.status == 400, body
        assert "error" in await resp.json()
    resp = await client.post("/v1/pair", json={"code_hash": H1, "msg": "x" * 1_000_000, "role": "host"})
    assert resp.status == 413
    pair_id = (await (await client.post("/v1/pair", json={"code_hash": H1, "msg": HOST_MSG, "role": "host"})).json())[
        "pair_id"
    ]
    resp = await client.post(f"/v1/pair/{pair_id}/bootstrap", json={"role": "host", "sealed": "A" * (64 * 1024 + 4)})
    assert resp.status == 413
    resp = await client.post(f"/v1/pair/{pair_id}/bootstrap", json={"role": "host", "sealed": "not base64!"})
    assert resp.status == 400


async def test_pair_slots_have_a_global_cap(make_relay: MakeRelay) -> None:
    client = await make_relay(max_pair_slots=3)
    for n in range(3):
        assert (
            await client.post("/v1/pair", json={"code_hash": f"{n}" * 64, "msg": HOST_MSG, "role": "host"})
        ).status == 201
    resp = await client.post("/v1/pair", json={"code_hash": "9" * 64, "msg": HOST_MSG, "role": "host"})
    assert resp.status == 503
    assert int(resp.headers["Retry-After"]) > 0
    # joining an open pair slot needs no new one
    assert (
        await client.post("/v1/pair", json={"code_hash": "0" * 64, "msg": GUEST_MSG, "role": "guest"})
    ).status == 201


async def test_pair_ttl(make_relay: MakeRelay, clock: FakeClock) -> None:
    """Reads never extend a pair slot's life (issue 18 item 7); writes by the participants do."""
    client = await make_relay(clock=clock)
    resp = await client.post("/v1/pair", json={"code_hash": H2, "msg": HOST_MSG, "role": "host"})
    pair_id = (await resp.json())["pair_id"]
    clock.now += 299
    assert (await client.get(f"/v1/pair/{pair_id}?as_role=guest")).status == 200  # a read: no touch
    clock.now += 2
    assert (await client.get(f"/v1/pair/{pair_id}?as_role=guest")).status == 404
    resp = await client.post("/v1/pair", json={"code_hash": H2, "msg": HOST_MSG, "role": "host"})
    pair_id = (await resp.json())["pair_id"]
    clock.now += 299
    resp = await client.post(f"/v1/pair/{pair_id}/bootstrap", json={"role": "host", "sealed": "U0VBTEVE"})
    assert resp.status == 201  # a write touches
    clock.now += 299
    assert (await client.get(f"/v1/pair/{pair_id}?as_role=guest")).status == 200
    clock.now += 301
    assert (await client.get(f"/v1/pair/{pair_id}?as_role=guest")).status == 404
    resp = await client.post("/v1/pair", json={"code_hash": H2, "msg": HOST_MSG, "role": "host"})
    assert resp.status == 201  # the expired slot no longer holds the role
    assert (await resp.json())["pair_id"] != pair_id


async def register(client: Client, **body: object) -> tuple[int, dict[str, object]]:
    resp = await client.post("/v1/invite/register", json={"invite_url": "wire://pair?v=1&x=i(t)s", **body})
    return resp.status, await resp.json()


async def test_invite_register_and_fetch(make_relay: MakeRelay, clock: FakeClock) -> None:
    client = await make_relay(clock=clock)
    status, body = await register(client, uses=2)
    assert status == 201
    token = body["token"]
    assert isinstance(token, str)
    assert len(token) == 32  # 128 bits (issue 18 item 1)
    assert body["path"] == f"/i/{token}"
    assert body["expires_unix"] == int(clock.now) + 86400
    assert body["uses_remaining"] == 2
    resp = await client.get(f"/i/{token}?format=url")  # a read uses the invite too
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    assert resp.headers["Cache-Control"] == "private, no-store, max-age=0"
    assert await resp.text() == "wire://pair?v=1&x=i(t)s"
    for _ in range(1):
        resp = await client.get(f"/i/{token}")
        assert resp.status == 200
        assert resp.content_type == "text/x-shellscript"
        script = await resp.text()
        assert "INVITE='wire://pair?v=1&x=i(t)s'" in script
        assert "pip install wire-cli" in script
        assert 'wire accept-invite -- "$INVITE"' in script
    resp = await client.get(f"/i/{token}")
    assert resp.status == 410
    assert await resp.json() == {"error": "this invite has been used up"}
    assert resp.headers["Cache-Control"] == "private, no-store, max-age=0"
    assert (await client.get(f"/i/{token}?format=url")).status == 410


async def test_invite_expiry_ttl_clamps_and_errors(make_relay: MakeRelay, clock: FakeClock) -> None:
    client = await make_relay(clock=clock)
    status, body = await register(client, ttl_seconds=1)
    assert status == 201
    assert body["expires_unix"] == int(clock.now) + 60  # clamped to the minimum
    assert body["uses_remaining"] is None
    _, long = await register(client, ttl_seconds=10**9)
    assert long["expires_unix"] == int(clock.now) + 604800
    clock.now += 60
    resp = await client.get(f"/i/{body['token']}")
    assert resp.status == 410
    assert await resp.json() == {"error": "this invite has expired"}
    assert (await client.get("/i/zzzzzz")).status == 404
    assert (await client.get("/i/abc")).status == 404
    assert (await client.get("/i/abcdef")).status == 404  # the reference's 24-bit tokens are not served
    assert (await client.get(f"/i/{'A' * 32}")).status == 404
    assert (await client.post("/v1/invite/register", json={"invite_url": " "})).status == 400
    assert (await client.post("/v1/invite/register", json={"invite_url": "x" * 8193})).status == 413
    assert (await client.post("/v1/invite/register", json={"invite_url": "wire://pair?x", "uses": -1})).status == 422
    for not_an_invite in ("x", "https://evil.example/", "wire://pair?a b", "wire://pair?a'$(id)'", "wire://other?x"):
        resp = await client.post("/v1/invite/register", json={"invite_url": not_an_invite})
        assert resp.status == 400, not_an_invite
    assert (await client.post("/v1/invite/register", json={})).status == 422


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs /bin/sh")
def test_install_script_is_valid_sh(tmp_path: Path) -> None:
    """The script parses with sh -n and quotes the URL safely (no command substitution)."""
    script = install_script("wire://pair?v=1&p=$(touch pwned)'`id`'")
    path = tmp_path / "s.sh"
    path.write_text(script)
    subprocess.run(["sh", "-n", str(path)], check=True, timeout=10)
    assert "INVITE='wire://pair?v=1&p=$(touch pwned)'\\''`id`'\\'''" in script
