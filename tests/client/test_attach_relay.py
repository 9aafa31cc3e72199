# SPDX-License-Identifier: MIT
"""``WireAgent.attach_relay``: every failure raises a typed error, and nothing is recorded as attached.

Against real things: a closed port, a real relay process spoken to with the wrong scheme (a real
TLS handshake failure), and a lying relay (tests/helpers/hostile_relay.py) — plus the CLI and MCP
paths that call it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from tests.helpers.agents import make_agent, unused_port
from tests.helpers.cli import Wire
from tests.helpers.hostile_relay import HostileRelay
from tests.helpers.relay_process import RelayProcess
from wire_client import AttachRelayError, HandleClaimError, RelayStateStore

pytestmark = pytest.mark.timeout(60)


async def _failure(tmp_path: Path, url: str) -> AttachRelayError:
    """The error ``attach_relay(url)`` raises; the home records no slot afterwards."""
    async with make_agent(tmp_path, "attach") as agent:
        with pytest.raises(AttachRelayError) as caught:
            await agent.attach_relay(url)
        assert agent.endpoints() == []
        assert RelayStateStore(agent.home).self_endpoints() == []
    return caught.value


@pytest.mark.parametrize(
    "url",
    ["not a url", "ftp://relay.example", "http://user:pw@127.0.0.1:9", "http://127.0.0.1:9/?x=1", "https://", ""],
)
async def test_a_url_that_cannot_be_a_relay_is_refused_before_any_connection(tmp_path: Path, url: str) -> None:
    error = await _failure(tmp_path, url)
    assert error.reason == "bad_url"
    assert "not a relay URL" in error.message


async def test_a_closed_port_raises_unreachable_and_records_nothing(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    error = await _failure(tmp_path, url)
    assert (error.reason, error.relay_url) == ("unreachable", url)
    assert "healthz" in error.message  # the next step


async def test_tls_to_a_plain_http_relay_raises_tls(shared_relay: RelayProcess, tmp_path: Path) -> None:
    error = await _failure(tmp_path, shared_relay.url.replace("http://", "https://"))
    assert error.reason == "tls"
    assert "TLS" in error.message


def _answering(status: int, body: bytes) -> object:
    async def handler(request: web.Request) -> web.Response:
        del request
        return web.Response(body=body, status=status, content_type="application/json")

    return handler


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (200, b"<html>a captive portal</html>", "bad_answer"),
        (201, json.dumps({"slot_id": "../../v1/admin", "slot_token": "t" * 64}).encode(), "bad_answer"),
        (201, json.dumps({"slot_id": "a" * 32, "slot_token": "bad token\r\nX-Injected: 1"}).encode(), "bad_answer"),
        (201, json.dumps({"slot_id": "a" * 32}).encode(), "bad_answer"),
        (503, json.dumps({"error": "full"}).encode(), "refused"),
    ],
)
async def test_a_lying_relay_raises_and_records_nothing(tmp_path: Path, status: int, body: bytes, reason: str) -> None:
    with HostileRelay() as relay:
        relay.routes["POST /v1/slot/allocate"] = _answering(status, body)  # type: ignore[assignment]
        error = await _failure(tmp_path, relay.url)
        assert error.reason == reason
        assert "t" * 64 not in error.message
        assert relay.hits["POST /v1/handle/claim"] == 0  # never claimed on a slot we did not get


async def test_a_failed_claim_raises_with_the_kept_slot(tmp_path: Path) -> None:
    with HostileRelay() as relay:
        relay.routes["POST /v1/handle/claim"] = _answering(500, b'{"error": "directory down"}')  # type: ignore[assignment]
        async with make_agent(tmp_path, "claimless") as agent:
            with pytest.raises(HandleClaimError) as caught:
                await agent.attach_relay(relay.url)
            assert (caught.value.reason, caught.value.newly_bound) == ("claim_failed", True)
            assert "directory down" in caught.value.message
            assert [ep.slot_id for ep in agent.endpoints()] == [caught.value.slot_id]
            again = await agent.attach_relay(relay.url, claim=False)  # the slot is reused, not re-allocated
            assert (again.newly_bound, again.endpoint.slot_id) == (False, caught.value.slot_id)
        assert relay.hits["POST /v1/slot/allocate"] == 1


def test_cli_init_against_a_lying_relay_fails_and_keeps_no_slot(tmp_path: Path) -> None:
    with HostileRelay() as relay:
        relay.routes["POST /v1/slot/allocate"] = _answering(200, b"[1, 2, 3]")  # type: ignore[assignment]
        (tmp_path / "user").mkdir()
        wire = Wire(tmp_path / "home", tmp_path / "user")
        result = wire("init", "lied", "--relay", relay.url, "--json")
        assert result.code == 1, str(result)
        error = json.loads(result.err.strip().splitlines()[-1])["error"]
        assert error["code"] == "relay_bad_answer", error
        assert "not the wire relay API" in error["message"]
        status = wire.ok("status", "--json").json()
        assert status["self_endpoints"] == []  # keys made, no slot claimed to exist
