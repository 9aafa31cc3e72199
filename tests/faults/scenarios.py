# SPDX-License-Identifier: MIT
"""Fault scenarios as plain async functions: the tests run them small, ``tests/faults/soak.py`` loops them.

Each returns a dict of counters for the summary and raises ``AssertionError`` when a promise breaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.e2e.support import inbox_events, inbox_ids, until, until_async
from tests.helpers.agents import make_agent, pair_manually, paired_agents
from tests.helpers.daemons import LibDaemon
from tests.helpers.relay_process import RelayProcess
from wire_client import SendResult, WireAgent, WireHome
from wire_client._home.files import read_jsonl

__all__ = ["DYING_WRITE_PRELUDE", "receiver_killed_mid_write", "relay_kill_under_load", "relay_outage"]


@contextlib.contextmanager
def _relays(root: Path, store_url: str | None) -> Iterator[tuple[RelayProcess, RelayProcess]]:
    """(P1, P2): one SQLite relay twice, or two processes on one PostgreSQL database."""
    if store_url is None:
        with RelayProcess(root / "relay") as only:
            yield only, only
        return
    with (
        RelayProcess(root / "relay-1", store_url=store_url) as p1,
        RelayProcess(root / "relay-2", store_url=store_url) as p2,
    ):
        yield p1, p2


async def relay_kill_under_load(
    root: Path, store_url: str | None = None, *, load_seconds: float = 1.5, outage_seconds: float = 0.7
) -> dict[str, int]:
    """alice sends to bob (slot on P1) and carol (slot on P2) as fast as it can, daemons everywhere;
    P1 is SIGKILLed mid-load and restarted. Every ``delivered`` event must be in its peer's inbox
    exactly once, every ``queued`` one must arrive after the restart, each peer's events in send order.
    """
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    daemons: list[LibDaemon] = []
    with _relays(root, store_url) as (p1, p2):
        alice, bob, carol = (make_agent(root, name) for name in ("alice", "bob", "carol"))
        await alice.bind_relay(p1.url)
        await bob.bind_relay(p1.url)
        await carol.bind_relay(p2.url)
        for first, second in ((alice, bob), (alice, carol), (bob, carol)):
            pair_manually(first, second)
        try:
            daemons.extend(LibDaemon(agent.home).wait_ready() for agent in (alice, bob, carol))
            results: dict[str, list[SendResult]] = {"bob": [], "carol": []}
            stop = asyncio.Event()

            async def sender(agent: WireAgent, peer: str) -> None:
                n = 0
                while not stop.is_set():
                    results[peer].append(await agent.send(peer, f"{peer}-{n}"))
                    n += 1

            async with alice:
                tasks = [asyncio.create_task(sender(alice, peer)) for peer in ("bob", "carol")]
                await asyncio.sleep(load_seconds)  # load runs meanwhile; the kill lands mid-request
                await asyncio.to_thread(p1.kill)
                killed_at = {peer: len(items) for peer, items in results.items()}
                await asyncio.sleep(outage_seconds)
                await asyncio.to_thread(p1.start)
                stop.set()
                async with asyncio.timeout(30):
                    await asyncio.gather(*tasks)

            for peer, agent in (("bob", bob), ("carol", carol)):
                assert agent.home.root is not None
                expected = [r.event_id for r in results[peer]]

                def arrived(home: Path = agent.home.root, want: list[str] = expected) -> bool:
                    return len(inbox_events(home, "alice")) >= len(want)

                await until_async(arrived, 60, f"alice's {len(expected)} events at {peer}")
                got = inbox_events(agent.home.root, "alice")
                counts = Counter(str(e["event_id"]) for e in got)
                twice = [i for i, c in counts.items() if c > 1]
                assert not twice, f"{peer}: {len(twice)} events stored twice in the inbox"
                missing = [r for r in results[peer] if r.event_id not in counts]
                assert not missing, f"{peer}: {len(missing)} acknowledged/queued events missing: {missing[:3]}"
                assert [e["body"] for e in got] == [f"{peer}-{n}" for n in range(len(expected))], "order broken"
            statuses = Counter(r.status for items in results.values() for r in items)
            assert statuses["queued"] >= 1, "the outage queued nothing: the kill did not land under load"
            assert all(killed_at.values()), "no load before the kill"
            return {"sent": sum(statuses.values()), **{str(k): v for k, v in statuses.items()}}
        finally:
            for daemon in daemons:
                daemon.kill9()
            for agent in (alice, bob, carol):
                await agent.close()


# Dies at a chosen byte of its first write into an inbox file: "half" of the payload, or everything but
# the final newline (the last event complete, only its line end missing). CUT is defined before it.
DYING_WRITE_PRELUDE = """
import os, signal
_real_write = os.write
def _dying_write(fd, data):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        target = ""
    if "/inbox/" in target and target.endswith(".jsonl"):
        cut = len(data) // 2 if CUT == "half" else len(data) - 1
        _real_write(fd, bytes(data[:cut]))
        os.kill(os.getpid(), signal.SIGKILL)
    return _real_write(fd, data)
