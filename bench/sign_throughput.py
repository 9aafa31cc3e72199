# SPDX-License-Identifier: MIT
"""Signing and verification throughput of wire-protocol events on this machine.

    .venv/bin/python bench/sign_throughput.py [--events N] [--json]

Builds N events with ~300-byte bodies, then measures sign_event and verify_event separately
(single core, best of 3 runs) and prints a markdown table with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime

import wire_protocol as wp


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    key = wp.SigningKey(b"\x01" * 32)
    card = wp.build_agent_card(key, "paul")
    trust = wp.CardTrust([card])
    t0 = datetime(2026, 5, 23, tzinfo=UTC)
    body = {"text": "x" * 200, "n": 1}
    events = [
        wp.build_event(from_did=card.did, to="did:wire:willard", type="claim", kind=1001, body=body, timestamp=t0)
        for _ in range(args.events)
    ]
    for index, event in enumerate(events):
        event["seq"] = index  # distinct ids

    best_sign = best_verify = float("inf")
    signed: list[wp.JSONObject] = []
    for _ in range(3):
        start = time.perf_counter()
        signed = [wp.sign_event(event, key, card.did) for event in events]
        best_sign = min(best_sign, time.perf_counter() - start)
        start = time.perf_counter()
        for event in signed:
            wp.verify_event(event, trust)
        best_verify = min(best_verify, time.perf_counter() - start)
    size = len(wp.compact_json(signed[0]))
    if args.json:
        rates = {"sign_event": args.events / best_sign, "verify_event": args.events / best_verify}
        print(
            json.dumps({"events": args.events, "event_bytes": size, "per_s": {k: round(v) for k, v in rates.items()}})
        )
        return
    print(f"machine: {machine()}")
    print(f"events: {args.events} of {size} bytes (signed, compact)\n")
    print("| operation | events/s | µs/event |")
    print("|---|---:|---:|")
    for name, seconds in (("sign_event", best_sign), ("verify_event", best_verify)):
        print(f"| {name} | {args.events / seconds:,.0f} | {seconds / args.events * 1e6:.1f} |")


if __name__ == "__main__":
    main()
