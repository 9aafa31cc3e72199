# SPDX-License-Identifier: MIT
"""Load benchmark of wire-relay on its SQLite store, against a real relay subprocess.

    .venv/bin/python bench/relay_load.py                 # single, batch, paced phases (~40 s)
    .venv/bin/python bench/relay_load.py --fill          # + RSS with 100k slots / 1M events, restart time

Phases (``--clients`` keep-alive connections, default 64, one slot each, ~300-byte events):

1. single — ``POST /v1/events/:slot`` as fast as possible for ``--duration`` s → stored events/s;
2. batch — ``POST /v1/events/:slot/batch`` with ``--batch-size`` events → stored events/s;
3. paced — single POSTs open-loop at half the rate of (1) → p50/p99 latency at that load.

Then every acknowledged event id is checked to be stored exactly once. ``--fill`` allocates 100k
slots and stores 1M events, reports the relay's RSS, restarts it and reports how long it took to
listen again. The load generator shares the machine with the relay: figures are a floor.
Prints a markdown table (and ``--json`` the raw numbers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.relay_process import RelayProcess


@dataclass
class Phase:
    name: str
    events: int = 0
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    acked: list[tuple[int, str]] = field(default_factory=list)

    def pct(self, p: float) -> float:
        lat = sorted(self.latencies)
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


_PAD = "lorem ipsum dolor sit amet " * 6


def event_json(event_id: str) -> str:
    """A ~300-byte event shaped like a signed wire message."""
    return (
        '{"body":{"text":"' + _PAD[:120] + '"},"event_id":"' + event_id + '","from":"did:wire:bench-0123abcd",'
        '"kind":1,"public_key_id":"bench:0123abcd","schema_version":"v3.1","signature":"'
        + "A" * 86
        + '==","timestamp":"2027-01-15T08:00:00Z","to":"did:wire:peer","type":"claim"}'
    )


async def allocate(session: aiohttp.ClientSession, url: str, n: int) -> list[tuple[str, str]]:
    sem = asyncio.Semaphore(64)

    async def one() -> tuple[str, str]:
        async with sem, session.post(f"{url}/v1/slot/allocate", json={}) as resp:
            body = await resp.json()
            return body["slot_id"], body["slot_token"]

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def run_single(url: str, slots: list[tuple[str, str]], duration: float, rate: float | None) -> Phase:
    phase = Phase("paced" if rate else "single")
    deadline = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(limit=len(slots))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(index: int, slot_id: str, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            target = f"{url}/v1/events/{slot_id}"
            interval = len(slots) / rate if rate else 0.0
            next_at = time.perf_counter() + (index / len(slots)) * interval
            n = 0
            while True:
                if rate:
                    delay = next_at - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    next_at += interval
                if time.perf_counter() >= deadline:
                    return
                event_id = f"{index:02x}{n:012x}{secrets.token_hex(4)}"
                n += 1
                body = ('{"event":' + event_json(event_id) + "}").encode()
                started = time.perf_counter()
                try:
                    async with session.post(target, data=body, headers=headers) as resp:
                        await resp.read()
                        ok = resp.status in (200, 201)
                except aiohttp.ClientError:
                    ok = False
                phase.latencies.append(time.perf_counter() - started)
                phase.requests += 1
                if ok:
                    phase.events += 1
                    phase.acked.append((index, event_id))
                else:
                    phase.errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i, s, t) for i, (s, t) in enumerate(slots)))
        phase.seconds = time.perf_counter() - started
    return phase


async def run_batch(url: str, slots: list[tuple[str, str]], duration: float, batch_size: int) -> Phase:
    phase = Phase("batch")
    deadline = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(limit=len(slots))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(index: int, slot_id: str, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            target = f"{url}/v1/events/{slot_id}/batch"
            n = 0
            while time.perf_counter() < deadline:
                ids = [f"b{index:02x}{n + k:010x}{secrets.token_hex(3)}" for k in range(batch_size)]
                n += batch_size
                body = ('{"events":[' + ",".join(event_json(i) for i in ids) + "]}").encode()
                started = time.perf_counter()
                try:
                    async with session.post(target, data=body, headers=headers) as resp:
                        results = (await resp.json())["results"] if resp.status == 200 else []
                except aiohttp.ClientError:
                    results = []
                phase.latencies.append(time.perf_counter() - started)
                phase.requests += 1
                stored = [r["event_id"] for r in results if r["status"] in ("stored", "duplicate")]
                phase.events += len(stored)
                phase.errors += batch_size - len(stored)
                phase.acked.extend((index, i) for i in stored)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i, s, t) for i, (s, t) in enumerate(slots)))
        phase.seconds = time.perf_counter() - started
    return phase


async def slot_event_ids(session: aiohttp.ClientSession, url: str, slot_id: str, token: str) -> list[str]:
    """Every event id stored in one slot, in order, listed page by page (bounded in pages)."""
    seen: list[str] = []
    since = ""
    for _page in range(100_000):  # far more pages than a bench run can store
        query = f"?limit=1000&since={since}" if since else "?limit=1000"
        async with session.get(
            f"{url}/v1/events/{slot_id}{query}", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            page = await resp.json()
        seen += [e["event_id"] for e in page]
        if len(page) < 1000:
            break
        since = page[-1]["event_id"]
    return seen


async def verify(url: str, slots: list[tuple[str, str]], phases: list[Phase]) -> tuple[int, int]:
    """(acknowledged, missing-or-duplicated) over all phases."""
    expected: dict[int, set[str]] = {}
    for phase in phases:
        for index, event_id in phase.acked:
            expected.setdefault(index, set()).add(event_id)
    bad = 0
    async with aiohttp.ClientSession() as session:
        for index, (slot_id, token) in enumerate(slots):
            seen = await slot_event_ids(session, url, slot_id, token)
            bad += len(seen) - len(set(seen)) + len(expected.get(index, set()) - set(seen))
    return sum(len(v) for v in expected.values()), bad


async def fill(relay: RelayProcess, n_slots: int, n_events: int) -> dict[str, float]:
    url = relay.url
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        slots = await allocate(session, url, n_slots)
        sem = asyncio.Semaphore(16)
        per_batch = 1000
        targets = slots[: max(1, n_events // 1000)]

        async def batch(slot_id: str, token: str, k: int) -> None:
            ids = [f"f{k:08x}{j:04x}" for j in range(per_batch)]
            body = ('{"events":[' + ",".join(event_json(i) for i in ids) + "]}").encode()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            async with sem, session.post(f"{url}/v1/events/{slot_id}/batch", data=body, headers=headers) as r:
                assert r.status == 200, await r.text()
                await r.read()

        await asyncio.gather(*(batch(s, t, k) for k, (s, t) in enumerate(targets)))
        fill_seconds = time.perf_counter() - started
        async with session.get(f"{url}/stats.json") as r:
            stats = await r.json()
        # touch a spread of slots (token cache, listing) the way a live relay would be used
        for slot_id, token in slots[:: max(1, n_slots // 2000)]:
            async with session.get(
                f"{url}/v1/events/{slot_id}?limit=10", headers={"Authorization": f"Bearer {token}"}
            ) as r:
                await r.read()
    rss_filled = rss_mb(relay.pid)
    t0 = time.perf_counter()
    relay.terminate()
    relay.start()
    ready = time.perf_counter() - t0
    async with aiohttp.ClientSession() as session, session.get(f"{relay.url}/stats.json") as r:
        after = await r.json()
    return {
        "slots": stats["slots_active"],
        "events": after["events_posted_total"],
        "fill_seconds": round(fill_seconds, 1),
        "rss_filled_mb": round(rss_filled, 1),
        "restart_ready_seconds": round(ready, 3),
        "rss_after_restart_mb": round(rss_mb(relay.pid), 1),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="wire-relay-bench-"))
    out: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "store": "sqlite (WAL, synchronous=NORMAL)",
    }
    with RelayProcess(workdir / "load") as relay:
        async with aiohttp.ClientSession() as session:
            slots = await allocate(session, relay.url, args.clients)
        single = await run_single(relay.url, slots, args.duration, None)
        batch = await run_batch(relay.url, slots, args.duration, args.batch_size)
        paced = await run_single(relay.url, slots, args.duration, single.rate / 2)
        acked, bad = await verify(relay.url, slots, [single, batch, paced])
        out["phases"] = {
            p.name: {
                "events_per_s": round(p.rate),
                "requests": p.requests,
                "errors": p.errors,
                "p50_ms": p.pct(0.50),
                "p99_ms": p.pct(0.99),
            }
            for p in (single, batch, paced)
        }
        out["paced_target_per_s"] = round(single.rate / 2)
        out["acknowledged"] = acked
        out["lost_or_duplicated"] = bad
        out["rss_mb_after_load"] = round(rss_mb(relay.pid), 1)
    if args.fill:
        with RelayProcess(workdir / "fill", start_timeout=60) as relay:
            out["fill"] = await fill(relay, args.fill_slots, args.fill_events)
    return out


def table(result: dict[str, Any]) -> str:
    phases = result["phases"]
    lines = [
        f"wire-relay load ({result['machine']}; {result['store']}; clients={ARGS.clients}, ~300-byte events)",
        "",
        "| phase | events/s | requests | errors | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, p in phases.items():
        label = f"paced @ {result['paced_target_per_s']}/s" if name == "paced" else name
        if name == "batch":
            label = f"batch ({ARGS.batch_size}/request)"
        lines.append(
            f"| {label} | {p['events_per_s']} | {p['requests']} | {p['errors']} | {p['p50_ms']} | {p['p99_ms']} |"
        )
    lines.append("")
    lines.append(
        f"acknowledged {result['acknowledged']}, lost or duplicated {result['lost_or_duplicated']}; "
        f"relay RSS after load {result['rss_mb_after_load']} MB"
    )
    if "fill" in result:
        f = result["fill"]
        lines += [
            "",
            "| fill | value |",
            "|---|---:|",
            f"| slots | {f['slots']} |",
            f"| events | {f['events']} |",
            f"| fill time (s) | {f['fill_seconds']} |",
            f"| relay RSS filled (MB) | {f['rss_filled_mb']} |",
            f"| restart until listening (s) | {f['restart_ready_seconds']} |",
            f"| RSS after restart (MB) | {f['rss_after_restart_mb']} |",
        ]
    return "\n".join(lines)


ARGS: argparse.Namespace


def main() -> None:
    global ARGS  # noqa: PLW0603 - the table printer reads the run's arguments
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per phase")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--fill", action="store_true", help="also measure RSS with many slots/events")
    parser.add_argument("--fill-slots", type=int, default=100_000)
    parser.add_argument("--fill-events", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    ARGS = parser.parse_args()
    result = asyncio.run(main_async(ARGS))
    print(json.dumps(result, indent=2) if ARGS.json else table(result))


if __name__ == "__main__":
    main()
