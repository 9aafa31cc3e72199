# SPDX-License-Identifier: MIT
"""Issue 18, client side: once received events are durably in the inbox, our receiver acknowledges
them to our relay (feature ``ack``), so they leave its backlog quota and are deleted after the
acknowledged-retention window. Real relay process, real receive loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.helpers.agents import address_of, claimed_agent, inbox_lines, pair_by_dial
from tests.helpers.relay_process import RelayProcess
from wire_client import WireAgent

pytestmark = pytest.mark.timeout(60)

N_EVENTS = 5


async def _slot_count(agent: WireAgent) -> int:
    endpoint = agent.endpoints()[0]
    state = await agent.relay(endpoint.relay_url)._json_object(
        "GET", f"/v1/slot/{endpoint.slot_id}/state", headers={"Authorization": f"Bearer {endpoint.slot_token}"}
    )
    count = state["event_count"]
    assert isinstance(count, int)
    return count


async def test_received_events_are_acknowledged_and_leave_the_relay(tmp_path: Path) -> None:
    args = ["--log-level", "warning", "--acked-retention", "0", "--sweep-interval", "0.2"]
    with RelayProcess(tmp_path / "relay", extra_args=args) as relay:
        alice = await claimed_agent(tmp_path, "alice", relay)
        bob = await claimed_agent(tmp_path, "bob", relay)
        async with alice, bob:
            await pair_by_dial(alice, bob, relay)
            assert await alice.start_receiving()
            for n in range(N_EVENTS):
                assert (await bob.send(alice.handle, f"m{n}")).delivered
            deadline = time.monotonic() + 20
            while len([e for e in inbox_lines(alice, bob.handle) if e["type"] == "claim"]) < N_EVENTS:
                assert time.monotonic() < deadline, "alice's receiver did not inbox bob's events"
                await asyncio.sleep(0.05)
            # acknowledged → the relay's sweep deletes them: nothing of alice's is left counting there
            while (left := await _slot_count(alice)) > 0:
                assert time.monotonic() < deadline, f"{left} events still unacknowledged on the relay"
                await asyncio.sleep(0.1)
            await alice.stop_receiving()
            assert [e["body"] for e in inbox_lines(alice, bob.handle) if e["type"] == "claim"] == [
                f"m{n}" for n in range(N_EVENTS)
            ]


async def test_no_acknowledgement_on_a_relay_without_the_feature(tmp_path: Path) -> None:
    """A relay that does not list ``ack`` (the reference) is never sent one: events stay put."""
    with RelayProcess(tmp_path / "relay", extra_args=["--log-level", "warning", "--acked-retention", "0",
                                                      "--sweep-interval", "0.2"]) as relay:  # fmt: skip
        alice = await claimed_agent(tmp_path, "alice", relay)
        bob = await claimed_agent(tmp_path, "bob", relay)
        async with alice, bob:
            await bob.pairing.dial(address_of(alice, relay))
            client = alice.relay(relay.url)
            info = await client.info()
            client._info = type(info)(features=info.features - {"ack"}, version=info.version, raw=info.raw)
            await alice.pull()
            before = await _slot_count(alice)
            assert before > 0
            await asyncio.sleep(0.6)  # three sweeps: an acknowledgement would have deleted them
            assert await _slot_count(alice) == before
