# SPDX-License-Identifier: MIT
"""Attack 10: a forged, misdirected or stale "declined" (``pair_reject``) must not cut a dialer off.

The victim (a real CLI home) dials mallory (a hostile peer with a claimed nick on the real relay).
Mallory now holds the delivery token the victim's ``pair_drop`` handed her, so she — and eve, to
whom she could pass it — can post anything into the victim's slot. Only a refusal signed by the key
the victim pinned for mallory, addressed to the victim's full DID, naming the victim's CURRENT
request, while the victim still waits for mallory's ack, may mark mallory ``REFUSED``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.helpers.hostile_peer import HostilePeer
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import unique, whoami
from tests.hostile.runner import CLI
from wire_protocol import DID_PREFIX, JSONObject, build_event, sign_event


def _declined(request_event_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"reason": "declined"}
    if request_event_id is not None:
        body["request_event_id"] = request_event_id
    return body


def _state(victim: CLI) -> str:
    [peer] = victim.ok("peers").json()
    return str(peer["tier"])


def _refusals_refused(victim: CLI) -> list[str]:
    path = victim.state("pair-rejected.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [line["detail"] for line in lines if line["code"] == "pair_reject_refused"]


async def test_only_the_dialed_peers_refusal_of_our_current_request_counts(victim: CLI, relay: RelayProcess) -> None:
    me = whoami(victim)
    mallory = await HostilePeer(unique("mallory"), relay.url).allocate()
    address = await mallory.claim()
    victim.ok("dial", address)
    drop = await mallory.wait_for(lambda e: e.get("type") == "pair_drop" and e.get("from") == me.did)
    coords = drop["body"]
    eve = await HostilePeer(unique("eve"), relay.url).allocate()

    def forged_by_eve_as_mallory() -> JSONObject:
        unsigned = build_event(from_did=mallory.did, to=me.did, type="pair_reject", kind=1201,
                               body=_declined(drop["event_id"]), timestamp=datetime.now(UTC))  # fmt: skip
        return sign_event(unsigned, eve.key, mallory.did)

    attempts = {
        "a stranger (eve) names our request": eve.sign(me.did, "pair_reject", 1201, _declined(drop["event_id"])),
        "mallory's DID, eve's key": forged_by_eve_as_mallory(),
        "mallory, another request": mallory.sign(me.did, "pair_reject", 1201, _declined("0" * 64)),
        "mallory, no request named": mallory.sign(me.did, "pair_reject", 1201, _declined(None)),
        "mallory, to someone else": mallory.sign(eve.did, "pair_reject", 1201, _declined(drop["event_id"])),
        "mallory, bare DID": mallory.sign(f"{DID_PREFIX}{me.handle}", "pair_reject", 1201, _declined(drop["event_id"])),
    }
    for what, event in attempts.items():
        status, answer = await mallory.post(coords["relay_url"], coords["slot_id"], coords["slot_token"], event)
        assert status == 201, (what, answer)
    victim.ok("pull")
    assert _state(victim) == "PENDING_ACK"
    assert victim.ok("send", mallory.handle, "still waiting", "--queue").json()["status"] == "queued"
    refused = _refusals_refused(victim)
    assert any("no pair request of ours" in d for d in refused)  # eve
    assert any("signature" in d for d in refused)  # eve's key under mallory's DID
    assert sum("does not name our current pair request" in d for d in refused) == 2
    inbox = victim.ok("tail", mallory.handle, "--offline", "--json")
    assert "pair_reject" not in inbox.out  # none of them became a message either

    genuine = mallory.sign(me.did, "pair_reject", 1201, _declined(drop["event_id"]))  # the control: this one counts
    assert (await mallory.post(coords["relay_url"], coords["slot_id"], coords["slot_token"], genuine))[0] == 201
    victim.ok("pull")
    assert _state(victim) == "REFUSED"

    victim.ok("dial", address)  # a new request: the old refusal no longer applies ...
    assert _state(victim) == "PENDING_ACK"
    second = await mallory.wait_for(lambda e: e.get("type") == "pair_drop" and e.get("event_id") != drop["event_id"])
    stale = mallory.sign(me.did, "pair_reject", 1201, _declined(drop["event_id"]))  # ... nor one naming the old one
    new_coords = second["body"]
    posted = await mallory.post(new_coords["relay_url"], new_coords["slot_id"], new_coords["slot_token"], stale)
    assert posted[0] == 201
    victim.ok("pull")
    assert _state(victim) == "PENDING_ACK"
