# SPDX-License-Identifier: MIT
"""Sealed bodies end to end: two CLI agents with daemons on a real relay process (SQLite).

The relay's database file (and its WAL) never holds a message's plaintext; both sides read each
other verified and opened; a plaintext message from a peer that can seal is flagged and can be
refused; a daemon answers a probe within 1 s; a body too large to seal fails before posting.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import Wire, parallel
from tests.helpers.relay_process import RelayProcess
from wire_client import WireHome, daemon_status, open_home
from wire_protocol import build_event, sign_event

pytestmark = pytest.mark.timeout(120)

WAIT = 20.0
ALICE_SECRET = "MARKER-alice-7f3c plans the launch for tuesday"
BOB_SECRET = "MARKER-bob-91ad the code is 4417"
DIAL_SECRET = "MARKER-dial-c0de hello from the dial"


def wait_until(condition: Callable[[], bool], what: str, within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {within}s waiting for {what}"
        time.sleep(0.05)


@dataclass
class Pair:
    alice: Wire
    bob: Wire
    relay: RelayProcess
    root: Path
    daemons: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def start_daemon(self, who: str) -> None:
        wire = self.alice if who == "alice" else self.bob
        self.daemons[who] = wire.popen("daemon", "--no-toasts")
        home = WireHome.at(self.root / who)
        wait_until(lambda: (s := daemon_status(home)) is not None and s.running, f"{who}'s daemon")

    def stop_daemon(self, who: str) -> None:
        process = self.daemons.pop(who, None)
        if process is not None:
            process.terminate()
            process.communicate(timeout=WAIT)

    def tail(self, who: str, *extra: str) -> list[dict[str, Any]]:
        wire = self.alice if who == "alice" else self.bob
        return [e for e in wire.ok("tail", "--offline", "--json", *extra).jsonl() if isinstance(e, dict)]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("sealed")
    (root / "user").mkdir()
    with RelayProcess(root / "relay") as relay:
        p = Pair(Wire(root / "alice", root / "user"), Wire(root / "bob", root / "user"), relay, root)
        parallel(
            lambda: p.alice.ok("init", "alice", "--relay", relay.url),
            lambda: p.bob.ok("init", "bob", "--relay", relay.url),
        )
        host = relay.url.removeprefix("http://")
        p.alice.ok("dial", f"bob@{host}", DIAL_SECRET)
        p.bob.ok("pending")  # fetches the request
        p.bob.ok("accept", "alice")
        p.alice.ok("pull")  # the ack: alice pins bob's slot and delivers the dial's message
        try:
            p.start_daemon("alice")
            p.start_daemon("bob")
            yield p
        finally:
            for who in list(p.daemons):
                p.stop_daemon(who)


def _relay_files(relay: RelayProcess) -> list[Path]:
    db = Path(relay.store_url.removeprefix("sqlite:///"))
    return [f for f in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if f.exists()]


def test_both_sides_read_each_other_sealed_and_the_relay_holds_no_plaintext(pair: Pair) -> None:
    pair.alice.ok("send", "bob", ALICE_SECRET)
    pair.bob.ok("send", "alice", "claim", json.dumps({"answer": BOB_SECRET}))
    wait_until(lambda: any(e.get("body") == ALICE_SECRET for e in pair.tail("bob")), "alice's message at bob")
    wait_until(lambda: any(e.get("body") == {"answer": BOB_SECRET} for e in pair.tail("alice")), "bob's reply")
    wait_until(lambda: any(e.get("body") == DIAL_SECRET for e in pair.tail("bob")), "the dial's message at bob")
    for who, text in (("bob", ALICE_SECRET), ("alice", {"answer": BOB_SECRET})):
        [row] = [e for e in pair.tail(who) if e.get("body") == text]
        assert row["verified"] is True
        assert row["sealed"] is True
        assert row["decryptable"] is True
        assert row["downgraded"] is False
        assert row["enc"] == "wire-x25519.v1"
    # on disk the line is the signed sealed event as the relay stored it, plus the opened body
    raw = [json.loads(line) for line in (pair.root / "bob/state/wire/inbox/alice.jsonl").read_text().splitlines()]
    sealed = next(e for e in raw if e.get("opened", {}).get("body") == ALICE_SECRET)
    assert set(sealed["body"]) == {"ct"}
    assert sealed["to"].startswith("did:wire:bob-")  # the full pinned DID
    human = pair.bob.ok("tail", "--offline", human=True).out
    assert ALICE_SECRET in human
    assert "[sealed]" in human
    # the relay's database files hold ciphertext only
    files = _relay_files(pair.relay)
    assert files
    stored = b"".join(f.read_bytes() for f in files)
    assert b"wire-x25519.v1" in stored  # the sealed events are there...
    for secret in (ALICE_SECRET, BOB_SECRET, DIAL_SECRET, "MARKER-"):
        assert secret.encode() not in stored, f"plaintext {secret!r} found in the relay's database"


def test_a_daemon_answers_a_probe_within_one_second(pair: Pair) -> None:
    result = pair.alice.ok("ping", "bob", "--timeout", "5").json()
    assert result["alive"] is True
    assert result["rtt_ms"] < 1000
    again = pair.bob.ok("ping", "alice").json()
    assert again["alive"] is True
    assert not any(e.get("type") == "heartbeat" for e in pair.tail("alice", "--include-handshake"))


def test_ping_reports_a_clear_timeout_when_nobody_answers(pair: Pair) -> None:
    pair.stop_daemon("bob")
    try:
        result = pair.alice("ping", "bob", "--timeout", "0.5")
        assert result.code == 1
        assert "did not answer" in result.err + result.out
        assert "no answer within 0.5 s" in result.err + result.out
    finally:
        pair.start_daemon("bob")


def test_a_body_too_large_to_seal_fails_before_anything_is_posted(pair: Pair) -> None:
    outbox = pair.root / "alice/state/wire/outbox/bob.jsonl"
    queued = outbox.read_bytes() if outbox.exists() else b""
    before = b"".join(f.read_bytes() for f in _relay_files(pair.relay)).count(b"wire-x25519.v1")
    result = pair.alice("send", "bob", "x" * 70_000)
    assert result.code != 0
    assert "65,535" in result.err + result.out
    assert (outbox.read_bytes() if outbox.exists() else b"") == queued  # nothing queued either
    after = b"".join(f.read_bytes() for f in _relay_files(pair.relay)).count(b"wire-x25519.v1")
    assert after == before


def _post_plaintext(pair: Pair, text: str) -> None:
    """bob signs a PLAINTEXT message to alice (as a peer whose pin predates our dh_pubkey would)."""

    async def go() -> None:
        async with await open_home(pair.root / "bob") as bob:
            event = build_event(
                from_did=bob.did, to="did:wire:alice", type="claim", kind=1001, body=text, timestamp=_now()
            )
            result = await bob.sender.send_signed("alice", sign_event(event, bob.identity.key, bob.did))
            assert result.delivered, result

    asyncio.run(go())


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_a_plaintext_message_from_a_sealing_peer_is_flagged_everywhere(pair: Pair) -> None:
    _post_plaintext(pair, "plain words from bob")
    wait_until(lambda: any(e.get("body") == "plain words from bob" for e in pair.tail("alice")), "the plaintext")
    [row] = [e for e in pair.tail("alice") if e.get("body") == "plain words from bob"]
    assert row["downgraded"] is True
    assert row["sealed"] is False
    assert row["verified"] is True
    assert "[PLAINTEXT from a peer that can seal]" in pair.alice.ok("tail", "--offline", human=True).out


def test_the_operator_can_refuse_plaintext_from_sealing_peers(pair: Pair) -> None:
    pair.stop_daemon("alice")
    try:
        _post_plaintext(pair, "refuse me")
        pulled = pair.alice.ok("pull", env={"WIRE_REFUSE_PLAINTEXT": "1"}).json()
        assert [r["code"] for r in pulled["rejected"]] == ["plaintext_refused"]
        assert "refuse_plaintext_from_sealing_peers" in pulled["rejected"][0]["reason"]
        assert not any(e.get("body") == "refuse me" for e in pair.tail("alice"))
        log = (pair.root / "alice/state/wire/rejected.jsonl").read_text()
        assert "plaintext_refused" in log
    finally:
        pair.start_daemon("alice")
