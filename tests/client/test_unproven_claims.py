# SPDX-License-Identifier: MIT
"""Issue 18, client side: a directory record is dialed only if its claim proof verifies, unless
the operator explicitly allows unproven records (parameter or environment switch).

The relay is a real process running ``--accept-unproven-claims`` (as an operator would for reference
clients); the unproven claim is made the way a reference client makes it (raw HTTP, no proof).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.helpers.agents import address_of, claimed_agent, make_agent, uniq
from tests.helpers.relay_process import RelayProcess
from wire_client import PairingFailedError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def lenient_relay(tmp_path: Path) -> Iterator[RelayProcess]:
    with RelayProcess(tmp_path / "relay", extra_args=["--log-level", "warning", "--accept-unproven-claims"]) as relay:
        yield relay


async def _raw_claim(relay: RelayProcess, nick: str, card: dict[str, Any], proof: dict[str, Any] | None) -> str:
    """Allocate a slot and claim ``nick`` for ``card`` like a reference client (optionally with ``proof``)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        async with http.post(f"{relay.url}/v1/slot/allocate", json={}) as resp:
            slot = await resp.json()
        body: dict[str, Any] = {"nick": nick, "slot_id": slot["slot_id"], "relay_url": None, "card": card}
        if proof is not None:
            body["proof"] = {**proof, "slot_id": slot["slot_id"]} if proof.get("slot_id") == "?" else proof
        headers = {"Authorization": f"Bearer {slot['slot_token']}"}
        async with http.post(f"{relay.url}/v1/handle/claim", json=body, headers=headers) as resp:
            assert resp.status == 201, await resp.text()
        return str(slot["slot_id"])


async def test_unproven_record_is_refused_unless_allowed(
    lenient_relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carol = make_agent(tmp_path, uniq("carol"))  # a reference-style agent: claims without a proof
    await _raw_claim(lenient_relay, carol.handle, carol.card.to_json(), None)
    bob = await claimed_agent(tmp_path, "bob", lenient_relay)
    monkeypatch.delenv("WIRE_ALLOW_UNPROVEN_CLAIMS", raising=False)
    async with carol, bob:
        address = address_of(carol, lenient_relay)
        resolved = await bob.pairing.resolve(address)
        assert resolved.proven is False
        assert resolved.to_json()["proven"] is False
        with pytest.raises(PairingFailedError) as refused:
            await bob.pairing.dial(address)
        assert refused.value.reason == "unproven_claim"
        assert "--allow-unproven" in refused.value.message
        assert "WIRE_ALLOW_UNPROVEN_CLAIMS=1" in refused.value.message
        assert bob.trust.get(carol.handle) is None  # nothing pinned, nothing sent
        assert (await bob.pairing.dial(address, allow_unproven=True)).status == "drop_sent"
        assert bob.trust.get(carol.handle) is not None


async def test_environment_switch_allows_unproven_records(
    lenient_relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carol = make_agent(tmp_path, uniq("carol"))
    await _raw_claim(lenient_relay, carol.handle, carol.card.to_json(), None)
    bob = await claimed_agent(tmp_path, "bob", lenient_relay)
    monkeypatch.setenv("WIRE_ALLOW_UNPROVEN_CLAIMS", "1")
    async with carol, bob:
        assert (await bob.pairing.dial(address_of(carol, lenient_relay))).status == "drop_sent"


@pytest.fixture
async def copycat_directory() -> AsyncIterator[tuple[dict[str, Any], int]]:
    """A directory server on another origin that serves whatever record the test puts in it."""
    served: dict[str, Any] = {}

    async def serve(request: web.Request) -> web.Response:
        return web.json_response(served)

    app = web.Application()
    app.router.add_get("/.well-known/wire/agent", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield served, runner.addresses[0][1]
    await runner.cleanup()


async def test_a_copied_or_altered_proof_does_not_make_a_record_proven(
    lenient_relay: RelayProcess,
    copycat_directory: tuple[dict[str, Any], int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WIRE_ALLOW_UNPROVEN_CLAIMS", raising=False)
    served, port = copycat_directory
    alice = await claimed_agent(tmp_path, "alice", lenient_relay)  # our client always proves
    bob = await claimed_agent(tmp_path, "bob", lenient_relay)
    async with alice, bob:
        resolved = await bob.pairing.resolve(address_of(alice, lenient_relay))
        assert (resolved.proven, resolved.proof_problem) == (True, None)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{lenient_relay.url}/.well-known/wire/agent", params={"handle": alice.handle}) as resp,
        ):
            genuine = await resp.json()
        # the whole record, proof included, repeated by another directory: the proof names the relay
        # alice claimed at, which vouches for the same DID and slot, so pairing goes THERE, not here
        served.update(genuine)
        copied = await bob.pairing.resolve(f"{alice.handle}@127.0.0.1:{port}")
        assert (copied.proven, copied.base_url) == (True, lenient_relay.url)
        # a squatter pointing the name at its own slot keeps alice's proof: it names another slot
        served.update({**genuine, "slot_id": secrets.token_hex(16)})
        moved = await bob.pairing.resolve(address_of(alice, lenient_relay), relay_url=f"http://127.0.0.1:{port}")
        assert moved.proven is False
        with pytest.raises(PairingFailedError) as refused:
            await bob.pairing.dial(f"{alice.handle}@127.0.0.1:{port}")
        assert refused.value.reason == "unproven_claim"
