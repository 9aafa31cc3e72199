# SPDX-License-Identifier: MIT
"""wire-client latency and burst bench.

Two agents, each with its daemon running (separate processes), a relay on loopback (SQLite store):

Both agents publish ``dh_pubkey``, so every message is sealed (``"sealed": true`` in the output).

1. latency: time from ``send()`` returning to the event sitting, verified, in the peer's inbox
   file — p50 / p99 over N messages (budget: p50 < 10 ms, p99 < 50 ms over 1,000);
2. burst: 10,000 messages to one peer arrive complete, once each, in order — through ``send()``
   (one POST each), through ``send_many()`` (queued with one fsync, batch posts where the relay
   lists ``batch``), and through the file-system outbox (10,000 partial events appended to
   ``outbox/<peer>.jsonl`` in one write; the daemon signs and pushes them in batches).

Run: ``.venv/bin/python bench/client_latency.py [--messages 1000] [--burst 10000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wire_client import Identity, WireAgent, WireHome, daemon_status


def start_relay(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A relay process on a free loopback port (SQLite in ``directory``); returns it and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wire_relay", "--bind", "127.0.0.1:0", "--store",
         f"sqlite:///{directory / 'relay.sqlite3'}", "--no-rate-limit", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    match = re.search(r"listening on (\S+)", line)
    if match is None:
        proc.kill()
        raise SystemExit(f"relay did not start: {line!r}")
    return proc, match.group(1)


def start_daemon(home: WireHome) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wire_client", "daemon", "--home", str(home.root), "--no-toasts"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while (status := daemon_status(home)) is None or status.pid != proc.pid:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("daemon did not start")
        time.sleep(0.01)
    return proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds each process (this one, the relay, both daemons) spends during a phase."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = self._now()

    def _now(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def spent(self) -> dict[str, float]:
        now = self._now()
        return {name: round(now[name] - self.start[name], 2) for name in self.pids}


class InboxWatcher:
    """Reads new lines of an inbox file as they are appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self.buffer = b""

    def new_ids(self) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        self.buffer += data
        *complete, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line)["event_id"] for line in complete if line.strip()]


async def wait_ids(watcher: InboxWatcher, wanted: int, within: float) -> list[str]:
    seen: list[str] = []
    deadline = time.perf_counter() + within
    while len(seen) < wanted:
        seen.extend(watcher.new_ids())
        if len(seen) >= wanted:
            break
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out: {len(seen)}/{wanted} events arrived")
        await asyncio.sleep(0.0002)
    return seen


async def outbox_burst(bob: WireAgent, watcher: InboxWatcher, burst: int, pids: dict[str, int]) -> dict[str, object]:
    """``burst`` partial events appended to ``outbox/alice.jsonl`` in one write (the file-system
    contract an agent uses); bob's daemon signs and pushes them (batch posts). Until all arrived."""
    path = bob.home.outbox_path("alice")
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps({"type": "claim", "body": f"outbox burst {i}"}) + "\n" for i in range(burst))
    meter = CpuMeter(pids)
    started = time.perf_counter()
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lines)
    arrived_ids = await wait_ids(watcher, burst, 120)
    done = time.perf_counter()
    inbox = [json.loads(line) for line in bob_inbox_tail(watcher, burst)]
    # a sealed event keeps its ciphertext in ``body``; the inbox line's ``opened`` holds what was sent
    bodies = [event.get("opened", {}).get("body", event.get("body")) for event in inbox]
    return {
        "messages": burst,
        "complete_seconds": round(done - started, 2),
        "cpu_seconds": meter.spent(),
        "complete": len(set(arrived_ids)) == burst,
        "in_order": bodies == [f"outbox burst {i}" for i in range(burst)],
    }


def bob_inbox_tail(watcher: InboxWatcher, count: int) -> list[str]:
    """The last ``count`` lines of the inbox file the watcher follows."""
    return watcher.path.read_text().splitlines()[-count:]


