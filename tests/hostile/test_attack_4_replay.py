# SPDX-License-Identifier: MIT
"""Attack 4: a message someone signed to another recipient, replayed into our slot (issue 12)."""

from __future__ import annotations

from tests.helpers.hostile_peer import HostilePeer
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import pair_with_victim, unique, whoami
from tests.hostile.runner import CLI


async def test_message_to_someone_else_is_refused(victim: CLI, relay: RelayProcess) -> None:
    me = whoami(victim)
    carol = await HostilePeer(unique("carol"), relay.url).allocate()
    mallory = await HostilePeer(unique("mallory"), relay.url).allocate()
    await pair_with_victim(carol, victim)
    ack = await pair_with_victim(mallory, victim)

    to_mallory = carol.sign(mallory.did, "claim", 1001, "for mallory's eyes only")
    to_mallory_bare = carol.sign(f"did:wire:{mallory.handle}", "claim", 1001, "bare, also for mallory")
    to_us_bare = carol.sign(f"did:wire:{me.handle}", "claim", 1001, "a v0.9.3 peer writes our bare DID")
    for event in (to_mallory, to_mallory_bare, to_us_bare):
        assert (await mallory.post(relay.url, ack["slot_id"], ack["slot_token"], event))[0] == 201
    victim.ok("pull")

    inbox_path = victim.state("inbox", f"{carol.handle}.jsonl")
    inbox = inbox_path.read_text() if inbox_path.exists() else ""
    assert to_mallory["event_id"] not in inbox
    assert to_mallory_bare["event_id"] not in inbox
    assert to_us_bare["event_id"] in inbox
    log = victim.state("rejected.jsonl").read_text()
    assert to_mallory["event_id"] in log
    assert "not_for_us" in log
    shown = victim.ok("tail", carol.handle).out
    assert "mallory's eyes" not in shown


async def test_we_write_the_peers_full_did(victim: CLI, relay: RelayProcess) -> None:
    carol = await HostilePeer(unique("carol"), relay.url).allocate()
    await pair_with_victim(carol, victim)
    victim.ok("send", carol.handle, "hi carol")
    message = await carol.wait_for(lambda e: e.get("type") == "claim")
    assert message["to"] == carol.did
