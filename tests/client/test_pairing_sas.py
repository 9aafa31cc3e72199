# SPDX-License-Identifier: MIT
"""SPAKE2 + SAS pairing: attached and daemon-driven, mismatch, relay restart, a side killed at each step."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.helpers.agents import inbox_lines, make_agent, wait_for
from tests.helpers.relay_process import RelayProcess
from wire_client import Daemon, Identity, PairingFailedError, SasConfig, SasStatus, WireAgent
from wire_client._pairing.deposits import DeliveryTokens
from wire_client._pairing.sas_records import TRANSITIONS, SasRecords, SasSession, SasState

FAST = SasConfig(sas_timeout=60, finalize_timeout=20, poll_interval=0.05)


async def _bound(tmp_path: Path, name: str, relay: RelayProcess, config: SasConfig = FAST) -> WireAgent:
    agent = make_agent(tmp_path, name)
    await agent.bind_relay(relay.url)
    agent.pairing.sas.config = config
    return agent


async def _to_sas(host: WireAgent, guest: WireAgent, relay_url: str | None = None) -> tuple[SasStatus, SasStatus]:
    hosted = await host.pairing.pair_host(relay_url)
    assert hosted.state == "waiting"
    assert hosted.code_phrase
    joined = await guest.pairing.pair_join(hosted.code_phrase, relay_url, wait_seconds=10)
    hosted = await host.pairing.pair_check(hosted.session_id, wait_seconds=10)
    assert (hosted.state, joined.state) == ("sas_ready", "sas_ready")
    assert hosted.sas is not None
    assert hosted.sas == joined.sas
    return hosted, joined


def _paired_with(agent: WireAgent, other: WireAgent) -> bool:
    record = agent.trust.get(other.handle)
    return record is not None and any(ep.is_ready for ep in agent.relay_state.peer_endpoints(other.handle))


async def _round_trip(a: WireAgent, b: WireAgent) -> None:
    assert (await a.send(b.handle, "ping")).delivered
    assert (await b.send(a.handle, "pong")).delivered
    await a.pull()
    await b.pull()
    assert inbox_lines(b, a.handle)[-1]["body"] == "ping"
    assert inbox_lines(a, b.handle)[-1]["body"] == "pong"


async def test_attached_sas_pairs_both_sides(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await _bound(tmp_path, "alice", shared_relay), await _bound(tmp_path, "bob", shared_relay)
    async with alice, bob:
        hosted, joined = await _to_sas(alice, bob)
        assert "spake2" not in json.dumps(hosted.to_json())
        assert "slot_token" not in json.dumps(hosted.to_json())
        digits = hosted.to_json()["sas"]
        assert isinstance(digits, str)
        assert len(digits) == 7
        assert digits[3] == "-"
        done = await asyncio.gather(
            alice.pairing.pair_confirm(hosted.session_id, digits),
            bob.pairing.pair_confirm(joined.session_id, digits.replace("-", "")),
        )
        assert [d.state for d in done] == ["paired", "paired"]
        assert (done[0].peer_handle, done[1].peer_handle) == ("bob", "alice")
        with pytest.raises(PairingFailedError) as again:
            await alice.pairing.pair_confirm(hosted.session_id, digits)  # double confirm
        assert again.value.reason == "already_confirmed"
        await _round_trip(alice, bob)
        # each side holds a write-only deposit token for the other's slot, never the slot token,
        # filed under the peer's DID once the bootstrap revealed it (so unpairing revokes it)
        for me, peer in ((alice, bob), (bob, alice)):
            held = me.relay_state.peer_endpoints(peer.handle)
            assert peer.endpoints()[0].slot_token not in {ep.slot_token for ep in held}
            assert len(DeliveryTokens(peer.home, peer.pool).token_ids(me.did)) == 1
            assert "sas-session:" not in peer.home.deposit_tokens.read_text()


async def test_mismatch_aborts_for_good(shared_relay: RelayProcess, tmp_path: Path) -> None:
    short = SasConfig(sas_timeout=60, finalize_timeout=3, poll_interval=0.05)
    alice = await _bound(tmp_path, "alice", shared_relay, short)
    bob = await _bound(tmp_path, "bob", shared_relay, short)
    async with alice, bob:
        hosted, joined = await _to_sas(alice, bob)
        wrong = f"{(int(hosted.sas or '0') + 1) % 1_000_000:06d}"
        with pytest.raises(PairingFailedError) as mismatch:
            await alice.pairing.pair_confirm(hosted.session_id, wrong)
        assert mismatch.value.reason == "sas_mismatch"
        assert alice.pairing.pair_list()[0].state == "aborted"
        with pytest.raises(PairingFailedError):
            await alice.pairing.pair_confirm(hosted.session_id, hosted.sas or "")  # no second chance
        with pytest.raises(PairingFailedError) as peer:
            await bob.pairing.pair_confirm(joined.session_id, joined.sas or "", wait_seconds=10)
        assert peer.value.reason in ("pair_slot_lost", "timeout")  # alice abandoned the pair slot
        assert not _paired_with(alice, bob)
        assert not _paired_with(bob, alice)


async def test_relay_restart_mid_sas_then_retry(own_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await _bound(tmp_path, "alice", own_relay), await _bound(tmp_path, "bob", own_relay)
    async with alice, bob:
        hosted, joined = await _to_sas(alice, bob)
        own_relay.restart()  # pair slots live in memory: this one is gone
        with pytest.raises(PairingFailedError) as lost:
            await alice.pairing.pair_confirm(hosted.session_id, hosted.sas or "")
        assert lost.value.reason == "pair_slot_lost"
        assert "start again" in lost.value.message
        hosted, joined = await _to_sas(alice, bob)  # a new code phrase works
        done = await asyncio.gather(
            alice.pairing.pair_confirm(hosted.session_id, hosted.sas or ""),
            bob.pairing.pair_confirm(joined.session_id, joined.sas or ""),
        )
        assert [d.state for d in done] == ["paired", "paired"]
        await _round_trip(alice, bob)


@pytest.mark.parametrize("killed_at", ["sas_ready", "confirmed", "bootstrap_sent", "opened", "ack_sent"])
async def test_a_side_killed_at_each_step_never_leaves_a_half_pairing(
    killed_at: str, shared_relay: RelayProcess, tmp_path: Path
) -> None:
    """Alice dies after reaching ``killed_at``; bob finishes (or times out); then alice comes back.

    After bob is done: bob paired ⇒ alice's ack was already stored. After alice resumes and bob
    pulls once more: both paired or neither — never one.
    """
    alice = await _bound(tmp_path, "alice", shared_relay)
    bob = await _bound(tmp_path, "bob", shared_relay, SasConfig(finalize_timeout=2, poll_interval=0.05))
    async with bob:
        hosted, joined = await _to_sas(alice, bob)
        await bob.pairing.pair_confirm(joined.session_id, joined.sas or "", wait_seconds=0)  # bob's bootstrap is up
        sid = hosted.session_id
        if killed_at != "sas_ready":  # what pair_confirm records before its first network step
            moved = {"status": SasState.CONFIRMED, "deadline": 1e12}
            alice.pairing.sas.records.transition(sid, (SasState.SAS_READY,), moved)
        for _ in range(50):
            status = alice.pairing.sas.records.get(sid).status
            if status == killed_at:
                break
            await alice.pairing.sas.step(sid)
        assert alice.pairing.sas.records.get(sid).status == killed_at
        await alice.close()  # killed: no more steps, no pulls

        with pytest.raises(PairingFailedError) if killed_at != "ack_sent" else _no_error():
            await bob.pairing.pair_check(joined.session_id, wait_seconds=8)
            final = bob.pairing.pair_list()[0]
            if final.state == "aborted":
                raise PairingFailedError(final.reason or "", reason=final.reason or "")
        bob_paired = _paired_with(bob, alice)
        assert bob_paired == (killed_at == "ack_sent")  # only alice's stored ack can pair bob

        revived = WireAgent(alice.home, Identity.load(alice.home))  # alice restarts from her files
        async with revived:
            revived.pairing.sas.config = FAST
            after = await revived.pairing.pair_check(sid, wait_seconds=8)
            if after.state == "finalizing":
                after = await revived.pairing.sas.drive(sid, ("paired", "aborted"), 8)
            await bob.pull()  # a late ack completes a timed-out bob
            alice_paired, bob_paired = _paired_with(revived, bob), _paired_with(bob, revived)
            assert alice_paired == bob_paired, (killed_at, after)
            assert alice_paired == (killed_at in ("opened", "ack_sent"))
            if alice_paired:
                await _round_trip(revived, bob)


class _no_error:  # noqa: N801 - reads like pytest.raises
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


async def test_detached_sas_driven_by_the_daemon_survives_a_restart(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await _bound(tmp_path, "alice", shared_relay), await _bound(tmp_path, "bob", shared_relay)
    stops = {name: asyncio.Event() for name in ("alice", "bob")}
    tasks = {name: asyncio.create_task(Daemon(agent.home, notifications=False, backoff_initial=0.1).run(stops[name]))
             for name, agent in (("alice", alice), ("bob", bob))}  # fmt: skip
    try:
        async with alice, bob:
            queued = await alice.pairing.pair_host(detach=True)
            assert queued.status == "request_host"
            await wait_for(lambda: alice.pairing.pair_list()[0].status == "polling", what="host msg posted")
            await bob.pairing.pair_join(queued.code_phrase, detach=True)
            # restart alice's daemon mid-pairing: the seed in the file resumes the SPAKE2 session
            stops["alice"].set()
            await asyncio.wait_for(tasks["alice"], 10)
            stops["alice"] = asyncio.Event()
            tasks["alice"] = asyncio.create_task(Daemon(alice.home, notifications=False).run(stops["alice"]))
            await wait_for(lambda: [s.state for s in alice.pairing.pair_list() + bob.pairing.pair_list()]
                           == ["sas_ready", "sas_ready"], 15, "both SAS ready")  # fmt: skip
            [a_status], [b_status] = alice.pairing.pair_list(), bob.pairing.pair_list()
            assert a_status.sas == b_status.sas
            await alice.pairing.pair_confirm(a_status.session_id, b_status.sas or "", wait_seconds=0)
            await bob.pairing.pair_confirm(b_status.session_id, a_status.sas or "", wait_seconds=0)
            await wait_for(lambda: [s.state for s in alice.pairing.pair_list() + bob.pairing.pair_list()]
                           == ["paired", "paired"], 20, "both paired by their daemons")  # fmt: skip
            assert _paired_with(alice, bob)
            assert _paired_with(bob, alice)
            assert (await alice.send("bob", "via daemons")).delivered
            await wait_for(lambda: any(e["body"] == "via daemons" for e in inbox_lines(bob, "alice")), 10, "msg")
    finally:
        for name, stop in stops.items():
            stop.set()
            await asyncio.wait_for(tasks[name], 10)


async def test_pairing_on_another_relay_adds_an_endpoint(
    shared_relay: RelayProcess, second_relay: RelayProcess, tmp_path: Path
) -> None:
    alice, bob = await _bound(tmp_path, "alice", shared_relay), await _bound(tmp_path, "bob", shared_relay)
    async with alice, bob:
        before = alice.endpoints()
        hosted, joined = await _to_sas(alice, bob, second_relay.url)
        after = alice.endpoints()
        assert after[0] == before[0]  # our existing slot is untouched (fixes reference §7.8)
        assert [ep.relay_url for ep in after] == [shared_relay.url, second_relay.url]
        await asyncio.gather(
            alice.pairing.pair_confirm(hosted.session_id, hosted.sas or ""),
            bob.pairing.pair_confirm(joined.session_id, joined.sas or ""),
        )
        await _round_trip(alice, bob)


def test_sas_sessions_are_typed_records_moved_only_by_the_table(tmp_path: Path) -> None:
    """One transition table: no skipped step, nothing after ``paired``; records round-trip through JSON."""
    home = make_agent(tmp_path, "alice").home
    records = SasRecords(home)
    session = SasSession(session_id="0123456789abcdef", code="1-two-three", code_hash="h" * 64, role="host",
                         relay_url="http://127.0.0.1:9", status=SasState.SAS_READY, created_at=1.0, updated_at=1.0,
                         deadline=None, spake2_seed_b64="AA==")  # fmt: skip
    records.create(session)
    assert records.get(session.session_id) == session
    assert SasSession.from_json({**session.to_json(), "status": "dancing"}) is None
    with pytest.raises(PairingFailedError) as skipped:
        records.transition(session.session_id, (SasState.SAS_READY,), {"status": SasState.PAIRED})
    assert skipped.value.reason == "bad_transition"
    assert records.get(session.session_id).status is SasState.SAS_READY
    assert records.transition(session.session_id, (SasState.POLLING,), {"status": SasState.CONFIRMED}) is None
    moved = records.transition(session.session_id, (SasState.SAS_READY,), {"status": SasState.CONFIRMED})
    assert moved is not None
    assert moved.status is SasState.CONFIRMED
    assert json.loads((home.sas_sessions_dir / "0123456789abcdef.json").read_text())["status"] == "confirmed"
    assert TRANSITIONS[SasState.PAIRED] == frozenset()
    assert all(SasState.ABORTED in TRANSITIONS[state] for state in SasState if state not in
               (SasState.PAIRED, SasState.ABORTED))  # fmt: skip
