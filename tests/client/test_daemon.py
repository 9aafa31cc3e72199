# SPDX-License-Identifier: MIT
"""The daemon: SSE receive, outbox push, file-system contract, singleton, crash recovery, notifications."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.agents import inbox_lines, paired_agents, wait_for
from tests.helpers.relay_process import RelayProcess
from wire_client import Daemon, DaemonAlreadyRunningError, WireAgent, WireHome, daemon_status
from wire_client._home.files import read_jsonl
from wire_client._notify import notifications_enabled, toast


class DaemonProcess:
    """``python -m wire_client daemon`` for one home, as a real separate process."""

    def __init__(self, home: WireHome) -> None:
        self.home = home
        assert home.root is not None
        self.log = home.root / "daemon.log"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "wire_client", "daemon", "--home", str(home.root), "--no-toasts",
                 "--backoff-initial", "0.1", "--poll-interval", "0.5"],
                stdout=log, stderr=log,
            )  # fmt: skip

    async def started(self, within: float = 20.0) -> None:
        def ready() -> bool:
            status = daemon_status(self.home)
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited: {self.log.read_text()}")
            return status is not None and status.pid == self.proc.pid

        await wait_for(ready, within, "the daemon pidfile")

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def terminate(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=15)


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.kill9()


async def start_daemon(agent: WireAgent, registry: list[DaemonProcess]) -> DaemonProcess:
    daemon = DaemonProcess(agent.home)
    registry.append(daemon)
    await daemon.started()
    return daemon


async def test_daemon_streams_events_into_the_inbox(
    shared_relay: RelayProcess, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    async with alice, bob:
        early = await bob.send("alice", "sent before the daemon started")  # replayed from the start
        await start_daemon(alice, daemons)
        late = await bob.send("alice", "live")
        await wait_for(lambda: len(inbox_lines(alice, "bob")) == 2, what="both events in alice's inbox")
        assert [e["event_id"] for e in inbox_lines(alice, "bob")] == [early.event_id, late.event_id]


async def test_pidfile_and_second_daemon_refused(
    shared_relay: RelayProcess, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    (alice,) = await paired_agents(tmp_path, shared_relay.url, "alice")
    async with alice:
        daemon = await start_daemon(alice, daemons)
        record = json.loads(alice.home.daemon_pid.read_text())
        assert record["schema"] == "wire-daemon-pid-v1"
        assert record["pid"] == daemon.proc.pid
        assert record["did"] == alice.did
        assert record["relay_url"] == shared_relay.url
        assert {"started_at", "version"} <= set(record)
        with pytest.raises(DaemonAlreadyRunningError) as refused:
            Daemon(alice.home).acquire()
        assert refused.value.pid == daemon.proc.pid
        second = DaemonProcess(alice.home)
        assert second.proc.wait(timeout=20) == 1
        assert "already running" in second.log.read_text()
        assert daemon.terminate() == 0  # clean shutdown on SIGTERM
        assert not alice.home.daemon_pid.exists()
        Daemon(alice.home).acquire()  # free again


async def test_file_system_contract(shared_relay: RelayProcess, tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    async with alice, bob:
        await start_daemon(alice, daemons)
        await start_daemon(bob, daemons)
        outbox = bob.home.outbox_path("alice")
        with outbox.open("a") as handle:  # what an agent does: append partial events
            handle.write('{"to":"alice","type":"claim","body":"hi"}\n')
            handle.write("this is not json\n")
            handle.write('{"to":"carol","body":"wrong file"}\n')
            handle.write('{"type":"decision","body":{"ok":true},"time_sensitive_until":"2030-01-01T00:00:00Z"}\n')
        await wait_for(lambda: len(inbox_lines(alice, "bob")) == 2, what="the partial events to arrive")
        first, second = inbox_lines(alice, "bob")
        assert first["body"] == "hi"
        assert first["from"] == bob.did
        assert second["kind"] == 1
        assert second["time_sensitive_until"] == "2030-01-01T00:00:00Z"
        # the daemon records a verdict after the relay answered; the peer may see the event first
        await wait_for(lambda: len(read_jsonl(bob.home.sent_path("alice")).records) == 4, what="four recorded verdicts")
        verdicts = [r for _, r in read_jsonl(bob.home.sent_path("alice")).records]
        assert sorted(str(v["status"]) for v in verdicts) == ["delivered", "delivered", "rejected", "rejected"]  # type: ignore[index]


async def test_relay_outage_with_daemons(own_relay: RelayProcess, tmp_path: Path, daemons: list[DaemonProcess]) -> None:
    alice, bob = await paired_agents(tmp_path, own_relay.url, "alice", "bob")
    async with alice, bob:
        await start_daemon(alice, daemons)
        await start_daemon(bob, daemons)
        own_relay.kill()
        queued = await bob.send("alice", "during the outage")
        assert queued.status == "queued"
        assert queued.reason
        own_relay.restart()  # bob's daemon pushes on reconnect; alice's re-streams from her cursor
        await wait_for(lambda: len(inbox_lines(alice, "bob")) == 1, 30, "delivery after the relay returned")
        assert inbox_lines(alice, "bob")[0]["event_id"] == queued.event_id


async def test_kill_9_mid_flush_then_restart_delivers_each_once(
    shared_relay: RelayProcess, tmp_path: Path, daemons: list[DaemonProcess]
) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    total = 3000
    async with alice, bob:
        receiver = await start_daemon(alice, daemons)
        lines = "".join(json.dumps({"type": "claim", "body": f"m{i}"}) + "\n" for i in range(total))
        bob.home.outbox_path("alice").write_text(lines)
        sender = await start_daemon(bob, daemons)
        sent_log = bob.home.sent_path("alice")
        await wait_for(
            lambda: sent_log.exists() and len(sent_log.read_text().splitlines()) >= 200, what="some progress"
        )
        sender.kill9()
        receiver.kill9()
        assert len(sent_log.read_text().splitlines()) < total  # really killed mid-flush
        await start_daemon(bob, daemons)
        await start_daemon(alice, daemons)
        await wait_for(lambda: len(inbox_lines(alice, "bob")) >= total, 60, "all events in the inbox")
        bodies = [line["body"] for line in inbox_lines(alice, "bob")]
        assert bodies == [f"m{i}" for i in range(total)]  # exactly once, in order
        ids = [line["event_id"] for line in inbox_lines(alice, "bob")]
        assert len(set(ids)) == total


async def test_in_process_daemon_and_notifications(
    shared_relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    toasts: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "wire_client._daemon.toast_in_background", lambda title, body: toasts.append((title, body)) or True
    )
    async with alice, bob:
        stop = asyncio.Event()
        task = asyncio.create_task(Daemon(alice.home, backoff_initial=0.1).run(stop))
        await wait_for(lambda: daemon_status(alice.home) is not None, what="pidfile")
        await bob.send("alice", "ping")
        await wait_for(lambda: bool(toasts), what="a toast")
        assert toasts[0] == ("wire — bob", "1 new message from bob")
        stop.set()
        await asyncio.wait_for(task, 10)
        assert daemon_status(alice.home) is None


def test_toasts_never_fatal_and_quiet_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRE_NO_TOASTS", "1")
    assert not notifications_enabled()
    assert toast("t", "b") is False
    monkeypatch.setenv("WIRE_NO_TOASTS", "0")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert notifications_enabled()
    assert toast("t", "b") is False  # no notifier on PATH: silently skipped
    assert os.environ["PATH"] == "/nonexistent"
