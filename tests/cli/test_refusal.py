# SPDX-License-Identifier: MIT
"""Issue 14 item 5, last part: a rejected dialer is told, sees one truthful state, and its sends fail.

Real `wire` subprocesses against a real relay process, no daemon; plus a reference-style v0.9.3
polling dialer (tests/e2e/refclient.py) to show the refusal never blocks such a peer's cursor.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_first_hour import _pair
from tests.e2e.refclient import PollingPeer
from tests.helpers.cli import Wire
from tests.helpers.relay_process import RelayProcess
from wire_protocol import CardTrust, is_known_kind, verify_event


def _error(result: object) -> dict[str, object]:
    err = getattr(result, "err", "")
    payload: dict[str, object] = json.loads(err.strip().splitlines()[-1])["error"]
    return payload


def test_a_declined_dialer_sees_one_state_everywhere_and_sends_fail(relay: RelayProcess, tmp_path: Path) -> None:
    dialer, callee, dialer_name, callee_name = _pair(relay, tmp_path, "n")
    early = dialer.ok("send", callee_name, "queued before the answer", "--queue").json()
    assert early["status"] == "queued"

    told = callee("reject", dialer_name, human=True)
    assert told.code == 0, str(told)
    assert f"rejected {dialer_name} — they were told" in told.out

    refused = dialer("send", callee_name, "hello?", "--json")  # send fetches first: it learns of the refusal
    assert refused.code == 1, str(refused)
    error = _error(refused)
    assert error["code"] == "peer_refused", error
    message = str(error["message"])
    assert f"{callee_name} declined your pair request at " in message
    assert "nothing was sent" in message
    assert f"`wire dial {callee_name}@{relay.url.removeprefix('http://')}`" in message
    human = dialer("send", callee_name, "hello again?", human=True)
    assert human.code == 1
    assert "declined your pair request" in human.err
    assert "hint:" in human.err or "REFUSED" in human.err

    [peer] = dialer.ok("peers").json()
    assert (peer["handle"], peer["tier"], peer["reachable"]) == (callee_name, "REFUSED", False)
    assert peer["refused_at"]
    assert "declined your pair request" in peer["note"]
    status = dialer.ok("status", "--json").json()
    assert [(p["handle"], p["tier"]) for p in status["peers"]] == [(callee_name, "REFUSED")]
    assert callee_name in status["outbox"]["peers_with_backlog"]  # the early message is kept ...
    assert status["outbox"]["held_for_refused"] == [callee_name]  # ... and reported, not pushed
    human_status = dialer("status", human=True)
    assert f"{callee_name} declined your pair request: its queued messages are kept, not sent" in human_status.out
    assert dialer.ok("here", "--json").json()["pinned_peers"][0]["tier"] == "REFUSED"
    assert dialer.ok("whois", callee_name, "--json").json()["tier"] == "REFUSED"
    assert dialer.ok("daemon", "--once").code == 0  # a push cycle leaves the kept line alone
    assert dialer.ok("status", "--json").json()["outbox"]["held_for_refused"] == [callee_name]

    dialer.ok("dial", f"{callee_name}@{relay.url.removeprefix('http://')}")  # starting over clears the state
    assert [p["tier"] for p in dialer.ok("peers").json()] == ["PENDING_ACK"]
    assert dialer.ok("send", callee_name, "trying again", "--queue").json()["status"] == "queued"


def test_reject_quietly_tells_nobody(relay: RelayProcess, tmp_path: Path) -> None:
    dialer, callee, dialer_name, callee_name = _pair(relay, tmp_path, "q")
    quiet = callee.ok("reject", dialer_name, "--quietly").json()
    assert (quiet["rejected"], quiet["notified"]) == (True, None)
    dialer.ok("pull")
    assert [p["tier"] for p in dialer.ok("peers").json()] == ["PENDING_ACK"]
    assert dialer.ok("send", callee_name, "still waiting", "--queue").json()["status"] == "queued"


async def test_a_reference_style_dialer_files_the_refusal_and_its_cursor_moves(
    relay: RelayProcess, tmp_path: Path
) -> None:
    """A v0.9.3 peer pinned us when it dialed: our refusal is a known kind, verifies, and is a message to it."""
    user = tmp_path / "user"
    user.mkdir()
    alice = Wire(tmp_path / "alice", user)
    alice.ok("init", "alice", "--relay", relay.url)
    dave = PollingPeer("dave", relay.url)
    await dave.allocate()
    assert (await dave.dial("alice", relay.url))["status"] == "dropped"
    told = alice.ok("reject", "dave").json()
    assert told["notified"] is True, told
    await dave.poll_until(lambda: bool(dave.inbox), within=10)
    [refusal] = dave.inbox
    assert (refusal["type"], refusal["kind"]) == ("pair_reject", 1201)
    assert is_known_kind(refusal["kind"])  # a v0.9.3 receiver does not block its cursor on it (notes §2.8)
    verify_event(refusal, CardTrust([dave.peers["alice"].card]))  # signed by the key dave pinned at dial time
    assert refusal["to"] == dave.did
    assert refusal["body"]["reason"] == "declined"
    assert dave.rejected == []
    assert dave.cursor == refusal["event_id"]
