# SPDX-License-Identifier: MIT
"""``make soak``: loop the fault scenarios for N minutes and print a summary (not collected by pytest).

    .venv/bin/python -m tests.faults.soak --minutes 10

Each round runs, with larger loads than CI: the relay SIGKILLed under load (SQLite, then PostgreSQL
behind two relay processes — skipped with the reason if the embedded server cannot start), a receiving
daemon SIGKILLed mid-write (half a line / all but the newline, alternating), and the relay down for a
while with daemons running. Exit status 0 only if every run of every scenario kept its promises.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.faults.scenarios import receiver_killed_mid_write, relay_kill_under_load, relay_outage
from tests.helpers import postgres as pg

Scenario = Callable[[Path, int], Awaitable[dict[str, int]]]


def _scenarios(pg_server: pg.PostgresServer | None, load: float) -> dict[str, Scenario]:
    def kill_sqlite(root: Path, _round: int) -> Awaitable[dict[str, int]]:
        return relay_kill_under_load(root, load_seconds=load, outage_seconds=load / 2)

    def kill_postgres(root: Path, _round: int) -> Awaitable[dict[str, int]]:
        assert pg_server is not None
        return relay_kill_under_load(root, pg_server.create_database(), load_seconds=load, outage_seconds=load / 2)

    def torn(root: Path, round_: int) -> Awaitable[dict[str, int]]:
        return receiver_killed_mid_write(root, "half" if round_ % 2 else "all_but_newline", events=50)

    def outage(root: Path, _round: int) -> Awaitable[dict[str, int]]:
        return relay_outage(root, outage_seconds=load * 2, sends=20)

    chosen: dict[str, Scenario] = {"relay-kill-sqlite": kill_sqlite}
    if pg_server is not None:
        chosen["relay-kill-postgres-2proc"] = kill_postgres
    chosen |= {"daemon-kill-mid-write": torn, "relay-outage": outage}
    return chosen


async def soak(minutes: float, load: float, keep: bool) -> int:
    os.environ["WIRE_NO_TOASTS"] = "1"
    os.environ.pop("WIRE_HOME", None)
    pg_server: pg.PostgresServer | None = None
    try:
        pg_server = pg.start_server()
    except (RuntimeError, ImportError) as exc:
        print(f"PostgreSQL scenarios skipped: {exc}", file=sys.stderr)
    scenarios = _scenarios(pg_server, load)
    runs: dict[str, int] = defaultdict(int)
    failures: dict[str, list[str]] = defaultdict(list)
    seconds: dict[str, float] = defaultdict(float)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    base = Path(tempfile.mkdtemp(prefix="wire-soak-"))
    deadline = time.monotonic() + minutes * 60
    round_ = 0
    try:
        while time.monotonic() < deadline:
            round_ += 1
            for name, scenario in scenarios.items():
                if time.monotonic() >= deadline:
                    break
                root = base / f"{round_:04d}-{name}"
                started = time.monotonic()
                ok = True
                try:
                    stats = await asyncio.wait_for(scenario(root, round_), timeout=300)
                except Exception as exc:
                    ok = False
                    failures[name].append(f"round {round_}: {type(exc).__name__}: {exc} (kept in {root})")
                    traceback.print_exc()
                else:
                    for key, value in stats.items():
                        totals[name][key] += value
                    if not keep:
                        shutil.rmtree(root, ignore_errors=True)
                took = time.monotonic() - started
                runs[name] += 1
                seconds[name] += took
                print(f"[{round_}] {name}: {'ok' if ok else 'FAIL'} in {took:.1f}s", flush=True)
    finally:
        if pg_server is not None:
            pg_server.stop()
    print("\nsoak summary")
    print(f"{'scenario':<28} {'runs':>5} {'failed':>6} {'avg s':>7}  totals")
    for name in scenarios:
        n = runs[name]
        avg = seconds[name] / n if n else 0.0
        counters = ", ".join(f"{k}={v}" for k, v in sorted(totals[name].items()))
        print(f"{name:<28} {n:>5} {len(failures[name]):>6} {avg:>7.1f}  {counters}")
    for name, items in failures.items():
        for item in items:
            print(f"FAILED {name}: {item}")
    if not failures and not keep:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if any(failures.values()) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to keep looping (default 10)")
    parser.add_argument("--load", type=float, default=3.0, help="seconds of send load before each kill")
    parser.add_argument("--keep", action="store_true", help="keep every run's directory (default: failures only)")
    args = parser.parse_args(argv)
    return asyncio.run(soak(args.minutes, args.load, args.keep))


if __name__ == "__main__":
    sys.exit(main())
