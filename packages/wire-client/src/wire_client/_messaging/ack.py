# SPDX-License-Identifier: MIT
"""Acknowledging received events to our own relay (its ``ack`` extension; issue 18).

Once events are durably in ``inbox/`` (or ``held/``) and the cursor has moved past them, the puller
*notes* the cursor; :meth:`Acknowledger.kick` (the receive loop, after each streamed batch) sends it
in the background and :meth:`Acknowledger.flush` (after a pull, at shutdown) sends and waits. We
tell the relay "read through <cursor>" with the slot's owner token, so those events stop counting
against its backlog quota; never on a relay that does not advertise ``ack`` (the reference). Per
endpoint at most one acknowledgement is in flight and newer cursors replace a pending one; each
request is bounded by :data:`ACK_TIMEOUT`; failures are logged, not raised.
"""

from __future__ import annotations

import asyncio
import logging

from wire_client._errors import WireClientError
from wire_client._home.endpoints import Endpoint
from wire_client._relay.client import RelayPool

__all__ = ["ACK_TIMEOUT", "Acknowledger"]

log = logging.getLogger(__name__)

ACK_TIMEOUT = 10.0


class Acknowledger:
    """Coalescing, best-effort acknowledgements for one identity's slots."""

    def __init__(self, pool: RelayPool) -> None:
        self.pool = pool
        self._pending: dict[str, tuple[Endpoint, str]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def note(self, endpoint: Endpoint, through: str) -> None:
        """Everything in ``endpoint`` up to ``through`` is stored on our side (sent by kick/flush)."""
        self._pending[endpoint.key] = (endpoint, through)

    def kick(self) -> None:
        """Start sending what is pending, in the background (one task per endpoint at most)."""
        for key in list(self._pending):
            task = self._tasks.get(key)
            if task is None or task.done():
                self._tasks[key] = asyncio.get_running_loop().create_task(self._drain(key), name="wire-ack")

    async def flush(self) -> None:
        """Send what is pending and wait for it (each request bounded by :data:`ACK_TIMEOUT`)."""
        self.kick()
        while self._tasks:
            key, task = next(iter(self._tasks.items()))
            await asyncio.gather(task, return_exceptions=True)
            if self._tasks.get(key) is task:
                del self._tasks[key]

    async def _drain(self, key: str) -> None:
        while key in self._pending:
            endpoint, through = self._pending.pop(key)
            try:
                async with asyncio.timeout(ACK_TIMEOUT):
                    await self.pool.client(endpoint.relay_url).acknowledge(endpoint, through)
            except (WireClientError, TimeoutError) as exc:
                log.warning("acknowledging %s at %s failed (it is retried with the next events): %s",
                            endpoint.slot_id, endpoint.relay_url, exc)  # fmt: skip
