# SPDX-License-Identifier: MIT
"""Attack 3: a stalled or looping receiver (issue 12) — junk that holds the cursor, lying relays."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.helpers.hostile_peer import HostilePeer
from tests.helpers.hostile_relay import HostileRelay
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import pair_with_victim, unique, whoami
from tests.hostile.runner import CLI


def _junk(n: int, *, ids: bool = True, offset: int = 0) -> list[dict[str, Any]]:
    events = []
    for i in range(n):
        event: dict[str, Any] = {"from": "did:wire:junk-00000000", "kind": 4242, "type": "junk", "body": "x" * 200}
        if ids:
            event["event_id"] = f"{offset + i:064x}"
        events.append(event)
    return events


async def test_unknown_kind_junk_does_not_hold_the_cursor(victim: CLI, relay: RelayProcess) -> None:
    """Unsigned junk of an unknown kind is passed; the next pull fetches nothing old again."""
    me = whoami(victim)
    peer = await HostilePeer(unique("mallory"), relay.url).allocate()
    ack = await pair_with_victim(peer, victim)
    for junk in _junk(3):
        assert (await peer.post(relay.url, ack["slot_id"], ack["slot_token"], junk))[0] == 201
    unsigned = {**peer.sign(me.did, "claim", 7777, "from the future"), "signature": "AAAA"}
    assert (await peer.post(relay.url, ack["slot_id"], ack["slot_token"], unsigned))[0] == 201
    message = peer.sign(me.did, "claim", 1001, "after the junk")
    assert (await peer.post(relay.url, ack["slot_id"], ack["slot_token"], message))[0] == 201
    first = victim.ok("pull").json()
    assert first["inboxed"] >= 1
    again = victim.ok("pull").json()
    assert again["fetched"] == 0, again
    inbox = victim.state("inbox", f"{peer.handle}.jsonl").read_text()
    assert message["event_id"] in inbox


def _victim_on(relay: HostileRelay, tmp_path: Path) -> CLI:
    cli = CLI(tmp_path / "victim")
    cli.ok("init", unique("victim"), "--relay", relay.url)
    return cli


def _rejection_bytes(cli: CLI) -> int:
    return sum(p.stat().st_size for p in cli.state().glob("rejected.jsonl*"))


async def test_relay_ignoring_since_and_limit_is_reported_not_looped(
    hostile_relay: HostileRelay, tmp_path: Path
) -> None:
    """Every page is full and the same: ``wire pull`` stops after a bounded number of pages and says why."""
    victim = _victim_on(hostile_relay, tmp_path)
    calls: list[int] = []

    async def full_page(request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "100"))
        calls.append(limit)
        return HostileRelay.json(_junk(limit, offset=len(calls) * limit))

    hostile_relay.routes["GET /v1/events"] = full_page
    for _ in range(3):
        started = time.monotonic()
        result = victim("pull", timeout=60)
        assert time.monotonic() - started < 30
        assert "Traceback" not in result.err
        assert "relay" in (result.out + result.err).lower()
    assert len(calls) <= 3 * 100
    assert _rejection_bytes(victim) <= 3 * 1024 * 1024


async def test_page_without_event_ids_does_not_stop_pull(hostile_relay: HostileRelay, tmp_path: Path) -> None:
    """A page of events without ``event_id``: pull finishes, says so, and the next pull still works."""
    victim = _victim_on(hostile_relay, tmp_path)
    hostile_relay.events_body = json.dumps(_junk(1000, ids=False)).encode()
    for _ in range(2):
        result = victim("pull", timeout=60)
        assert "Traceback" not in result.err, result.err
        assert result.code == 0, str(result)
    assert hostile_relay.hits["GET /v1/events"] <= 2 * 100


async def test_rejection_log_is_bounded_and_rotated(hostile_relay: HostileRelay, tmp_path: Path) -> None:
    """Thousands of rejections over many pulls leave at most a bounded log (current + one rotated file)."""
    victim = _victim_on(hostile_relay, tmp_path)
    offsets = iter(range(0, 10**9, 5000))

    async def fresh_junk(request: web.Request) -> web.Response:
        since = request.query.get("since")
        return HostileRelay.json([] if since else _junk(min(int(request.query.get("limit", "100")), 5000),
                                                         offset=next(offsets)))  # fmt: skip

    hostile_relay.routes["GET /v1/events"] = fresh_junk
    (victim.state("rejected.jsonl")).write_bytes(b'{"old": true}\n' * 200_000)  # ~2.8 MB already there
    for _ in range(5):
        victim.ok("pull", timeout=60)
    assert _rejection_bytes(victim) <= 3 * 1024 * 1024
