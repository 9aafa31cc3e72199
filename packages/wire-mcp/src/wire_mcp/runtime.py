# SPDX-License-Identifier: MIT
"""The server's state: the home, the agent (opened lazily), in-process receiving and the watcher.

Receiving without a daemon: when no ``wire daemon`` serves the home, the server runs the client's
receiver in-process (it takes the daemon's singleton lock, so a daemon started later refuses
instead of racing us). When a daemon already runs we leave receiving to it and only watch the
inbox files; if that daemon goes away we take over within a couple of seconds. Receiving starts
right after the client's first message following ``initialize`` (start-up time is the host's wait).
Set ``WIRE_MCP_SKIP_AUTO_UP=1`` to never receive in-process (tests, or an external daemon only).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

from wire_client import Identity, NotInitializedError, WireAgent, daemon_status
from wire_mcp.consent import Consent, consent_timeout
from wire_mcp.notify import Notifier
from wire_mcp.results import SECRET_KEYS, add_secret_source
from wire_mcp.session import HomeChoice
from wire_mcp.watch import Watcher

__all__ = ["Runtime"]

log = logging.getLogger(__name__)

_SUPERVISE_INTERVAL = 2.0
# Receiving starts once the client has been answered (its first message after ``initialize``), so the
# receiver's imports and first connection never sit between a host's spawn and our initialize answer;
# a client that stays silent gets it after this many seconds anyway.
_RECEIVE_AFTER_GREETING_AT_MOST = 1.0
Receiving = Literal["in-process", "daemon", "off"]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class Runtime:
    """Everything the tools and resources share for one home."""

    def __init__(self, choice: HomeChoice, *, env: Mapping[str, str] | None = None) -> None:
        environ = os.environ if env is None else env
        self.choice = choice
        self.home = choice.home
        self.receive = not _truthy(environ.get("WIRE_MCP_SKIP_AUTO_UP"))
        self.consent = Consent(consent_timeout(environ))
        self.notifier = Notifier()
        self.watcher = Watcher(self.home, self.notifier, self.peer_handles, self.pending)
        self._agent: WireAgent | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._users = 0
        self._greeted = asyncio.Event()
        add_secret_source(self.secrets)

    # --- the agent -------------------------------------------------------------------------------

    def agent(self) -> WireAgent:
        """The identity of this home, or a clear error telling the model to call ``wire_init``."""
        if self._agent is None:
            if not self.home.is_initialized:
                raise NotInitializedError(
                    f"no wire identity in {self.choice.path} yet: call wire_init with a handle first"
                )
            return self.adopt(Identity.load(self.home))
        return self._agent

    def adopt(self, identity: Identity) -> WireAgent:
        """The agent for ``identity`` (e.g. just created by ``wire_init``); an open one is kept, never doubled."""
        if self._agent is None or self._agent.did != identity.did:
            agent = WireAgent(self.home, identity)
            agent.puller.on_inbox = self.watcher.kick  # the in-process receiver wakes wire_wait at once
            self._agent = agent
        return self._agent

    def peer_handles(self) -> set[str]:
        if not self.home.is_initialized:
            return set()
        return {peer.handle for peer in self.agent().peers()}

    def pending(self) -> list[dict[str, Any]]:
        """Inbound pair requests (wire-client's view: no card, no token), oldest first."""
        if not self.home.is_initialized:
            return []
        return [request.to_json() for request in self.agent().pairing.pending()]

    # --- receiving -------------------------------------------------------------------------------

    async def ensure_receiving(self) -> Receiving:
        """Receive in-process unless a daemon already does; returns ``in-process``, ``daemon`` or ``off``."""
        if self.receive and self.home.is_initialized:
            try:
                if await self.agent().start_receiving():  # True while our receiver runs; restarts a dead one
                    return "in-process"
            except Exception:
                log.warning("could not start receiving in-process", exc_info=True)
        status = daemon_status(self.home)
        return "daemon" if status is not None and status.running else "off"

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start watching (and receiving); nested starts share one runtime (refcounted)."""
        self._users += 1
        if self._users > 1:
            return
        self._tasks = [
            asyncio.create_task(self.watcher.run(), name="wire-mcp-watcher"),
            asyncio.create_task(self._supervise(), name="wire-mcp-supervisor"),
        ]

    async def stop(self) -> None:
        self._users -= 1
        if self._users > 0:
            return
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        agent, self._agent = self._agent, None
        if agent is not None:
            await agent.close()

    async def greeting_middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Note the client's first message after ``initialize``: the answer is out, receiving may start."""
        if ctx.method != "initialize":
            self._greeted.set()
        return await call_next(ctx)

    async def _supervise(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_RECEIVE_AFTER_GREETING_AT_MOST):
                await self._greeted.wait()
        while True:
            try:
                await self.ensure_receiving()
            except Exception:
                log.debug("ensure_receiving failed", exc_info=True)
            await asyncio.sleep(_SUPERVISE_INTERVAL)

    # --- secrets (what results must never contain) -----------------------------------------------

    def secrets(self) -> Iterator[str]:
        """Every slot token, pending-pair token and the private key, in the forms they could leak."""
        files = [self.home.relay_state]
        with contextlib.suppress(OSError):
            files += [p for p in self.home.pending_inbound_dir.iterdir() if p.suffix == ".json"]
        for path in files:
            try:
                data = json.loads(path.read_bytes())
            except (OSError, ValueError):
                continue
            yield from _secret_values(data)
        with contextlib.suppress(OSError):
            seed = self.home.private_key.read_bytes()
            yield seed.hex()
            yield base64.b64encode(seed).decode().rstrip("=")
            yield base64.urlsafe_b64encode(seed).decode().rstrip("=")


def _secret_values(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in SECRET_KEYS and isinstance(value, str) and value:
                yield value
            else:
                yield from _secret_values(value)
    elif isinstance(data, list):
        for item in data:
            yield from _secret_values(item)
