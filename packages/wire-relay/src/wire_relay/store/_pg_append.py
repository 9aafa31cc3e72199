# SPDX-License-Identifier: AGPL-3.0-or-later
"""Group commit for the PostgreSQL store's single-event appends.

Each ``append`` joins a queue; at most ``max_parallel`` flusher tasks run, each taking everything
queued (up to ``max_items``) into ONE call of the server-side ``wire_append`` function — one round
trip, one transaction, one WAL flush for the whole group. Under light load a flusher is free and an
append goes out alone at once (no added latency); under heavy load appends share transactions, as
the SQLite store's writer does. Every caller is answered only after its group committed; if the
group fails, every caller in it gets the exception (nothing of the group was committed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from wire_relay.store.base import AppendResult, EventItem

__all__ = ["AppendRequest", "GroupCommitter"]


@dataclass(frozen=True, slots=True)
class AppendRequest:
    slot_id: str
    item: EventItem
    quota: int
    count_posted: bool


Run = Callable[[Sequence[AppendRequest]], Awaitable[list[AppendResult]]]
_Waiting = tuple[AppendRequest, "asyncio.Future[AppendResult]"]


class GroupCommitter:
    """Queue of single appends flushed in groups by ``run`` (see the module docstring)."""

    def __init__(self, run: Run, *, max_parallel: int, max_items: int = 500) -> None:
        self._run = run
        self._max_parallel = max_parallel
        self._max_items = max_items
        self._waiting: list[_Waiting] = []
        self._flushers: set[asyncio.Task[None]] = set()

    async def submit(self, request: AppendRequest) -> AppendResult:
        future: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if len(self._flushers) < self._max_parallel:
            task = asyncio.create_task(self._flush(), name="wire-relay-pg-append")
            self._flushers.add(task)
            task.add_done_callback(self._flushers.discard)
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            group = self._waiting[: self._max_items]
            del self._waiting[: self._max_items]
            try:
                results = await self._run([request for request, _ in group])
            except BaseException as exc:
                cancelled = isinstance(exc, asyncio.CancelledError)
                for _, future in group:
                    if not future.done():
                        future.cancel() if cancelled else future.set_exception(exc)
                if cancelled:
                    raise
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def drain(self) -> None:
        """Wait until every queued append is answered (close: acknowledged = committed)."""
        while self._flushers:
            await asyncio.gather(*self._flushers, return_exceptions=True)
