# SPDX-License-Identifier: MIT
"""The relay down for a while, as the operator sees it through the CLI (no daemon: `wire push` by hand).

tests/client/test_daemon.py covers the daemon delivering after an outage, and tests/e2e the send
verdict during a restart. Here: every operator-facing place tells the truth while the relay is down
(``send`` → queued with the reason, ``status`` → backlog, ``doctor`` → relay FAIL with the fix,
``push`` → still queued), and after it returns one ``push`` delivers each queued event exactly once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.support import once_each
from tests.helpers.agents import paired_agents
from tests.helpers.cli import Wire
from tests.helpers.relay_process import RelayProcess
from wire_client._home.files import read_jsonl

pytestmark = pytest.mark.timeout(90)


async def test_relay_down_for_a_while_operator_is_told(relay: RelayProcess, tmp_path: Path) -> None:
    alice_agent, bob_agent = await paired_agents(tmp_path, relay.url, "alice", "bob")
    await alice_agent.close()
    await bob_agent.close()
    assert alice_agent.home.root is not None
    assert bob_agent.home.root is not None
    alice = Wire(alice_agent.home.root, tmp_path)
    bob = Wire(bob_agent.home.root, tmp_path)

    relay.kill()
    queued = [alice.ok("send", "bob", f"down {i}").json() for i in range(3)]
    assert [q["status"] for q in queued] == ["queued"] * 3
    assert relay.url in queued[0]["reason"]
    assert queued[1]["reason"].startswith("earlier events to this peer are still queued (")
    assert relay.url in queued[1]["reason"]  # ... and why: the root cause, not just "behind a backlog"
    human = alice.ok("send", "bob", "down 3", human=True)
    assert "queued for" in human.out
    assert relay.url in human.out
    assert "`wire push` now" in human.out
    status = alice.ok("status").json()
    assert status["outbox"]["peers_with_backlog"] == ["bob"]
    assert status["outbox"]["queued_bytes"] > 0
    doctor = alice("doctor")
    assert doctor.code == 1
    relay_check = next(c for c in json.loads(doctor.out)["checks"] if c["check"] == "relay")
    assert relay_check["status"] == "FAIL"
    assert "healthz" in relay_check["fix"]
    push = alice.ok("push").json()
    assert push["delivered"] == 0
    assert set(push["still_queued"]) == {"bob"}

    relay.start()
    pushed = alice.ok("push").json()
    assert pushed["delivered"] == 4
    assert pushed["still_queued"] == {}
    assert alice.ok("status").json()["outbox"]["peers_with_backlog"] == []
    bob.ok("pull")
    ids = [q["event_id"] for q in queued]
    assert once_each(bob_agent.home.root, "alice", ids)
    bodies = [e["body"] for e in bob.ok("tail", "alice", "--offline").jsonl()]
    assert bodies == ["down 0", "down 1", "down 2", "down 3"]
    verdicts = [r for _, r in read_jsonl(alice_agent.home.sent_path("bob")).records if isinstance(r, dict)]
    assert [v["status"] for v in verdicts] == ["queued"] * 4 + ["delivered"] * 4  # the operator's record
