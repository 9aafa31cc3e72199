# SPDX-License-Identifier: MIT
"""``wire demo``: a throw-away relay on 127.0.0.1 plus two agents (alice, bob) that pair by handle
and talk, narrated. Everything lives in a temp dir that is removed at the end."""

from __future__ import annotations

import importlib.util
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from wire_cli.output import CliError, Output

if TYPE_CHECKING:
    from wire_client import WireAgent

__all__ = ["EmbeddedRelay", "relay_command", "run_demo"]

_LISTENING = re.compile(r"^wire-relay listening on (?P<url>http://\S+)")
_START_TIMEOUT = 20.0


def relay_command() -> list[str] | None:
    """How to start wire-relay here: the installed ``wire-relay`` program, or ``python -m wire_relay``."""
    if importlib.util.find_spec("wire_relay") is not None:
        return [sys.executable, "-m", "wire_relay"]
    found = shutil.which("wire-relay")
    return [found] if found else None


class EmbeddedRelay(AbstractContextManager["EmbeddedRelay"]):
    """wire-relay as a subprocess on 127.0.0.1:<free port> with a SQLite store in ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        command = relay_command()
        if command is None:
            raise CliError(
                "the demo needs wire-relay, which is not installed",
                hint="install wire-relay from the same source as wire-cli (AGPL-3.0; the CLI never imports it): "
                "`pip install ./packages/wire-relay` in a checkout of the wire repository, then `wire demo`",
                code="relay_missing",
            )
        self.args = [
            *command,
            "--bind",
            "127.0.0.1:0",
            "--store",
            f"sqlite:///{workdir / 'relay.sqlite3'}",
            "--no-rate-limit",
            "--log-level",
            "warning",
        ]
        self.log = workdir / "relay.log"
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EmbeddedRelay:
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter / program
                self.args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL
            )
        assert self._proc.stdout is not None  # noqa: S101
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._proc.stdout

        def reader() -> None:
            for line in iter(stdout.readline, b""):
                lines.put(line)

        threading.Thread(target=reader, daemon=True, name="demo-relay-stdout").start()
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2).decode(errors="replace").strip()
            except queue.Empty:
                if self._proc.poll() is not None:
                    break
                continue
            match = _LISTENING.match(line)
            if match:
                self.url = match.group("url")
                return self
        self.__exit__(None, None, None)
        raise CliError(
            f"the demo relay did not start: {self.log.read_text(errors='replace')[-800:]}", code="relay_failed"
        )

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class _Narrator:
    def __init__(self, out: Output) -> None:
        self.out = out
        self.steps: list[dict[str, Any]] = []
        self.started = time.monotonic()

    def say(self, text: str, **data: Any) -> None:
        self.steps.append({"t": round(time.monotonic() - self.started, 3), "say": text, **data})
        self.out.note(text) if self.out.json_mode else self.out.line(text)
        self.out.flush()


async def _pair(n: _Narrator, alice: WireAgent, bob: WireAgent, relay_url: str, who: dict[str, str]) -> str:
    """Pair by handle through the relay (dial → pending → accept); pin directly if the API is missing."""
    pairing_a, pairing_b = getattr(alice, "pairing", None), getattr(bob, "pairing", None)
    if pairing_a is None or pairing_b is None:
        alice.add_peer(bob.card, bob.endpoints())
        bob.add_peer(alice.card, alice.endpoints())
        n.say("(this wire-client has no pairing API yet: the two agents pinned each other's cards directly)")
        return "pinned_directly"
    address = f"bob@{relay_url.removeprefix('http://')}"
    result = await pairing_a.dial(address)
    n.say(f"{who['alice']} dials {address} → {result.to_json().get('status')}")
    await bob.pull()
    for request in pairing_b.pending():
        req = request.to_json()
        n.say(f"{who['bob']} sees: {req.get('peer_handle')} ({req.get('fingerprint')}) wants to pair")
    accepted = await pairing_b.accept("alice")
    n.say(f"{who['bob']} accepts → {accepted.to_json().get('status')}")
    await alice.pull()
    n.say(f"{who['alice']} receives bob's ack: both sides are paired")
    return "handle"


async def _scenario(n: _Narrator, root: Path, relay_url: str) -> dict[str, Any]:
    from wire_client import Identity, WireAgent, WireHome

    agents: dict[str, WireAgent] = {}
    who: dict[str, str] = {}
    try:
        for name in ("alice", "bob"):
            home = WireHome.at(root / name)
            identity, _ = Identity.create(home, name)
            agent = agents[name] = WireAgent(home, identity)
            await agent.bind_relay(relay_url)
            await agent.claim(name)
            who[name] = f"{n.out.persona(identity.character())} ({name})"
            n.say(f"{who[name]} is born: {identity.did}, mailbox on the relay, handle claimed")
        alice, bob = agents["alice"], agents["bob"]
        via = await _pair(n, alice, bob, relay_url, who)
        messages = [
            (alice, bob, "alice", "bob", "training done, want to look at the loss curves?"),
            (bob, alice, "bob", "alice", "yes! send me the run id"),
        ]
        for sender, receiver, s_name, r_name, text in messages:
            result = await sender.send(r_name, text)
            n.say(f"{who[s_name]} → {r_name}: {text!r} — {result.status}")
            reports = await receiver.pull()
            for report in reports:
                for event in report.inboxed:
                    if event.type in ("pair_drop", "pair_drop_ack"):
                        continue
                    mark = n.out.mark(True)
                    n.say(f"{who[r_name]} reads {event.text!r} from {event.peer} — signature verified {mark}")
        return {"paired_via": via, "relay_url": relay_url, "steps": n.steps}
    finally:
        for agent in agents.values():
            await agent.close()


def run_demo(out: Output, *, keep: bool = False) -> dict[str, Any]:
    """Run the whole demo; returns its JSON summary."""
    import asyncio

    n = _Narrator(out)
    root = Path(tempfile.mkdtemp(prefix="wire-demo-"))
    try:
        n.say("starting a throw-away relay on 127.0.0.1 (SQLite in a temp dir)…")
        with EmbeddedRelay(root) as relay:
            n.say(f"relay up at {relay.url}")
            summary = asyncio.run(_scenario(n, root, relay.url))
        n.say(
            f"done in {time.monotonic() - n.started:.1f} s — relay stopped" + ("" if keep else ", temp files removed")
        )
        summary["steps"] = n.steps
        summary["ok"] = True
        return summary
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
