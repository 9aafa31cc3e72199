# SPDX-License-Identifier: MIT
"""Wall-clock cost of the ``wire`` command as operators and statuslines feel it.

Budgets (median of N runs): ``wire whoami`` < 150 ms; ``wire send <peer> "hi"`` to a paired peer on a
loopback relay < 300 ms (issue 17's targets: every local verb ≤ 100 ms, send ≤ 150 ms — reported as
``target_ms``). Alice's inbox holds 1,000 events from bob: ``wire tail`` prints the last 50 of them
and ``tail --limit 0`` all 1,000, each re-verified (one Ed25519 verification per event, ~60–85 µs
on this machine, so printing all 1,000 has a floor of its own). ``pending`` and ``tail`` fetch first
when no daemon keeps the home current (the issue 14 promise), so they are measured twice: with
alice's daemon running (the local answer: the figure the target is for) and without it (a pull from
the loopback relay first, nothing new to fetch). The other local verbs (``peers``, ``here``,
``status``, ``doctor --offline``) never touch the network; ``doctor`` with its relay checks is
reported too, without a target. Also reports ``wire whoami`` on a cold cache, ``wire --help``, the
bare interpreter start-up and the import cost of typer, wire_client, wire_protocol and aiohttp, so a
miss can be attributed (the local verbs and ``wire send`` import neither aiohttp nor typer:
``python -X importtime .venv/bin/wire tail`` shows what one does import).

Run: ``.venv/bin/python bench/cli_wall.py [--runs 11] [--json]``. Exit 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from client_latency import start_relay  # the script's own folder is on sys.path
from wire_client import Identity, WireAgent, WireHome, daemon_status

WIRE = Path(sys.executable).with_name("wire")
BUDGET_MS = {"whoami": 150.0, "send": 300.0}
TAIL = "tail (last 50 of 1,000)"
TAIL_ALL = "tail --limit 0 (all 1,000)"
TARGET_MS = {"send": 150.0} | dict.fromkeys(
    (
        "--version",
        "whoami",
        "peers",
        "here",
        "status",
        "doctor --offline",
        "pending (daemon running)",
        f"{TAIL} (daemon running)",
        f"{TAIL_ALL} (daemon running)",
    ),
    100.0,
)
#: verbs that never touch the network
LOCAL_VERBS = {
    "--version": ["--version"],
    "peers": ["peers"],
    "here": ["here"],
    "status": ["status"],
    "doctor --offline": ["doctor", "--offline"],
    f"{TAIL} --offline": ["tail", "--offline"],
    f"{TAIL_ALL} --offline": ["tail", "--limit", "0", "--offline"],
}
#: verbs that fetch first unless a daemon runs (measured with and without alice's daemon)
FETCHING_VERBS = {"pending": ["pending"], TAIL: ["tail"], TAIL_ALL: ["tail", "--limit", "0"]}
INBOX_EVENTS = 1000


def timed(
    argv: list[str], env: dict[str, str], runs: int, before: object = None, *, ok_codes: tuple[int, ...] = (0,)
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) milliseconds of each run of ``argv``.

    The CPU time is what the run would cost on an idle machine (minus its I/O waits): on this 2-core
    machine other work often competes, and the wall time then includes waiting for a core.
    """
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        if callable(before):
            before()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, check=False, timeout=60)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime) * 1000)
        if done.returncode not in ok_codes:
            raise SystemExit(f"{argv} failed: {done.stderr.decode(errors='replace')}")
    return walls, cpus


async def pair(root: Path, relay_url: str) -> None:
    agents = []
    for name in ("alice", "bob"):
        home = WireHome.at(root / name)
        identity, _ = Identity.create(home, name)
        agent = WireAgent(home, identity)
        await agent.bind_relay(relay_url)
        agents.append(agent)
    alice, bob = agents
    alice.add_peer(bob.card, bob.endpoints())
    bob.add_peer(alice.card, alice.endpoints())
    for n in range(INBOX_EVENTS):  # alice's inbox for `wire tail`
        await bob.send("alice", {"text": f"message {n}"})
    await alice.pull()
    for agent in agents:
        await agent.close()


