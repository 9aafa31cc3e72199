# SPDX-License-Identifier: MIT
"""Attack 2: a stranger with the same handle hijacks a pending request (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers.hostile_peer import HostilePeer
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import unique, whoami
from tests.hostile.runner import CLI


async def test_same_handle_other_did_never_replaces_a_request(victim: CLI, relay: RelayProcess) -> None:
    """Alice asks first; a stranger calling itself alice (own key, later timestamp) asks second.

    Both requests stay, keyed by DID; ``accept alice`` refuses and lists both fingerprints; the
    stranger never receives our token; accepting by full DID pins the real alice.
    """
    me = whoami(victim)
    name = unique("alice")
    alice = await HostilePeer(name, relay.url).allocate()
    stranger = await HostilePeer(name, relay.url).allocate()
    assert alice.did != stranger.did
    assert (await alice.intro(relay.url, me.handle, alice.drop(me.did)))[0] == 201
    victim.ok("pull")
    later = datetime.now(UTC) + timedelta(days=365)
    hijack = stranger.sign(me.did, "pair_drop", 1100, {"card": stranger.card.to_json(), **stranger.coords()},
                           timestamp=later)  # fmt: skip
    assert (await stranger.intro(relay.url, me.handle, hijack))[0] == 201
    victim.ok("pull")

    pending = victim.ok("pending").json()
    assert sorted(p["peer_did"] for p in pending) == sorted([alice.did, stranger.did])
    assert [p["peer_did"] for p in pending] == [alice.did, stranger.did]  # local receive order

    ambiguous = victim("accept", name)
    assert ambiguous.code != 0
    text = ambiguous.out + ambiguous.err
    for peer in (alice, stranger):
        assert peer.did in text
        assert peer.card.fingerprint in text
    assert "Traceback" not in text
    assert await stranger.inbox() == []

    victim.ok("accept", alice.did)
    ack = await alice.wait_for(lambda e: e.get("type") == "pair_drop_ack")
    assert ack["from"] == me.did
    assert await stranger.inbox() == []
    trust = victim.read_json(victim.config("trust.json"))["agents"]
    assert any(record.get("did") == alice.did for record in trust.values())
    assert all(record.get("did") != stranger.did for record in trust.values())


async def test_consent_gestures_match_names_exactly(victim: CLI, relay: RelayProcess) -> None:
    """``accept ALICE`` is not ``accept alice``: consent names one request exactly."""
    me = whoami(victim)
    alice = await HostilePeer(unique("alice"), relay.url).allocate()
    assert (await alice.intro(relay.url, me.handle, alice.drop(me.did)))[0] == 201
    victim.ok("pull")
    wrong_case = victim("accept", alice.handle.upper())
    assert wrong_case.code != 0
    assert await alice.inbox() == []
    victim.ok("accept", alice.handle)
    await alice.wait_for(lambda e: e.get("type") == "pair_drop_ack")