async def send_many_burst(bob: WireAgent, watcher: InboxWatcher, burst: int, pids: dict[str, int]) -> dict[str, object]:
    """``burst`` messages through ``send_many`` (one fsync per chunk, batch posts), until all arrived."""
    meter = CpuMeter(pids)
    started = time.perf_counter()
    verdicts = await bob.send_many("alice", [f"send_many burst {i}" for i in range(burst)])
    sent = time.perf_counter()
    sent_ids = [v.event_id for v in verdicts]
    arrived_ids = await wait_ids(watcher, burst, 120)
    done = time.perf_counter()
    return {
        "messages": burst,
        "send_seconds": round(sent - started, 2),
        "complete_seconds": round(done - started, 2),
        "cpu_seconds": meter.spent(),
        "delivered": sum(1 for v in verdicts if v.delivered),
        "complete": set(arrived_ids) == set(sent_ids),
        "in_order": arrived_ids == sent_ids,
    }


async def bench(messages: int, burst: int, root: Path) -> dict[str, object]:
    relay, url = start_relay(root)
    agents: list[WireAgent] = []
    daemons: list[subprocess.Popen[bytes]] = []
    try:
        for name in ("alice", "bob"):
            home = WireHome.at(root / name)
            identity, _ = Identity.create(home, name)
            agent = WireAgent(home, identity)
            await agent.bind_relay(url)
            agents.append(agent)
        alice, bob = agents
        alice.add_peer(bob.card, bob.endpoints())
        bob.add_peer(alice.card, alice.endpoints())
        daemons = [start_daemon(alice.home), start_daemon(bob.home)]
        watcher = InboxWatcher(alice.home.inbox_path("bob"))

        for i in range(50):  # warm-up: connections, caches
            await bob.send("alice", f"warm-up {i}")
        await wait_ids(watcher, 50, 30)

        latencies: list[float] = []
        for i in range(messages):
            result = await bob.send("alice", f"latency {i}")
            sent = time.perf_counter()
            assert result.status == "delivered", result
            [arrived] = await wait_ids(watcher, 1, 10)
            latencies.append((time.perf_counter() - sent) * 1000)
            assert arrived == result.event_id
        latencies.sort()

        pids = {"bench": os.getpid(), "relay": relay.pid, "alice_daemon": daemons[0].pid, "bob_daemon": daemons[1].pid}
        meter = CpuMeter(pids)
        started = time.perf_counter()
        sent_ids = []
        for i in range(burst):
            result = await bob.send("alice", f"burst {i}")
            sent_ids.append(result.event_id)
        send_done = time.perf_counter()
        arrived_ids = await wait_ids(watcher, burst, 120)
        burst_done = time.perf_counter()
        loop_cpu = meter.spent()
        outbox = await outbox_burst(bob, watcher, burst, pids)
        many = await send_many_burst(bob, watcher, burst, pids)
        lines = [json.loads(line) for line in alice.home.inbox_path("bob").read_text().split("\n") if line]
        all_ids = [line["event_id"] for line in lines]
        return {
            "outbox_burst": outbox,
            "send_many_burst": many,
            "messages": messages,
            "sealed": all("enc" in line and "body" in line.get("opened", {}) for line in lines),
            "latency_ms": {
                "p50": round(statistics.median(latencies), 3),
                "p90": round(latencies[int(len(latencies) * 0.90) - 1], 3),
                "p99": round(latencies[int(len(latencies) * 0.99) - 1], 3),
                "max": round(latencies[-1], 3),
            },
            "burst": {
                "messages": burst,
                "send_seconds": round(send_done - started, 2),
                "complete_seconds": round(burst_done - started, 2),
                "cpu_seconds": loop_cpu,
                "complete": set(arrived_ids) == set(sent_ids),
                "in_order": arrived_ids == sent_ids,
                "once_each": len(all_ids) == len(set(all_ids)),
            },
        }
    finally:
        for agent in agents:
            await agent.close()
        for proc in daemons:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=10_000)
    args = parser.parse_args()
    os.environ["WIRE_NO_TOASTS"] = "1"
    with tempfile.TemporaryDirectory(prefix="wire-bench-") as tmp:
        figures = asyncio.run(bench(args.messages, args.burst, Path(tmp)))
    print(json.dumps(figures, indent=2))
    latency = figures["latency_ms"]
    burst = figures["burst"]
    assert isinstance(latency, dict)
    assert isinstance(burst, dict)
    within_budget = latency["p50"] < 10 and latency["p99"] < 50
    ok = within_budget and burst["complete"] and burst["in_order"] and burst["once_each"]
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
