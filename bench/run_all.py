# SPDX-License-Identifier: MIT
"""Run every bench script and write ``bench/RESULTS.md`` (``make bench`` calls this).

    .venv/bin/python bench/run_all.py            # everything, default durations (several minutes)
    .venv/bin/python bench/run_all.py --quick    # skip the 100k-slot / 1M-event fill of relay_load.py
    .venv/bin/python bench/run_all.py --only relay_sqlite --only mcp --output /tmp/r.md

Each bench runs as its own subprocess (its default duration, its own relay / PostgreSQL / daemons),
one after the other so they do not compete for the cores. Their ``--json`` output is parsed
(``client_latency.py`` prints JSON then PASS/FAIL); a bench that fails or times out is reported as
such in RESULTS.md with the tail of its stderr, and the others still run. Every figure is put next
to the budget the issues set for it, with a met / MISSED verdict. The exit code is 0 when every
bench ran, whether or not each budget was met (the table says), and 1 when a bench could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

Row = tuple[str, str, str, str]  # (measure, figure, budget, verdict)


@dataclass
class Bench:
    key: str
    title: str
    argv: list[str]
    timeout: float
    render: Callable[[dict[str, Any]], list[Row]]
    note: str = ""


@dataclass
class Outcome:
    bench: Bench
    seconds: float
    returncode: int | None
    data: dict[str, Any] | None
    stderr_tail: str
    rows: list[Row] = field(default_factory=list)
    error: str = ""


# ---------------------------------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine() -> dict[str, str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": _ram_gib(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": platform.platform(),
        "load average at start (1/5/15 min)": " / ".join(f"{x:.2f}" for x in load) if load else "unknown",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---------------------------------------------------------------------------------------- verdicts


def at_least(value: float, budget: float) -> str:
    return "met" if value >= budget else "**MISSED**"


def under(value: float, budget: float) -> str:
    return "met" if value < budget else "**MISSED**"


def yes(flag: bool) -> str:
    return "met" if flag else "**MISSED**"


def _n(value: float) -> str:
    return f"{value:,.0f}"


# ---------------------------------------------------------------------------------------- renderers


def render_relay_sqlite(d: dict[str, Any]) -> list[Row]:
    p = d["phases"]
    single, batch, paced = p["single"], p["batch"], p["paced"]
    errors = single["errors"] + batch["errors"] + paced["errors"]
    rows: list[Row] = [
        ("single POST ingest (ev/s)", _n(single["events_per_s"]), "≥ 5,000", at_least(single["events_per_s"], 5000)),
        ("single POST latency p50 / p99 at full rate (ms)", f"{single['p50_ms']} / {single['p99_ms']}", "—", ""),
        ("batch ingest (ev/s)", _n(batch["events_per_s"]), "≥ 50,000", at_least(batch["events_per_s"], 50000)),
        ("batch request latency p50 / p99 (ms)", f"{batch['p50_ms']} / {batch['p99_ms']}", "—", ""),
        (f"paced @ {_n(d['paced_target_per_s'])}/s (half rate) p50 (ms)", str(paced["p50_ms"]), "—", ""),
        ("paced @ half rate p99 (ms)", str(paced["p99_ms"]), "< 50", under(paced["p99_ms"], 50)),
        (
            "errors (single / batch / paced)",
            f"{single['errors']} / {batch['errors']} / {paced['errors']}",
            "0",
            yes(errors == 0),
        ),
        ("acknowledged events read back", _n(d["acknowledged"]), "—", ""),
        ("lost or duplicated", str(d["lost_or_duplicated"]), "0", yes(d["lost_or_duplicated"] == 0)),
        ("relay RSS after load (MB)", str(d["rss_mb_after_load"]), "—", ""),
    ]
    fill = d.get("fill")
    if fill is None:
        rows.append(("fill (100k slots / 1M events)", "skipped (--quick)", "", ""))
        return rows
    full = fill["slots"] >= 100_000 and fill["events"] >= 1_000_000
    rss, ready = fill["rss_filled_mb"], fill["restart_ready_seconds"]
    rows += [
        (
            "fill: slots / events stored",
            f"{_n(fill['slots'])} / {_n(fill['events'])}",
            "100,000 / 1,000,000",
            yes(full),
        ),
        ("fill time (s)", str(fill["fill_seconds"]), "—", ""),
        ("relay RSS with 100k slots / 1M events (MB)", str(rss), "< 150", under(rss, 150)),
        ("restart until listening, 1M events stored (s)", str(ready), "< 1", under(ready, 1.0)),
        ("relay RSS right after restart (MB)", str(fill["rss_after_restart_mb"]), "—", ""),
    ]
    return rows


def render_relay_pg(d: dict[str, Any]) -> list[Row]:
    phases = {p["phase"]: p for p in d["phases"]}
    single, batch, paced = phases["single"], phases["batch"], phases["paced"]
    errors = single["errors"] + batch["errors"] + paced["errors"]
    return [
        (
            "single POST ingest (ev/s)",
            _n(single["stored_events_per_s"]),
            "≥ 5,000 (SQLite budget)",
            at_least(single["stored_events_per_s"], 5000),
        ),
        ("single POST latency p50 / p99 at full rate (ms)", f"{single['p50_ms']} / {single['p99_ms']}", "—", ""),
        (
            "batch ingest (ev/s)",
            _n(batch["stored_events_per_s"]),
            "≥ 50,000 (SQLite budget)",
            at_least(batch["stored_events_per_s"], 50000),
        ),
        ("batch request latency p50 / p99 (ms)", f"{batch['p50_ms']} / {batch['p99_ms']}", "—", ""),
        (f"paced @ {_n(paced['target_per_s'])}/s (half rate) p50 (ms)", str(paced["p50_ms"]), "—", ""),
        ("paced @ half rate p99 (ms)", str(paced["p99_ms"]), "< 50", under(paced["p99_ms"], 50)),
        (
            "errors (single / batch / paced)",
            f"{single['errors']} / {batch['errors']} / {paced['errors']}",
            "0",
            yes(errors == 0),
        ),
        ("acknowledged events read back", _n(d["events_acknowledged"]), "—", ""),
        ("missing or duplicated", str(d["missing_or_duplicated"]), "0", yes(d["missing_or_duplicated"] == 0)),
        ("relay RSS per process (MB)", " / ".join(str(x) for x in d["relay_rss_mb"]), "—", ""),
    ]


def render_wrk(d: dict[str, Any]) -> list[Row]:
    lat = d["latency_ms"]
    load = " / ".join(f"{x:.2f}" for x in d["load_average"])
    return [
        ("single POST ingest (ev/s)", _n(d["events_per_s"]), "≥ 8,000 (issue 17, quiet machine)",
         at_least(d["events_per_s"], 8000)),
        ("relay CPU per request (µs)", f"{d['relay_cpu_us_per_request']:.0f}", "—", ""),
        ("latency p50 / p99 / p99.9 (ms)", f"{lat['50']:.2f} / {lat['99']:.2f} / {lat['99.9']:.2f}", "p99 ≤ 20",
         under(lat["99"], 20.001)),
        ("acknowledged / stored", f"{_n(d['acknowledged'])} / {_n(d['stored'])}", "—", ""),
        ("lost / duplicated", f"{d['lost']} / {d['duplicated']}", "0 / 0",
         yes(d["lost"] == 0 and d["duplicated"] == 0)),
        ("socket errors / non-2xx", f"{d['socket_errors']} / {d['non2xx']}", "—", ""),
        ("load average after the run (1/5/15 min)", load, "—", ""),
    ]  # fmt: skip


def _cpu(spent: dict[str, float]) -> str:
    """``bench 1.5 / relay 0.3 / …``: where the CPU of a burst went (2 cores: the wall time floor is half the sum)."""
    return " / ".join(f"{name} {seconds:.2f}" for name, seconds in spent.items())


def render_client(d: dict[str, Any]) -> list[Row]:
    lat, burst = d["latency_ms"], d["burst"]
    many, outbox = d.get("send_many_burst"), d.get("outbox_burst")
    extra: list[Row] = []
    for label, figures in (("send_many", many), ("file-system outbox", outbox)):
        if figures:
            ok = bool(figures["complete"]) and bool(figures["in_order"])
            extra += [
                (f"burst of {_n(figures['messages'])} via {label}: all in the inbox after (s)",
                 str(figures["complete_seconds"]), "≤ 3 (issue 17)", under(figures["complete_seconds"], 3.001)),
                (f"burst via {label}: complete and in order", str(ok).lower(), "true", yes(ok)),
            ]  # fmt: skip
            if "cpu_seconds" in figures:
                extra.append((f"burst via {label}: CPU seconds per process", _cpu(figures["cpu_seconds"]), "—", ""))
    return [
        (
            f"delivery latency p50 over {_n(d['messages'])} messages (ms)",
            str(lat["p50"]),
            "< 10",
            under(lat["p50"], 10),
        ),
        ("delivery latency p90 (ms)", str(lat["p90"]), "—", ""),
        ("delivery latency p99 (ms)", str(lat["p99"]), "< 50", under(lat["p99"], 50)),
        ("delivery latency max (ms)", str(lat["max"]), "—", ""),
        (f"burst of {_n(burst['messages'])}, a loop of send(): sent in (s)", str(burst["send_seconds"]), "—", ""),
        (
            f"burst of {_n(burst['messages'])}, a loop of send(): all in the inbox after (s)",
            str(burst["complete_seconds"]),
            "—",
            "",
        ),
        *(
            [("burst, a loop of send(): CPU seconds per process", _cpu(burst["cpu_seconds"]), "—", "")]
            if "cpu_seconds" in burst
            else []
        ),
        ("burst complete", str(burst["complete"]).lower(), "true", yes(bool(burst["complete"]))),
        ("burst once each", str(burst["once_each"]).lower(), "true", yes(bool(burst["once_each"]))),
        ("burst in order", str(burst["in_order"]).lower(), "true", yes(bool(burst["in_order"]))),
        *extra,
    ]


def render_cli(d: dict[str, Any]) -> list[Row]:
    budgets: dict[str, float] = d.get("budgets_ms", {})
    targets: dict[str, float] = d.get("target_ms", {})
    rows: list[Row] = []
    for name, stats in d["results"].items():
        figure = f"{stats['median_ms']:.1f} (min {stats['min_ms']:.1f}, p90 {stats['p90_ms']:.1f})"
        if "cpu_median_ms" in stats:
            figure += f"; CPU {stats['cpu_median_ms']:.1f}"
        budget = budgets.get(name)
        target = targets.get(name)
        if budget is None and target is None:
            rows.append((f"`{name}` median (ms)", figure, "—", ""))
            continue
        limit = min(x for x in (budget, target) if x is not None)
        shown = " / ".join(
            part
            for part in (
                f"< {budget:.0f}" if budget is not None else "",
                f"≤ {target:.0f} (issue 17)" if target is not None else "",
            )
            if part
        )
        rows.append((f"`{name}` median (ms)", figure, shown, under(stats["median_ms"], limit + 0.001)))
    if d.get("load1") is not None:
        rows.append(("1-min load average during the run", f"{d['load1']:.2f}", "—", ""))
    return rows


def render_mcp(d: dict[str, Any]) -> list[Row]:
    s = d["startup_ms"]
    return [
        (
            f"stdio start-up, spawn → initialize response, {d['runs']} runs (ms)",
            f"median {s['median']:.0f} (min {s['min']:.0f}, max {s['max']:.0f})",
            "reported",
            "",
        ),
        (
            "tools/list result size",
            f"{_n(d['tools_list_bytes'])} bytes ≈ {_n(d['tools_list_bytes'] // 4)} tokens",
            "reported",
            "",
        ),
        (
            "server instructions size",
            f"{_n(d['instructions_bytes'])} bytes ≈ {_n(d['instructions_bytes'] // 4)} tokens",
            "reported",
            "",
        ),
    ]


def render_sign(d: dict[str, Any]) -> list[Row]:
    per_s = d["per_s"]
    return [
        (f"sign_event, {d['event_bytes']}-byte events, one core (ev/s)", _n(per_s["sign_event"]), "—", ""),
        ("verify_event, one core (ev/s)", _n(per_s["verify_event"]), "—", ""),
    ]


# ---------------------------------------------------------------------------------------- running


def benches(quick: bool) -> list[Bench]:
    py = sys.executable
    load_args = [py, str(BENCH / "relay_load.py"), "--json"] + ([] if quick else ["--fill"])
    return [
        Bench(
            "relay_sqlite",
            "Relay ingest — SQLite store, one relay process (`bench/relay_load.py" + ("`)" if quick else " --fill`)"),
            load_args,
            600 if quick else 3600,
            render_relay_sqlite,
            "64 keep-alive clients, ~300-byte events, 8 s per phase; load generator on the same machine.",
        ),
        Bench(
            "relay_wrk",
            "Relay single-event ingest with wrk — SQLite, relay pinned to core 0, wrk on core 1 (`bench/relay_wrk.py`)",
            [py, str(BENCH / "relay_wrk.py"), "--json"],
            300,
            render_wrk,
            "64 connections, ~350-byte events with unique ids over 48 slots, 10 s; every acknowledged id "
            "is looked up afterwards. Default event loop (asyncio).",
        ),
        Bench(
            "relay_wrk_uvloop",
            "Relay single-event ingest with wrk — as above with `--event-loop uvloop`",
            [py, str(BENCH / "relay_wrk.py"), "--json", "--relay-args=--event-loop uvloop"],
            300,
            render_wrk,
        ),
        Bench(
            "relay_wrk_busy",
            "Relay single-event ingest with wrk — asyncio, while another process keeps a core busy",
            [py, str(BENCH / "relay_wrk.py"), "--json", "--busy"],
            300,
            render_wrk,
            "As above, with a busy-loop process running for the whole measurement (issue 17 asks for both).",
        ),
        Bench(
            "relay_wrk_uvloop_busy",
            "Relay single-event ingest with wrk — uvloop, while another process keeps a core busy",
            [py, str(BENCH / "relay_wrk.py"), "--json", "--busy", "--relay-args=--event-loop uvloop"],
            300,
            render_wrk,
        ),
        Bench(
            "relay_wrk_workers",
            "Relay single-event ingest with wrk — `--workers 2` on embedded PostgreSQL, whole machine",
            [
                py,
                str(BENCH / "relay_wrk.py"),
                "--json",
                "--store",
                "postgresql",
                "--relay-cores",
                "0,1",
                "--wrk-cores",
                "0,1",
                "--relay-args=--workers 2",
            ],
            300,
            render_wrk,
            "Two relay processes on one port (SO_REUSEPORT), PostgreSQL (fsync on) and wrk share both cores.",
        ),
        Bench(
            "relay_pg",
            "Relay ingest — PostgreSQL store, two relay processes (`bench/relay_load_pg.py`)",
            [py, str(BENCH / "relay_load_pg.py"), "--json"],
            900,
            render_relay_pg,
            "Embedded PostgreSQL (fsync on, synchronous_commit on), 64 clients round-robin over 2 relays.",
        ),
        Bench(
            "client",
            "End-to-end delivery — wire-client, two daemons, loopback relay (`bench/client_latency.py`)",
            [py, str(BENCH / "client_latency.py")],
            900,
            render_client,
            "send() returning → event verified in the peer's inbox file.",
        ),
        Bench(
            "cli",
            "CLI wall times (`bench/cli_wall.py --json`, median of 11 runs)",
            [py, str(BENCH / "cli_wall.py"), "--json"],
            900,
            render_cli,
            "Alice's inbox holds 1,000 events; `tail` prints the last 50, `tail --limit 0` all 1,000, each "
            "re-verified. `pending` and `tail` fetch first when no daemon runs: measured with alice's daemon "
            "running (the local answer, which the 100 ms target is for) and without (a pull from the loopback "
            "relay first). Figures: wall-clock median (min, p90); CPU = median user + system time of the "
            "process, which is what it costs when no other work competes for the two cores.",
        ),
        Bench(
            "mcp",
            "MCP server start-up (`bench/mcp_startup.py`)",
            [py, str(BENCH / "mcp_startup.py"), "--json"],
            300,
            render_mcp,
        ),
        Bench(
            "sign",
            "Signing throughput — wire-protocol (`bench/sign_throughput.py`)",
            [py, str(BENCH / "sign_throughput.py"), "--json"],
            300,
            render_sign,
        ),
    ]


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (scripts may print more lines after it)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def run(bench: Bench) -> Outcome:
    print(f"[bench] {bench.key}: {' '.join(Path(a).name if a.startswith('/') else a for a in bench.argv)}", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "WIRE_NO_TOASTS": "1"}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            bench.argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=bench.timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raw: bytes | str | None = exc.stderr
        stderr = raw.decode(errors="replace") if isinstance(raw, bytes) else (raw or "")
        return Outcome(bench, time.perf_counter() - started, None, None, _tail(stderr), error="timed out")
    seconds = time.perf_counter() - started
    outcome = Outcome(bench, seconds, done.returncode, first_json_object(done.stdout), _tail(done.stderr))
    if outcome.data is None:
        outcome.error = f"exit code {done.returncode}, no JSON output"
        outcome.stderr_tail = _tail(done.stderr or done.stdout)
    else:
        try:
            outcome.rows = bench.render(outcome.data)
        except (KeyError, TypeError, ValueError) as exc:
            outcome.error = f"unexpected output shape ({type(exc).__name__}: {exc})"
    status = outcome.error or "ok"
    print(f"[bench] {bench.key}: {status} in {seconds:.0f} s", flush=True)
    return outcome


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ---------------------------------------------------------------------------------------- report


def report(info: dict[str, str], outcomes: list[Outcome], quick: bool, total_seconds: float) -> str:
    out = [
        "# wire — benchmark results",
        "",
        "Generated by `make bench` (`bench/run_all.py"
        + (" --quick" if quick else "")
        + "`); do not edit by hand — rerun it. Every bench is a real process on this machine",
        "(relay, PostgreSQL, daemons, CLI, MCP server) with the load generator on the same cores, so the",
        "figures are a floor. Budgets come from the issues; a missed budget is marked **MISSED**.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
        f"| total bench wall time | {total_seconds / 60:.1f} min |",
        "",
    ]
    missed: list[str] = []
    for outcome in outcomes:
        out += [f"## {outcome.bench.title}", ""]
        if outcome.bench.note:
            out += [outcome.bench.note, ""]
        if outcome.error:
            out += [f"**Did not complete**: {outcome.error} after {outcome.seconds:.0f} s.", ""]
            if outcome.stderr_tail:
                out += ["```", outcome.stderr_tail, "```", ""]
            missed.append(f"{outcome.bench.key}: did not complete ({outcome.error})")
            continue
        out += ["| measure | figure | budget | verdict |", "|---|---:|---|---|"]
        for measure, figure, budget, verdict in outcome.rows:
            out.append(f"| {measure} | {figure} | {budget} | {verdict} |")
            if "MISSED" in verdict:
                missed.append(f"{outcome.bench.key}: {measure} = {figure} (budget {budget})")
        out += ["", f"_ran in {outcome.seconds:.0f} s, exit code {outcome.returncode}_", ""]
    out += ["## Budgets missed", ""]
    out += [f"- {m}" for m in missed] if missed else ["None."]
    out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 100k-slot / 1M-event fill")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only these benches (repeatable; keys: relay_sqlite relay_wrk relay_wrk_uvloop relay_wrk_busy "
        "relay_wrk_uvloop_busy relay_wrk_workers relay_pg client cli mcp sign)",
    )
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    selected = [b for b in benches(args.quick) if not args.only or b.key in args.only]
    unknown = set(args.only) - {b.key for b in benches(args.quick)}
    if unknown:
        parser.error(f"unknown bench(es): {', '.join(sorted(unknown))}")
    info = machine()
    started = time.perf_counter()
    outcomes = [run(bench) for bench in selected]
    if hasattr(os, "getloadavg"):
        info["load average at end (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(info, outcomes, args.quick, time.perf_counter() - started)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"[bench] wrote {args.output}")
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
