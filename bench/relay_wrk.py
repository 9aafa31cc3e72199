# SPDX-License-Identifier: MIT
"""Single-event ingest of wire-relay measured with wrk (Debian's package), the relay pinned to one core.

    .venv/bin/python bench/relay_wrk.py                    # quiet machine: relay on core 0, wrk on core 1
    .venv/bin/python bench/relay_wrk.py --busy             # again while another process keeps a core busy
    .venv/bin/python bench/relay_wrk.py --store postgresql --relay-cores 0,1 --relay-args=--workers=2
                                                           # whole machine: 2 workers, embedded PostgreSQL

wrk is written in C and drives 64 keep-alive connections from its own core, so the load generator is
not the bottleneck (the Python generator in ``relay_load.py`` needs about as much CPU as the relay).
A Lua script (``wrk_events.lua``) makes a ~350-byte event with a unique id for every request, spreads
them over ``--slots`` fresh slots and writes the id of every 201 answer to a file; afterwards every
acknowledged id is looked up in the relay (listing every slot) and must be stored exactly once.
Prints a markdown table, or the raw figures with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relay_load import slot_event_ids
from tests.helpers.postgres import PostgresServer, start_server
from tests.helpers.relay_process import RelayProcess

BENCH = Path(__file__).resolve().parent


def pin(pid: int, cores: set[int]) -> None:
    """Pin every thread of ``pid`` (the relay may start threads) to ``cores``."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cores)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its reaped children (worker processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    total = ticks / os.sysconf("SC_CLK_TCK")
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        total += cpu_seconds(int(child))
    return total


class ProfiledRelay(RelayProcess):
    """The relay under ``cProfile`` (stats written to ``profile_path`` when it stops)."""

    def __init__(self, *args: Any, profile_path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profile_path = profile_path

    def command(self) -> list[str]:
        cmd = super().command()
        return [cmd[0], "-m", "cProfile", "-o", self.profile_path, "-m", *cmd[2:]]


def busy_loop(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


async def allocate(url: str, n: int) -> list[tuple[str, str]]:
    async with aiohttp.ClientSession() as session:
        slots = []
        for _ in range(n):
            async with session.post(f"{url}/v1/slot/allocate", json={}) as resp:
                body = await resp.json()
                slots.append((body["slot_id"], body["slot_token"]))
        return slots


async def stored_ids(url: str, slots: list[tuple[str, str]]) -> list[str]:
    async with aiohttp.ClientSession() as session:
        return [i for slot_id, token in slots for i in await slot_event_ids(session, url, slot_id, token)]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """``--store postgresql``: a private embedded server (fsync on, synchronous_commit on) for the run."""
    server: PostgresServer | None = None
    if args.store == "postgresql":
        server = start_server(fsync=True)
        args.store = server.create_database()
    try:
        return _run(args)
    finally:
        if server is not None:
            server.stop()


def _run(args: argparse.Namespace) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("relay_wrk: wrk is not installed (apt-get install wrk)")
    relay_cores = {int(c) for c in args.relay_cores.split(",")}
    wrk_cores = {int(c) for c in args.wrk_cores.split(",")}
    with tempfile.TemporaryDirectory(prefix="wire-wrk-") as tmp:
        work = Path(tmp)
        extra = [a for a in args.relay_args.split() if a]
        kind: Any = RelayProcess
        options: dict[str, Any] = {}
        if args.profile:
            kind, options = ProfiledRelay, {"profile_path": str(Path(args.profile).resolve())}
        with kind(work, extra_args=extra, store_url=args.store or None, **options) as relay:
            assert relay.pid is not None
            pin(relay.pid, relay_cores)
            slots = asyncio.run(allocate(relay.url, args.slots))
            (work / "slots").write_text("".join(f"{s} {t}\n" for s, t in slots))
            env = {**os.environ, "WIRE_WRK_SLOTS": str(work / "slots"), "WIRE_WRK_OUT": str(work / "acked")}
            busy = None
            if args.busy:
                busy = multiprocessing.Process(target=busy_loop, args=(args.duration + 5,), daemon=True)
                busy.start()
            cpu_before = cpu_seconds(relay.pid)
            try:
                proc = subprocess.run(
                    [
                        "taskset",
                        "-c",
                        args.wrk_cores,
                        wrk,
                        f"-t{len(wrk_cores)}",
                        f"-c{args.connections}",
                        f"-d{args.duration}s",
                        "--latency",
                        "-s",
                        str(BENCH / "wrk_events.lua"),
                        relay.url,
                    ],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=args.duration + 60,
                    check=True,
                )
            finally:
                if busy is not None:
                    busy.terminate()
                    busy.join(5)
            cpu_used = cpu_seconds(relay.pid) - cpu_before
            line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("WRK_JSON "))
            figures: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
            acked = [ln for f in work.glob("acked.*") for ln in f.read_text().splitlines() if ln]
            seen = asyncio.run(stored_ids(relay.url, slots))
            counts: dict[str, int] = {}
            for event_id in seen:
                counts[event_id] = counts.get(event_id, 0) + 1
            figures.update(
                events_per_s=len(acked) / figures["seconds"],
                relay_cpu_us_per_request=cpu_used / max(figures["requests"], 1) * 1e6,
                acknowledged=len(acked),
                stored=len(seen),
                lost=sum(1 for i in acked if i not in counts),
                duplicated=sum(1 for n in counts.values() if n > 1),
                busy=args.busy,
                relay_cores=args.relay_cores,
                relay_args=args.relay_args,
                load_average=os.getloadavg(),
            )
            return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--slots", type=int, default=48)
    parser.add_argument("--relay-cores", default="0")
    parser.add_argument("--wrk-cores", default="1")
    parser.add_argument("--relay-args", default="", help="extra wire-relay arguments, space separated")
    parser.add_argument(
        "--store", default="", help="store URL, or 'postgresql' for an embedded server (default: SQLite in a temp dir)"
    )
    parser.add_argument("--busy", action="store_true", help="run a busy-loop process during the load")
    parser.add_argument("--profile", default="", help="run the relay under cProfile, stats to this file")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args)
    if args.json:
        print(json.dumps(figures))
        return
    lat = figures["latency_ms"]
    print("| measure | figure |\n|---|---:|")
    print(f"| single POST ingest (ev/s) | {figures['events_per_s']:,.0f} |")
    print(f"| relay CPU per request (µs) | {figures['relay_cpu_us_per_request']:.0f} |")
    print(f"| latency p50 / p99 / p99.9 (ms) | {lat['50']:.2f} / {lat['99']:.2f} / {lat['99.9']:.2f} |")
    print(f"| acknowledged / stored | {figures['acknowledged']:,} / {figures['stored']:,} |")
    print(f"| lost / duplicated | {figures['lost']} / {figures['duplicated']} |")
    print(f"| socket errors / non-2xx | {figures['socket_errors']} / {figures['non2xx']} |")


if __name__ == "__main__":
    main()
