# SPDX-License-Identifier: MIT
"""Attack 1: a peer steers where our client sends requests (issue 12).

The victim socket stands in for the Docker socket: any request reaching it is a successful
attack. Every step runs the real relay and real ``wire`` processes.
"""

from __future__ import annotations

import json

from tests.helpers.hostile_peer import HostilePeer
from tests.helpers.hostile_relay import VictimSocket
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import pair_with_victim, unique, whoami
from tests.hostile.runner import CLI


def _evil_endpoints(victim: VictimSocket, token: str) -> list[dict[str, str]]:
    return [
        {"relay_url": victim.url, "slot_id": "../../containers/prune?", "slot_token": token, "scope": "uds"},
        {"relay_url": victim.url, "slot_id": "a" * 32, "slot_token": token, "scope": "federation"},
        {"relay_url": "http://127.0.0.1:2375/containers/prune?x=", "slot_id": "b" * 32, "slot_token": token},
        {"relay_url": "http://user:pw@127.0.0.1:9", "slot_id": "c" * 32, "slot_token": token},
        {"relay_url": "https://relay.example", "slot_id": "../v1/slot/allocate", "slot_token": token},
    ]


def _peer_endpoints(victim: CLI, handle: str) -> list[dict[str, str]]:
    peers = victim.read_json(victim.config("relay.json"))["peers"]
    return list(peers[handle]["endpoints"]) if "endpoints" in peers[handle] else [peers[handle]]


async def test_stranger_endpoints_list_is_never_dialled(
    victim: CLI, relay: RelayProcess, victim_socket: VictimSocket
) -> None:
    """Accepting a request whose endpoints name a Unix socket and path tricks sends the ack only to its honest slot."""
    peer = await HostilePeer(unique("mallory"), relay.url).allocate()
    ack = await pair_with_victim(peer, victim, endpoints=_evil_endpoints(victim_socket, "t" * 64))
    assert ack["slot_id"] == whoami(victim).slot_id
    assert victim_socket.requests == []
    stored = _peer_endpoints(victim, peer.handle)
    assert [(ep["relay_url"], ep["slot_id"], ep.get("scope", "federation")) for ep in stored] == [
        (relay.url, peer.slot_id, "federation")
    ]
    victim.ok("send", peer.handle, "hello")
    assert victim_socket.requests == []


async def test_stranger_legacy_coordinates_on_a_socket_are_refused(
    victim: CLI, relay: RelayProcess, victim_socket: VictimSocket
) -> None:
    """A request whose only coordinates are a Unix socket never becomes acceptable; the log says why."""
    me = whoami(victim)
    peer = await HostilePeer(unique("mallory"), relay.url).allocate()
    drop = peer.drop(me.did, relay_url=victim_socket.url, slot_id="../../containers/prune?", scope="uds")
    assert (await peer.intro(relay.url, me.handle, drop))[0] == 201
    victim.ok("pull")
    assert victim.ok("pending").json() == []
    refused = victim("accept", peer.did)
    assert refused.code != 0
    assert "Traceback" not in refused.err
    log = victim.state("pair-rejected.jsonl").read_text()
    assert "relay_url" in log
    assert victim_socket.requests == []


async def test_refresh_from_a_paired_peer_cannot_move_it_to_a_socket(
    victim: CLI, relay: RelayProcess, victim_socket: VictimSocket
) -> None:
    """A signed re-intro with new coordinates on a socket is not applied and never re-acked there."""
    me = whoami(victim)
    peer = await HostilePeer(unique("mallory"), relay.url).allocate()
    ack = await pair_with_victim(peer, victim)
    before = _peer_endpoints(victim, peer.handle)
    for evil in _evil_endpoints(victim_socket, "t" * 64):
        refresh = peer.drop(me.did, endpoints=[evil], **{k: v for k, v in evil.items() if k != "scope"})
        status, _ = await peer.post(relay.url, ack["slot_id"], ack["slot_token"], refresh)
        assert status == 201
    victim.ok("pull")
    assert victim_socket.requests == []
    assert _peer_endpoints(victim, peer.handle) == before
    victim.ok("send", peer.handle, "still here")
    assert victim_socket.requests == []
    log = victim.state("pair-rejected.jsonl").read_text()
    assert "relay_url" in log or "slot_id" in log


async def test_ack_with_socket_coordinates_is_not_used_for_sending(
    victim: CLI, relay: RelayProcess, victim_socket: VictimSocket
) -> None:
    """We dial the attacker; its ack names a socket; our next send never reaches the socket."""
    me = whoami(victim)
    peer = await HostilePeer(unique("mallory"), relay.url).allocate()
    address = await peer.claim()
    victim.ok("dial", address)
    drop = await peer.wait_for(lambda e: e.get("type") == "pair_drop" and e.get("from") == me.did)
    evil = {"relay_url": victim_socket.url, "slot_id": "../../containers/prune?", "slot_token": "t" * 64}
    ack = peer.sign(me.did, "pair_drop_ack", 1101, {**evil, "endpoints": [{**evil, "scope": "uds"}]})
    status, _ = await peer.post(relay.url, drop["body"]["slot_id"], drop["body"]["slot_token"], ack)
    assert status == 201
    victim.ok("pull")
    sent = victim("send", peer.handle, "hello?")
    assert "Traceback" not in sent.err
    assert victim_socket.requests == [], json.dumps([r.path for r in victim_socket.requests])
