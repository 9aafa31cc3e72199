# SPDX-License-Identifier: MIT
"""The event stream carries every event the relay accepts, up to its 256 KiB limit, as one SSE line.

A peer without sealing (a v0.9.3-style card) may send a body of ~200 KB; the receiver's stream
parser must take it like any other event instead of dying on a line longer than its read buffer.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.helpers.hostile_peer import HostilePeer
from tests.helpers.relay_process import RelayProcess
from wire_client import Identity, WireAgent, WireHome
from wire_protocol import MAX_EVENT_BYTES

pytestmark = pytest.mark.timeout(60)


async def test_an_event_near_the_relays_size_limit_arrives_over_the_stream(
    shared_relay: RelayProcess, tmp_path: Path
) -> None:
    home = WireHome.at(tmp_path / "alice")
    identity, _ = Identity.create(home, "alice")
    peer = await HostilePeer("oldpeer", shared_relay.url).allocate()
    async with WireAgent(home, identity) as alice:
        await alice.bind_relay(shared_relay.url)
        alice.add_peer(peer.card.to_json(), [])
        assert await alice.start_receiving()
        ours = alice.endpoints()[0]
        big = "x" * (MAX_EVENT_BYTES - 4096)  # the whole event stays under the relay's limit
        for body in (big, "after the big one"):
            status, answer = await peer.post(
                shared_relay.url, ours.slot_id, ours.slot_token, peer.sign(alice.did, "claim", 1, body)
            )
            assert status == 201, answer
        deadline = time.monotonic() + 20
        while len(alice.read_inbox("oldpeer")) < 2:
            assert time.monotonic() < deadline, "the stream did not deliver both events"
            await asyncio.sleep(0.05)
        assert [e.body for e in alice.read_inbox("oldpeer")] == [big, "after the big one"]
