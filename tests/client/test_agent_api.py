# SPDX-License-Identifier: MIT
"""The embedder API: open_home, send, events(), peers(); and the receiver against a reference-style relay."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import wire_client
from tests.client.test_relay_client import reference_relay  # noqa: F401 - fixture
from tests.helpers.agents import inbox_lines, make_agent, pair_manually, paired_agents, uniq, wait_for
from tests.helpers.relay_process import RelayProcess
from wire_client import InboxEvent, Receiver, WireAgent


async def test_open_home_send_and_iterate(shared_relay: RelayProcess, tmp_path: Path) -> None:
    alice, bob = await paired_agents(tmp_path, shared_relay.url, "alice", "bob")
    await alice.close()
    assert alice.home.root is not None
    async with await wire_client.open_home(alice.home.root) as agent, bob:
        assert agent.did == alice.did
        [peer] = agent.peers()
        assert peer.handle == "bob"
        assert peer.reachable
        assert peer.tier.name == "VERIFIED"
        assert "slot_token" not in str(peer.to_json())
        received: list[InboxEvent] = []

        async def listen() -> None:
            async for event in agent.events():
                received.append(event)
                if len(received) == 2:
                    return

        listener = asyncio.create_task(listen())
        await wait_for(lambda: wire_client.daemon_status(agent.home) is not None, what="embedded receiver")
        await bob.send("alice", "one")
        await bob.send("alice", {"two": 2})
        await asyncio.wait_for(listener, 15)
        assert [e.text for e in received] == ["one", '{"two":2}']
    assert wire_client.daemon_status(agent.home) is None  # closing the agent stopped the embedded receiver


async def test_open_home_creates_with_handle(tmp_path: Path) -> None:
    agent = await wire_client.open_home(tmp_path / "h", handle="zed")
    async with agent:
        assert agent.handle == "zed"
        assert agent.peers() == []
    with pytest.raises(wire_client.NotInitializedError):
        await wire_client.open_home(tmp_path / "empty")


async def test_receiver_falls_back_to_wake_and_poll(reference_relay: str, tmp_path: Path) -> None:  # noqa: F811
    alice, bob = make_agent(tmp_path, "alice"), make_agent(tmp_path, "bob")
    async with alice, bob:
        await alice.bind_relay(reference_relay)
        await bob.bind_relay(reference_relay)
        pair_manually(alice, bob)
        assert (await bob.send("alice", "before")).delivered
        receiver = Receiver(alice.puller, alice.sender, poll_interval=0.2, backoff_initial=0.1)
        task = asyncio.create_task(receiver.run())
        try:
            await wait_for(lambda: len(inbox_lines(alice, "bob")) == 1, what="catch-up pull")
            await wait_for(lambda: any(receiver.connected.values()), what="stream connected")
            assert (await bob.send("alice", "after")).delivered
            await wait_for(lambda: len(inbox_lines(alice, "bob")) == 2, what="wake-up pull")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# the public names of wire-client before the layer folders (issue 11): none may go away
_NAMES_BEFORE_LAYOUT = """AcceptResult AlreadyInitializedError BindResult CapabilityError CursorStore Daemon
DaemonAlreadyRunningError DaemonError DaemonPid DefaultPairingHandler DialResult DisplayOverride Endpoint EventLog
HomeError Identity IdentityMismatchError InboxEvent InitResult InviteAcceptResult InviteResult LocalPairResult
LockTimeoutError NewSessionResult NotInitializedError OutboxStore PairAllLocalResult Pairing PairingContext
PairingDecision PairingFailedError PairingHandler PeerInfo PeerNotFoundError PendingRequest PinResult PostResult
PullReport Puller Receiver RejectResult Rejection RelayAttachment RelayClient RelayError RelayInfo RelayPool
RelayProtocolError RelayStateStore RelayTimeout RelayUnreachable Resolution RotateResult SasConfig SasStatus Scope
SendResult Sender SessionError SessionInfo SessionRegistry StreamMessage TransportError TrustConflictError TrustError
TrustRecord TrustStore WireAgent WireClientError WireHome __version__ daemon_status derive_session_name
notifications_enabled open_home order_for_sending run_daemon sanitize_session_name toast""".split()


def test_public_api_surface() -> None:
    assert set(wire_client.__all__) <= set(dir(wire_client))
    assert set(_NAMES_BEFORE_LAYOUT) <= set(wire_client.__all__)
    for name in wire_client.__all__:
        assert getattr(wire_client, name) is not None, name
    assert issubclass(wire_client.RelayUnreachable, wire_client.TransportError)
    assert issubclass(wire_client.RelayError, wire_client.WireClientError)
    assert WireAgent is wire_client.WireAgent


async def test_attach_relay_binds_once_and_claims(shared_relay: RelayProcess, tmp_path: Path) -> None:
    nick = uniq("attach")
    async with make_agent(tmp_path, nick) as agent:
        first = await agent.attach_relay(shared_relay.url + "/")
        assert (first.newly_bound, first.claimed) == (True, True)
        again = await agent.attach_relay(shared_relay.url)  # same relay: the slot is reused, re-claim is fine
        assert (again.newly_bound, again.claimed) == (False, True)
        assert again.endpoint.slot_id == first.endpoint.slot_id
        assert "slot_token" not in str(again.to_json())
        resolved = await agent.relay(shared_relay.url).resolve_handle(nick)
        assert resolved["did"] == agent.did
    async with make_agent(tmp_path / "other", nick) as squatter:  # same nick, different key
        with pytest.raises(wire_client.HandleClaimError) as taken:
            await squatter.attach_relay(shared_relay.url)
        assert (taken.value.reason, taken.value.newly_bound) == ("handle_taken", True)
        assert "already claimed" in taken.value.message
        assert [ep.slot_id for ep in squatter.endpoints()] == [taken.value.slot_id]  # the slot is kept and named


def test_one_export_table_matches_the_type_checking_imports() -> None:
    """``__all__`` comes from the export table; the TYPE_CHECKING block must name exactly the same."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(wire_client))
    guarded = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    typed = {
        alias.asname or alias.name: f"{node.module}"
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == wire_client._EXPORTS
    assert list(wire_client.__all__) == list(wire_client._EXPORTS)
    assert sorted(dir(wire_client)) == sorted(wire_client._EXPORTS)


def _readme_embedding_example() -> str:
    readme = (Path(__file__).resolve().parents[2] / "packages" / "wire-client" / "README.md").read_text()
    found = re.search(r"## Embedding\n\n```python\n(.*?)```", readme, re.DOTALL)
    assert found is not None
    return found.group(1)


async def test_readme_embedding_example_runs(own_relay: RelayProcess, tmp_path: Path) -> None:
    """The README's embedding example, run as written against a loopback relay and a real peer."""
    async with make_agent(tmp_path, "bob") as bob:
        await bob.bind_relay(own_relay.url)
        await bob.claim()
        await _run_readme_example(_readme_embedding_example(), bob, own_relay, tmp_path)


async def _run_readme_example(example: str, bob: WireAgent, relay: RelayProcess, tmp_path: Path) -> None:
    code = (
        example.replace("https://wireup.net", relay.url)
        .replace("bob@wireup.net", f"bob@127.0.0.1:{relay.port}")
        .replace("~/.wire-agents/alice", str(tmp_path / "alice"))
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRE_")} | {"WIRE_NO_TOASTS": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-u", "-c", code, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    stdout = process.stdout
    seen: list[str] = []

    async def read_until(prefix: str) -> None:
        while not any(line.startswith(prefix) for line in seen):
            line = await asyncio.wait_for(stdout.readline(), timeout=20)
            assert line, f"example exited early; output so far: {seen}"
            seen.append(line.decode().strip())

    async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while not await check():
            assert loop.time() < deadline, f"timed out waiting for {what}; example output: {seen}"
            await asyncio.sleep(0.05)

    async def request_arrived() -> bool:
        await bob.pull()
        return bool(bob.pairing.pending())

    async def queued_message_delivered() -> bool:
        await bob.pull()
        return any(e.get("body") == {"task": "review PR 12"} for e in inbox_lines(bob, "alice"))

    try:
        await read_until("queued")  # bob has not accepted yet: the message waits in alice's outbox
        await read_until(bob.identity.character().short())  # the peers() line
        await until(request_arrived, "alice's pair request")
        await bob.pairing.accept("alice")
        assert (await bob.send("alice", "hello alice")).delivered
        await read_until("bob claim hello alice")  # alice's agent.events() yields it
        await until(queued_message_delivered, "the queued message")
    finally:
        process.kill()
        await process.wait()
