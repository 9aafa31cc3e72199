# SPDX-License-Identifier: MIT
"""Same-machine mesh (sister sessions), send auto-dial, and did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.agents import inbox_lines, make_agent
from tests.helpers.relay_process import RelayProcess
from wire_client import Identity, PeerNotFoundError, SessionRegistry, WireAgent
from wire_client._pairing.names import levenshtein, suggest_names


async def _sessions(root: Path, relay: RelayProcess, *names: str) -> list[WireAgent]:
    registry = SessionRegistry(root / "sessions")
    agents = []
    for name in names:
        created = await registry.new(name, cwd=root / "work" / name, relay_url=relay.url)
        home = registry.home(created.name)
        agents.append(WireAgent(home, Identity.load(home)))
    return agents


@pytest.mark.parametrize("direction", ["a_dials_b", "b_dials_a"])
async def test_dial_local_sister_by_name(direction: str, shared_relay: RelayProcess, tmp_path: Path) -> None:
    a, b = await _sessions(tmp_path, shared_relay, "frontend", "backend")
    caller, callee = (a, b) if direction == "a_dials_b" else (b, a)
    async with a, b:
        dialed = await caller.pairing.dial(callee.handle.upper(), "hello sister")  # names are case-insensitive
        shown = dialed.to_json()
        assert (dialed.status, dialed.via) == ("paired", "local_sister")
        assert [s["step"] for s in shown["steps"]] == ["resolved", "paired", "sent"]
        assert "slot_token" not in str(shown)
        await callee.pull()
        assert inbox_lines(callee, caller.handle)[-1]["body"] == "hello sister"
        assert (await callee.send(caller.handle, "hi back")).delivered  # both sides pinned, no accept needed
        again = await caller.pairing.dial(callee.handle)
        assert (again.status, again.via) == ("already_paired", "pinned_peer")


async def test_pair_all_local_is_idempotent(shared_relay: RelayProcess, tmp_path: Path) -> None:
    agents = await _sessions(tmp_path, shared_relay, "one", "two", "three")
    try:
        first = (await agents[0].pairing.pair_all_local()).to_json()
        assert (first["pairs_attempted"], first["pairs_succeeded"], first["pairs_failed"]) == (3, 3, 0)
        second = (await agents[0].pairing.pair_all_local()).to_json()
        assert (second["pairs_succeeded"], second["pairs_skipped_already_paired"]) == (0, 3)
        for agent in agents:
            assert sorted(p.handle for p in agent.peers()) == sorted(a.handle for a in agents if a is not agent)
        assert (await agents[2].send("one", "mesh works")).delivered
    finally:
        for agent in agents:
            await agent.close()


async def test_send_auto_dials_a_sister_and_suggests_on_typos(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bobby = await _sessions(tmp_path, shared_relay, "alice", "bobby")
    async with alice, bobby:
        verdict = await alice.send("bobby", "no pairing step needed")
        assert verdict.delivered
        await bobby.pull()
        assert inbox_lines(bobby, "alice")[-1]["body"] == "no pairing step needed"
        with pytest.raises(PeerNotFoundError) as typo:
            await alice.send("boby", "oops")
        assert typo.value.candidates[0] == "bobby"
        miss = await alice.pairing.dial("bobyy")
        assert miss.to_json()["found"] is False
        assert "bobby" in miss.to_json()["candidates"]
        assert "Did you mean" in str(miss.error)
        nothing = await alice.pairing.dial("zzzzzzzzzz")
        assert nothing.candidates == ()
        assert "@" in str(nothing.error)
        sent = await alice.pairing.send_or_dial("BOBBY", "by any name")
        assert sent.delivered


def test_suggestion_rules() -> None:
    assert levenshtein("kitten", "sitting") == 3
    pool = ["alice", "Alicia", "bob", "alina", "zed-long-name", "alice"]
    assert suggest_names("ALICE", pool) == ["Alicia", "alina"]  # exact (case-insensitive) matches excluded
    assert suggest_names("alcie", pool) == ["alice", "Alicia", "alina"]  # ≤ 3, best first, at most 3
    assert suggest_names("q", ["abcdef"]) == []


async def test_unknown_local_sister_is_a_clean_miss(tmp_path: Path) -> None:
    lonely = make_agent(tmp_path, "lonely")
    async with lonely:
        result = await lonely.pairing.dial("ghost")
        assert result.to_json() == {
            "name_input": "ghost",
            "found": False,
            "status": "not_found",
            "candidates": [],
            "error": result.error,
        }


async def test_one_resolver_for_every_front_end(shared_relay: RelayProcess, tmp_path: Path) -> None:
    """Pinned peers by handle, DID or nickname; then sister sessions; else did-you-mean candidates."""
    a, b, c = await _sessions(tmp_path, shared_relay, "frontend", "backend", "docs")
    async with a, b, c:
        await a.pairing.pair_local("backend")
        nickname = b.identity.character().nickname
        for typed in (b.handle.upper(), b.did, nickname.lower()):
            found = a.pairing.resolve_name(typed)
            assert (found.status, found.pinned_handle) == ("pinned_peer", b.handle), typed
            assert found.match is not None
            assert found.match.tier is not None
        sister = a.pairing.resolve_name("docs")
        assert (sister.status, sister.pinned_handle) == ("local_sister", None)
        assert sister.match is not None
        assert (sister.match.session, sister.match.did) == ("docs", c.did)
        miss = a.pairing.resolve_name("backnd")
        assert (miss.status, miss.match) == ("not_found", None)
        assert "backend" in miss.candidates
        assert miss.to_json()["candidates"] == list(miss.candidates)
        assert a.pairing.resolve_name(a.handle).status == "not_found"  # never ourselves...
        assert a.pairing.resolve_name(a.handle, include_self=True).pinned_handle == a.handle  # ...unless asked
