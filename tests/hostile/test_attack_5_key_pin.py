# SPDX-License-Identifier: MIT
"""Attack 5: a second key slips into a pin through a 32-bit DID-suffix collision (issue 12).

Finding a real collision takes ~2^32 key generations, so the victim process gets a
``sitecustomize`` that makes the attacker's key report the target's fingerprint — exactly what a
found collision looks like. The DID check then passes and only the pinned key bytes stand.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.helpers.hostile_peer import HostilePeer, collision_card, collision_site
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import pair_with_victim, unique
from tests.hostile.runner import CLI
from wire_protocol import AgentCard, SigningKey, mint_invite


async def test_same_did_other_key_is_a_conflict(tmp_path: Path, relay: RelayProcess) -> None:
    attacker = SigningKey.generate()
    alice = await HostilePeer(unique("alice"), relay.url).allocate()
    site = collision_site(tmp_path / "site", attacker, alice.card.fingerprint)
    victim = CLI(tmp_path / "victim", PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    victim.ok("init", unique("victim"), "--relay", relay.url)
    await pair_with_victim(alice, victim)
    pinned = victim.read_json(victim.config("trust.json"))["agents"][alice.handle]

    forged = collision_card(attacker, alice.card)
    forged_card = AgentCard(data=forged, did=alice.did, handle=alice.handle, public_key=attacker.public_key,
                            key_id=alice.card.key_id)  # fmt: skip
    invite = mint_invite(key=attacker, card=forged_card, relay_url=relay.url, slot_id=alice.slot_id,
                         slot_token=alice.slot_token, nonce="ab" * 32, exp=int(time.time()) + 600)  # fmt: skip
    accepted = victim("accept-invite", invite)
    assert accepted.code != 0, str(accepted)
    text = accepted.out + accepted.err
    assert "key" in text.lower()
    assert "Traceback" not in text
    after = victim.read_json(victim.config("trust.json"))["agents"][alice.handle]
    assert after["public_keys"] == pinned["public_keys"]
    assert after["card"] == pinned["card"]
