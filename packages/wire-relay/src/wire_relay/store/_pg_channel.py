# SPDX-License-Identifier: AGPL-3.0-or-later
"""Cross-process SSE wake-ups for the PostgreSQL store: one LISTEN/NOTIFY connection per process.

Sending: after an append commits, the store wakes its own subscribers at once and queues the slot
id here. One task drains the queue: every slot id gathered since the last round goes out in one
``SELECT pg_notify(...)`` (ids joined by commas, split to stay under the 8000-byte payload limit).
Notifying from a separate, later transaction (instead of ``NOTIFY`` inside the append) matters:
PostgreSQL serialises the commits of all notifying transactions on one database-wide lock held
through the WAL flush, which would turn every append into a single-file queue. The price: a
process killed between an append's commit and its notify round leaves other processes' subscribers
un-woken until their next wake-up (the SSE route re-reads at every keep-alive anyway).

Receiving: the same connection LISTENs on :data:`CHANNEL`; notifications from its own backend are
skipped (those slots were woken locally already). If the connection drops (server restart, network,
``pg_terminate_backend``) it is re-opened with back-off, and every local subscription gets a
spurious wake-up so it re-reads whatever it may have missed while nobody was listening. A periodic
``SELECT 1`` detects connections that died silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from wire_relay.store.base import LocalNotifier

__all__ = ["CHANNEL", "NotifyChannel", "WakeAllNotifier"]

log = logging.getLogger("wire_relay.store")

CHANNEL = "wire_slot"
PAYLOAD_MAX = 7900
HEALTH_INTERVAL = 10.0
BACKOFF_MIN, BACKOFF_MAX = 0.05, 2.0


class WakeAllNotifier(LocalNotifier):
    """:class:`LocalNotifier` that can also wake every subscription (after a listener reconnect)."""

    def notify_all(self) -> None:
        for slot_id in list(self._subs):
            self.notify(slot_id)


def payloads(slot_ids: list[str]) -> list[str]:
    """Comma-joined slot ids, each payload at most :data:`PAYLOAD_MAX` bytes."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for slot_id in slot_ids:
        if current and size + len(slot_id) + 1 > PAYLOAD_MAX:
            out.append(",".join(current))
            current, size = [], 0
        current.append(slot_id)
        size += len(slot_id.encode()) + 1
    if current:
        out.append(",".join(current))
    return out


class NotifyChannel:
    """The LISTEN/NOTIFY connection of one store (see the module docstring)."""

    def __init__(self, connect: Callable[[], Awaitable[Any]], notifier: WakeAllNotifier) -> None:
        self._connect = connect
        self._notifier = notifier
        self._pending: set[str] = set()
        self._kick = asyncio.Event()
        self._lost = False
        self._closing = False
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.pid: int | None = None
        #: how many times a LISTEN connection was established (tests watch reconnects)
        self.connects = 0

    async def start(self, wait_seconds: float) -> None:
        """Start the task and wait until the first LISTEN is in place."""
        self._task = asyncio.create_task(self._run(), name="wire-relay-pg-listen")
        try:
            async with asyncio.timeout(wait_seconds):
                await self._connected.wait()
        except TimeoutError:
            await self.close()
            raise

    @property
    def closing(self) -> bool:
        return self._closing

    def queue(self, slot_id: str) -> None:
        """Tell other relay processes (after this process's commit) that ``slot_id`` has new events."""
        self._pending.add(slot_id)
        self._kick.set()

    async def close(self, flush_timeout: float = 2.0) -> None:
        """Send what is pending (bounded wait), then stop listening."""
        self._closing = True
        self._kick.set()
        if self._task is not None:
            try:
                async with asyncio.timeout(flush_timeout):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- the task --------------------------------------------------------------------------------

    def _on_notify(self, _conn: object, pid: int, _channel: str, payload: str) -> None:
        if pid == self.pid:
            return
        for slot_id in payload.split(","):
            if slot_id:
                self._notifier.notify(slot_id)

    def _on_lost(self, _conn: object) -> None:
        self._lost = True
        self._kick.set()

    async def _run(self) -> None:
        backoff = BACKOFF_MIN
        while not self._closing:
            try:
                conn = await self._connect()
            except Exception as exc:  # noqa: BLE001 - whatever failed, the answer is: retry later
                if self.closing:
                    return
                log.warning("event=pg_listen_connect_failed error=%s retry_in=%.2fs", type(exc).__name__, backoff)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(backoff):
                        await self._wait_closing()
                backoff = min(BACKOFF_MAX, backoff * 2)
                continue
            try:
                await self._serve(conn)
                backoff = BACKOFF_MIN
            except Exception as exc:  # noqa: BLE001 - whatever broke the connection, reconnect
                log.warning("event=pg_listen_lost error=%s", type(exc).__name__)
            finally:
                self.pid = None
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1.0)

    async def _wait_closing(self) -> None:
        while not self._closing:
            self._kick.clear()
            await self._kick.wait()

    async def _serve(self, conn: Any) -> None:
        self._lost = False
        conn.add_termination_listener(self._on_lost)
        await conn.add_listener(CHANNEL, self._on_notify)
        self.pid = conn.get_server_pid()
        self.connects += 1
        if self.connects > 1:
            log.info("event=pg_listen_reconnected")
        self._connected.set()
        # anything committed while nobody listened: every local subscriber re-reads
        self._notifier.notify_all()
        while True:
            if self._pending:
                batch = sorted(self._pending)
                self._pending.clear()
                try:
                    await conn.execute(
                        "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", CHANNEL, payloads(batch), timeout=10.0
                    )
                except BaseException:
                    self._pending.update(batch)
                    raise
                continue
            if self._closing or self._lost:
                return
            self._kick.clear()
            try:
                async with asyncio.timeout(HEALTH_INTERVAL):
                    await self._kick.wait()
            except TimeoutError:
                await conn.fetchval("SELECT 1", timeout=5.0)