os.write = _dying_write
"""


async def receiver_killed_mid_write(
    root: Path, cut: str = "half", *, events: int = 3, between: Callable[[WireHome], None] | None = None
) -> dict[str, int]:
    """bob sends ``events`` to alice; alice's daemon dies by SIGKILL inside its first inbox write; a
    restarted daemon must leave each event exactly once, in order, and no unreadable line."""
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    daemons: list[LibDaemon] = []
    with RelayProcess(root / "relay") as relay:
        alice, bob = await paired_agents(root, relay.url, "alice", "bob")
        assert alice.home.root is not None
        try:
            async with alice, bob:
                sent = [(await bob.send("alice", f"m{i}")).event_id for i in range(events)]
            dying = LibDaemon(alice.home, prelude=f"CUT = {cut!r}\n{DYING_WRITE_PRELUDE}", log_name="dying.log")
            daemons.append(dying)
            assert dying.proc.wait(timeout=30) == -9, "the receiver did not die inside its inbox write"
            inbox = alice.home.inbox_path("bob")
            assert read_jsonl(inbox).torn_tail, "no torn line left behind"
            if between is not None:
                between(alice.home)
            daemons.append(LibDaemon(alice.home).wait_ready())
            home = alice.home.root
            until(lambda: sorted(inbox_ids(home, "bob")) == sorted(sent), 30, "each event exactly once")
            healed = read_jsonl(inbox)
            assert [r["event_id"] for _, r in healed.records if isinstance(r, dict)] == sent, "order or count"
            assert not healed.torn_tail
            assert not healed.bad_lines, "a fragment of the torn line survived"
            return {"events": events}
        finally:
            for daemon in daemons:
                daemon.kill9()


async def relay_outage(root: Path, *, outage_seconds: float = 2.0, sends: int = 5) -> dict[str, int]:
    """Relay down for a while with daemons running: every send is ``queued`` with a reason while it is
    down, and each arrives exactly once after it returns."""
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    daemons: list[LibDaemon] = []
    with RelayProcess(root / "relay") as relay:
        alice, bob = await paired_agents(root, relay.url, "alice", "bob")
        assert bob.home.root is not None
        try:
            daemons.extend(LibDaemon(agent.home).wait_ready() for agent in (alice, bob))
            await asyncio.to_thread(relay.kill)
            started = time.monotonic()
            async with alice:
                results = [await alice.send("bob", f"q{i}") for i in range(sends)]
            assert all(r.status == "queued" and r.reason for r in results), results
            await asyncio.sleep(max(0.0, outage_seconds - (time.monotonic() - started)))
            await asyncio.to_thread(relay.start)
            home = bob.home.root
            await until_async(lambda: len(inbox_events(home, "alice")) >= sends, 60, "the queued events")
            assert [e["body"] for e in inbox_events(home, "alice")] == [f"q{i}" for i in range(sends)]
            return {"queued": sends}
        finally:
            for daemon in daemons:
                daemon.kill9()
            await bob.close()
