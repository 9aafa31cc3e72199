# SPDX-License-Identifier: MIT
"""Sealed vs clear events per second through the wire-client path, on one core.

    .venv/bin/python bench/client_seal_throughput.py [--events N]

Send: ``Sender.build`` (pinned-card lookup, seal, sign). Receive: ``Puller.process`` (verify, open,
append to the inbox, fsync). Each once to a peer whose pinned card has ``dh_pubkey`` (sealed) and
once to a peer whose card has none (clear), best of three.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from wire_client import Identity, WireAgent, WireHome
from wire_protocol import sign_card


def agent(root: Path, name: str) -> WireAgent:
    home = WireHome.at(root / name)
    identity, _ = Identity.create(home, name)
    return WireAgent(home, identity)


async def measure(events: int, root: Path, *, sealed: bool) -> dict[str, float]:
    alice, bob = agent(root, "alice"), agent(root, "bob")
    card = (
        alice.card
        if sealed
        else sign_card({k: v for k, v in alice.card.to_json().items() if k != "dh_pubkey"}, alice.identity.key)
    )
    bob.pin(card)
    alice.pin(bob.card)
    best_send = best_recv = float("inf")
    for run in range(3):
        start = time.perf_counter()
        batch = [bob.sender.build("alice", f"message {run}-{i} " + "x" * 200) for i in range(events)]
        best_send = min(best_send, time.perf_counter() - start)
        assert all(("enc" in e) is sealed for e in batch)
        start = time.perf_counter()
        report = await alice.puller.process(batch, None)
        best_recv = min(best_recv, time.perf_counter() - start)
        assert len(report.inboxed) == events
        assert not report.rejected
    await alice.close()
    await bob.close()
    return {"send_per_s": round(events / best_send), "receive_per_s": round(events / best_recv)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    figures = {}
    for sealed in (True, False):
        with tempfile.TemporaryDirectory(prefix="wire-seal-bench-") as tmp:
            figures["sealed" if sealed else "clear"] = asyncio.run(measure(args.events, Path(tmp), sealed=sealed))
    print(json.dumps({"events": args.events, **figures}, indent=2))


if __name__ == "__main__":
    main()
