# SPDX-License-Identifier: MIT
"""Sealing and opening throughput of wire-x25519.v1 bodies on one core.

    .venv/bin/python bench/seal_throughput.py [--events N] [--json]

Measures, best of 3 runs each: the send path (seal_event + sign_event), the receive path
(verify_event + open_event), and the bare payload seal/open with a precomputed conversation key
(what a client that caches the key per peer would pay), for ~300-byte and 16 KiB bodies.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import wire_protocol as wp
from sign_throughput import machine  # the script's own folder is on sys.path
from wire_protocol import _seal


def best_of_three(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure(count: int, body_chars: int) -> dict[str, float]:
    alice, bob = wp.SigningKey(b"\x01" * 32), wp.SigningKey(b"\x02" * 32)
    alice_card = wp.card_with_dh_pubkey(wp.build_agent_card(alice, "alice"), alice)
    bob_card = wp.card_with_dh_pubkey(wp.build_agent_card(bob, "bob"), bob)
    trust = wp.CardTrust([alice_card])
    t0 = datetime(2026, 12, 2, tzinfo=UTC)
    body = {"text": "x" * body_chars, "n": 1}
    unsigned = [
        wp.build_event(from_did=alice_card.did, to=bob_card.did, type="claim", kind=1001, body=body, timestamp=t0)
        for _ in range(count)
    ]
    signed: list[wp.JSONObject] = []

    def send() -> None:
        signed[:] = [
            wp.sign_event(wp.seal_event(e, own_key=alice, peer_card=bob_card), alice, alice_card.did) for e in unsigned
        ]

    def receive() -> None:
        for event in signed:
            wp.open_event(wp.verify_event(event, trust), own_key=bob, own_did=bob_card.did, sender_card=alice_card)

    conv_key = _seal.conversation_key(alice.seed, wp.card_dh_public(bob_card) or b"")
    plaintext = wp.compact_json(body)
    nonces = [i.to_bytes(32, "big") for i in range(count)]
    payloads: list[str] = []

    def seal_payloads() -> None:
        payloads[:] = [_seal.seal_payload(conv_key, plaintext, alice_card.did, bob_card.did, n) for n in nonces]

    def open_payloads() -> None:
        for payload in payloads:
            _seal.open_payload(conv_key, payload, alice_card.did, bob_card.did)

    def conversation_keys() -> None:
        peer = wp.card_dh_public(bob_card) or b""
        for _ in range(count):
            _seal.conversation_key(alice.seed, peer)

    rates = {}
    for name, run in (
        ("send: seal_event + sign_event", send),
        ("receive: verify_event + open_event", receive),
        ("seal_payload (cached conversation key)", seal_payloads),
        ("open_payload (cached conversation key)", open_payloads),
        ("conversation_key (X25519 + HMAC)", conversation_keys),
    ):
        rates[name] = count / best_of_three(run)
    rates["_event_bytes"] = len(wp.compact_json(signed[0]))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    results = {f"{size}-char body": measure(args.events, size) for size in (300, 16_384)}
    if args.json:
        print(
            json.dumps(
                {"events": args.events, "per_s": {k: {n: round(r) for n, r in v.items()} for k, v in results.items()}}
            )
        )
        return
    print(f"machine: {machine()}")
    print(f"events per run: {args.events} (best of 3, one core)\n")
    print("| operation | body | sealed event bytes | events/s | µs/event |")
    print("|---|---|---:|---:|---:|")
    for size, rates in results.items():
        event_bytes = int(rates.pop("_event_bytes"))
        for name, rate in rates.items():
            print(f"| {name} | {size} | {event_bytes:,} | {rate:,.0f} | {1e6 / rate:.1f} |")


if __name__ == "__main__":
    main()
