# SPDX-License-Identifier: MIT
"""The README story against a real relay process: two homes init, dial, pending, accept, send,
tail and monitor — then the verbs around it, in JSON and human modes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.cli import Result, Wire, parallel
from tests.helpers.relay_process import RelayProcess


@dataclass
class Story:
    alice: Wire
    bob: Wire
    carol: Wire
    relay: RelayProcess
    steps: dict[str, Result] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.relay.url.removeprefix("http://")


@pytest.fixture(scope="module")
def story(relay: RelayProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    root = tmp_path_factory.mktemp("story")
    (root / "user").mkdir()
    s = Story(*(Wire(root / n, root / "user") for n in ("alice", "bob", "carol")), relay=relay)
    s.steps["init_alice"], s.steps["init_bob"], s.steps["init_carol"] = parallel(
        lambda: s.alice("init", "alice", "--relay", relay.url),
        lambda: s.bob("init", "bob", "--relay", relay.url, human=True),
        lambda: s.carol("init", "carol", "--relay", relay.url),
    )
    s.steps["dial"] = s.alice("dial", f"bob@{s.host}", "hello bob")
    s.steps["carol_dial"] = s.carol("dial", f"bob@{s.host}")
    s.steps["pending_human"] = s.bob("pending", human=True)
    s.steps["pending_json"] = s.bob("pending", "--json")
    s.steps["accept"] = s.bob("accept", "alice")
    s.steps["reject"] = s.bob("reject", "carol", human=True)
    s.steps["alice_pull"] = s.alice("pull")
    s.steps["send"] = s.alice("send", "bob", "are you there?")
    s.steps["reply"] = s.bob("send", "alice", "claim", '{"answer": "yes"}', human=True)
    return s


def test_init_prints_the_identity(story: Story) -> None:
    data = story.steps["init_alice"].json()
    assert data["did"].startswith("did:wire:alice-")
    assert data["status"] == "created"
    assert data["relay_url"] == story.relay.url
    assert data["claimed"] is True
    assert "slot_token" not in story.steps["init_alice"].out
    human = story.steps["init_bob"]
    assert human.code == 0, str(human)
    assert "you are" in human.out
    assert "(bob)" in human.out
    assert "mailbox on" in human.out


def test_dial_pending_accept_reject(story: Story) -> None:
    dial = story.steps["dial"]
    assert dial.code == 0, str(dial)
    assert dial.json()["status"] == "drop_sent"
    pending = story.steps["pending_human"]
    assert pending.code == 0, str(pending)
    assert "2 pending pair request(s)" in pending.out
    assert "(alice) wants to pair with you" in pending.out
    assert "(carol) wants to pair with you" in pending.out
    assert "wire accept <name>" in pending.out
    records = story.steps["pending_json"].json()
    assert {r["peer_handle"] for r in records} == {"alice", "carol"}
    assert "slot_token" not in story.steps["pending_json"].out
    accept = story.steps["accept"]
    assert accept.code == 0, str(accept)
    assert accept.json()["status"] == "bilateral_accepted"
    assert story.steps["reject"].out.startswith("rejected carol")


def test_send_returns_a_real_verdict(story: Story) -> None:
    sent = story.steps["send"]
    assert sent.code == 0, str(sent)
    verdict = sent.json()
    assert verdict["status"] == "delivered"
    assert verdict["peer"] == "bob"
    assert len(verdict["event_id"]) == 64
    assert "delivered to" in story.steps["reply"].out


def test_tail_shows_verified_events_oldest_first(story: Story) -> None:
    lines = story.bob.ok("tail").jsonl()
    bodies = [line["body"] for line in lines]
    assert bodies == ["hello bob", "are you there?"]
    assert all(line["verified"] is True and line["from"].startswith("did:wire:alice-") for line in lines)
    human = story.alice.ok("tail", "bob", human=True)
    assert '{"answer":"yes"}' in human.out
    assert "✓" in human.out
    since = story.bob.ok("tail", "--since", lines[0]["event_id"]).jsonl()
    assert [e["body"] for e in since] == ["are you there?"]
    assert [e["body"] for e in story.bob.ok("tail", "--limit", "1").jsonl()] == ["are you there?"]


def test_monitor_prints_one_line_per_new_event(story: Story) -> None:
    monitor = story.bob.popen("monitor", "--json", "--max-events", "1", "--duration", "40", "--interval-ms", "50")
    try:
        time.sleep(1.5)  # let it start watching (it exits on its own after one event or 40 s)
        story.alice.ok("send", "bob", "ping from the monitor test")
        out, err = monitor.communicate(timeout=45)
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.communicate(timeout=10)
    assert monitor.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["body_preview"] for e in events] == ["ping from the monitor test"]
    assert events[0]["verified"] is True
    assert events[0]["peer"] == "alice"
    assert events[0]["type"] == "claim"
    replay = story.bob.ok("monitor", "--replay", "2", "--duration", "0", "--no-receive", human=True)
    assert "ping from the monitor test" in replay.out
    assert "pair_drop" not in replay.out


def test_peers_whois_here_status(story: Story) -> None:
    peers, whois, miss_human, miss_json, here, status, health = parallel(
        lambda: story.alice("peers"),
        lambda: story.alice("whois", "bob"),
        lambda: story.alice("whois", "bobb", human=True),
        lambda: story.alice("whois", "bobb"),
        lambda: story.alice("here"),
        lambda: story.alice("status"),
        lambda: story.alice("status", "--peer", "bob"),
    )
    [bob] = peers.json()
    assert bob["handle"] == "bob"
    assert bob["tier"] == "VERIFIED"
    assert bob["capabilities"] == ["wire/v3.1"]
    assert set(bob["character"]) >= {"nickname", "emoji", "palette"}
    assert "slot_token" not in peers.out
    assert whois.json()["found"] is True
    assert whois.json()["kind"] == "pinned_peer"
    assert miss_human.code == 1
    assert "Did you mean: `bob`?" in miss_human.err
    assert miss_json.code == 0
    assert miss_json.json()["found"] is False
    assert "bob" in miss_json.json()["candidates"]
    assert here.json()["self"]["handle"] == "alice"
    assert here.json()["pinned_peers"][0]["handle"] == "bob"
    data = status.json()
    assert data["initialized"]
    assert data["peers"] == [{"handle": "bob", "tier": "VERIFIED"}]
    assert data["daemon"]["running"] is False
    assert health.json()["transport"]["status"] == "ok"
    # bob's relay handed alice a write-only deposit token: bob's slot state is not hers to read
    assert health.json()["attention"]["status"] == "private"
    assert "slot_token" not in status.out + health.out


def test_whois_federation_and_send_miss(story: Story) -> None:
    remote, miss = parallel(
        lambda: story.carol("whois", f"alice@{story.host}"),
        lambda: story.alice("send", "bobb", "hi"),
    )
    assert remote.code == 0, str(remote)
    assert remote.json()["did"].startswith("did:wire:alice-")
    assert remote.json()["verified"] is True
    assert miss.code == 1
    assert json.loads(miss.err)["error"]["candidates"] == ["bob"]


def test_doctor_pull_push_daemon_once(story: Story) -> None:
    doctor, pull, push, once = parallel(
        lambda: story.alice("doctor", human=True),
        lambda: story.bob("pull"),
        lambda: story.alice("push"),
        lambda: story.carol("daemon", "--once"),
    )
    assert doctor.code == 0, str(doctor)
    assert "PASS identity" in doctor.out
    assert "fix: `wire daemon`" in doctor.out
    assert pull.code == 0
    assert {"fetched", "inboxed", "rejected"} <= set(pull.json())
    assert push.code == 0
    assert push.json()["still_queued"] == {}
    assert once.code == 0
    assert set(once.json()) == {"pushed", "pulled", "rejected"}


def test_doctor_fails_with_the_fix(tmp_path: Path, user_home: Path) -> None:
    broken = Wire(tmp_path / "nobody", user_home)
    result = broken("doctor", human=True)
    assert result.code == 1
    assert "FAIL identity" in result.out
    assert "fix: `wire init <handle> --relay <url>`" in result.out


def test_profile_rename_claim_invite(story: Story) -> None:
    set_role = story.carol.ok("profile", "set", "role", "reviewer")
    assert set_role.json()["republished"] == [story.relay.url]  # carol's handle is claimed there
    resolved = story.alice.ok("whois", f"carol@{story.host}").json()
    assert resolved["card"]["profile"]["role"] == "reviewer"  # peers resolve the edited card
    got, rename, invite = parallel(
        lambda: story.carol("profile", "get"),
        lambda: story.carol("identity", "rename", "--name", "carol-the-great", "--emoji", "🦉"),
        lambda: story.carol("invite", "--ttl", "600"),
    )
    assert got.json()["profile"]["role"] == "reviewer"
    assert rename.json()["character"]["nickname"] == "carol-the-great"
    short = story.carol.ok("whoami", "--short", human=True)
    assert short.out.startswith("🦉 carol-the-great · ")
    assert invite.code == 0, str(invite)
    url = invite.json()["invite_url"]
    assert url.startswith("wire://pair?")
    accepted = story.bob("accept-invite", url)
    assert accepted.code == 0, str(accepted)
    assert accepted.json()["peer_handle"] == "carol"


def test_json_shapes_are_documented(story: Story) -> None:
    doc = (Path(__file__).resolve().parents[2] / "packages" / "wire-cli" / "JSON.md").read_text(encoding="utf-8")
    for verb in ("init", "whoami", "peers", "send", "tail", "pending", "accept", "dial", "status", "doctor"):
        assert f"### `wire {verb}" in doc, verb