def start_daemon(home_root: Path) -> subprocess.Popen[bytes]:
    """Alice's daemon (``python -m wire_client daemon``), once its pidfile names it (bounded wait)."""
    daemon = subprocess.Popen(
        [sys.executable, "-m", "wire_client", "daemon", "--home", str(home_root), "--no-toasts"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    home = WireHome.at(home_root)
    deadline = time.monotonic() + 20
    while (status := daemon_status(home)) is None or status.pid != daemon.pid or not status.running:
        if daemon.poll() is not None or time.monotonic() > deadline:
            daemon.kill()
            raise SystemExit("alice's daemon did not start")
        time.sleep(0.05)
    wait_idle(daemon.pid)
    return daemon


def wait_idle(pid: int, *, quiet_for: float = 1.0, within: float = 15.0) -> None:
    """Wait until ``pid`` has used no CPU for ``quiet_for`` s (its start-up pull is done); at most ``within`` s."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():  # not Linux: give it a moment instead
        time.sleep(quiet_for)
        return

    def cpu_ticks() -> int:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    deadline = time.monotonic() + within
    last, since = cpu_ticks(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = cpu_ticks()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return


def summary(samples: tuple[list[float], list[float]]) -> dict[str, float]:
    walls, cpus = samples
    ordered = sorted(walls)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "min_ms": round(ordered[0], 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "cpu_median_ms": round(statistics.median(cpus), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wire-cli-bench-") as tmp:
        root = Path(tmp)
        proc, url = start_relay(root)
        try:
            asyncio.run(pair(root, url))
            # as on a normal install: bytecode caches are written and used (some sandboxes set
            # PYTHONDONTWRITEBYTECODE, which makes every run recompile every module from source)
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env |= {"WIRE_HOME": str(root / "alice"), "WIRE_NO_TOASTS": "1"}
            env.pop("WIRE_NO_AUTO_JSON", None)
            cache = root / "alice" / "state" / "wire" / "whoami-cache.json"
            results = {
                "python -c pass": summary(timed([sys.executable, "-c", "pass"], env, args.runs)),
                "import typer": summary(timed([sys.executable, "-c", "import typer"], env, args.runs)),
                "import wire_client": summary(timed([sys.executable, "-c", "import wire_client"], env, args.runs)),
                "import wire_protocol": summary(timed([sys.executable, "-c", "import wire_protocol"], env, args.runs)),
                "import aiohttp": summary(timed([sys.executable, "-c", "import aiohttp"], env, args.runs)),
                "wire --help": summary(timed([str(WIRE), "--help"], env, args.runs)),
                "whoami (cold cache)": summary(
                    timed([str(WIRE), "whoami", "--short"], env, args.runs, lambda: cache.unlink(missing_ok=True))
                ),
                "whoami": summary(timed([str(WIRE), "whoami", "--short"], env, args.runs)),
                "send": summary(timed([str(WIRE), "send", "bob", "hi"], env, args.runs)),
            }
            for name, verb in LOCAL_VERBS.items():
                results[name] = summary(timed([str(WIRE), *verb], env, args.runs))
            results["doctor (relay checks)"] = summary(timed([str(WIRE), "doctor"], env, args.runs, ok_codes=(0, 1)))
            for name, verb in FETCHING_VERBS.items():
                results[f"{name} (no daemon: fetches first)"] = summary(timed([str(WIRE), *verb], env, args.runs))
            daemon = start_daemon(root / "alice")
            try:
                for name, verb in FETCHING_VERBS.items():
                    results[f"{name} (daemon running)"] = summary(timed([str(WIRE), *verb], env, args.runs))
            finally:
                daemon.terminate()
                daemon.wait(timeout=15)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    verdicts = {name: results[name]["median_ms"] < budget for name, budget in BUDGET_MS.items()}
    if args.json:
        targets = {name: results[name]["median_ms"] <= ms for name, ms in TARGET_MS.items()}
        print(
            json.dumps(
                {
                    "results": results,
                    "budgets_ms": BUDGET_MS,
                    "within_budget": verdicts,
                    "target_ms": TARGET_MS,
                    "within_target": targets,
                    "load1": load,
                }
            )
        )
    else:
        print(f"runs per case: {args.runs}   (1-min load average: {load}, {os.cpu_count()} CPUs)")
        for name, stats in results.items():
            budget = BUDGET_MS.get(name, TARGET_MS.get(name))
            mark = (
                ""
                if budget is None
                else f"  budget {budget:.0f} ms: {'ok' if stats['median_ms'] < budget else 'MISSED'}"
            )
            print(
                f"{name:<46} median {stats['median_ms']:>7.1f} ms  min {stats['min_ms']:>7.1f}"
                f"  p90 {stats['p90_ms']:>7.1f}  CPU {stats['cpu_median_ms']:>7.1f}{mark}"
            )
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
