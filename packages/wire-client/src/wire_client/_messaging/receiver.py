# SPDX-License-Identifier: MIT
"""The receive loop: every own slot streaming into the :class:`Puller`, the outbox flushing.

* one SSE connection per own endpoint. Against a relay with ``sse-replay`` the stream itself
  carries the events, replayed from our cursor; otherwise each message is only a wake-up and
  events come from ``GET /v1/events`` (and with no stream route at all, we poll);
* queued outbox lines are pushed on every (re)connect and whenever an outbox file grows — which
  is also how agents use the file-system contract (append a partial event, we sign it);
* bounded exponential backoff (1→2→4…30 s) on connection failures;
* an optional ``ticker`` (the pairing layer's SAS driver) runs on a short period.

The daemon and an embedder's in-process receiver both run this; neither lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

from wire_client._errors import RelayError, TransportError, WireClientError
from wire_client._home.endpoints import Endpoint, RelayStateStore
from wire_client._home.paths import WireHome
from wire_client._messaging.receive import Puller
from wire_client._messaging.send import Sender
from wire_client._relay.client import StreamMessage

__all__ = ["REPLAY_FROM_START", "Receiver"]

log = logging.getLogger(__name__)

_STREAM_BATCH = 500
#: loop turns an empty stream queue gets before a batch is closed (see ``_gather_ready``)
_IDLE_TURNS = 3
#: an id no slot holds: a replaying relay then starts from the first stored event
REPLAY_FROM_START = "0" * 64
_WATCH_INTERVAL = 0.02


class Receiver:
    """Keeps our endpoints streaming into the puller and the outbox flushing through the sender."""

    def __init__(
        self,
        puller: Puller,
        sender: Sender,
        *,
        poll_interval: float = 5.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        ticker: Callable[[], Awaitable[object]] | None = None,
        tick_interval: float = 0.25,
    ) -> None:
        self.puller = puller
        self.ticker = ticker
        self.tick_interval = tick_interval
        self.sender = sender
        self.pool = puller.pool
        self.poll_interval = poll_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connected: dict[str, bool] = {}
        self._push_wanted = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._push_backoff = backoff_initial

    async def run(self) -> None:
        """Run until cancelled: endpoint streams, the outbox watcher, held-event release."""
        relay_state = RelayStateStore(self.puller.home)
        self._push_wanted.set()
        pusher = asyncio.create_task(self._pusher(), name="wire-outbox-pusher")
        ticker = asyncio.create_task(self._ticker(), name="wire-pair-ticker")
        last_endpoints_check = 0.0
        loop = asyncio.get_running_loop()
        sizes: dict[str, int] = {}
        try:
            while True:
                now = loop.time()
                if now - last_endpoints_check >= 1.0 or not self._tasks:
                    last_endpoints_check = now
                    self._sync_endpoint_tasks(relay_state.self_endpoints())
                current = _outbox_sizes(self.puller.home)
                if current != sizes:
                    sizes = current
                    self._push_wanted.set()
                self.puller.release_if_trust_changed()
                if pusher.done():
                    pusher.result()
                await asyncio.sleep(_WATCH_INTERVAL)
        finally:
            pusher.cancel()
            ticker.cancel()
            for task in self._tasks.values():
                task.cancel()
            await asyncio.gather(pusher, ticker, *self._tasks.values(), return_exceptions=True)
            self._tasks.clear()

    def _sync_endpoint_tasks(self, endpoints: list[Endpoint]) -> None:
        wanted = {ep.key: ep for ep in endpoints if ep.is_ready}
        for key in list(self._tasks):
            if key not in wanted or self._tasks[key].done():
                self._tasks.pop(key).cancel()
        for key, endpoint in wanted.items():
            if key not in self._tasks:
                self._tasks[key] = asyncio.create_task(self._endpoint_loop(endpoint), name=f"wire-recv {endpoint!r}")

    async def _ticker(self) -> None:
        """Advance detached pairing sessions (SAS) on a short period; errors never stop receiving."""
        if self.ticker is None:
            return
        while True:
            try:
                await self.ticker()
            except Exception:
                log.exception("pairing tick failed")
            await asyncio.sleep(self.tick_interval)

    async def _pusher(self) -> None:
        while True:
            # not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that arrives while the
            # event is being set (the daemon then never stops); asyncio.timeout cannot
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._push_backoff):
                    await self._push_wanted.wait()
            self._push_wanted.clear()
            if not self.sender.outbox.backlog():
                self._push_backoff = self.backoff_initial
                continue
            try:
                await self.sender.push()
            except WireClientError as exc:
                log.warning("outbox push failed: %s", exc)
            if self.sender.outbox.backlog():
                self._push_backoff = min(self._push_backoff * 2, self.backoff_max)
            else:
                self._push_backoff = self.backoff_initial

    async def _endpoint_loop(self, endpoint: Endpoint) -> None:
        backoff = self.backoff_initial
        client = self.pool.client(endpoint.relay_url)
        while True:
            try:
                info = await client.info()
                self._push_wanted.set()
                if info.supports("sse-replay"):
                    await self._stream_replay(endpoint)
                else:
                    await self._stream_wake(endpoint)
                backoff = self.backoff_initial
            except (TransportError, RelayError) as exc:
                self.connected[endpoint.key] = False
                log.info("endpoint %r: %s; retrying in %.1fs", endpoint, exc.message, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.backoff_max)

    async def _stream_replay(self, endpoint: Endpoint) -> None:
        """Events arrive on the stream itself, replayed after our cursor; processed in drained batches."""
        client = self.pool.client(endpoint.relay_url)
        queue: asyncio.Queue[StreamMessage | None] = asyncio.Queue()

        async def read() -> None:
            try:
                since = self.puller.cursors.get(endpoint) or REPLAY_FROM_START
                async for message in client.stream(endpoint, since=since):
                    queue.put_nowait(message)
            finally:
                queue.put_nowait(None)

        reader = asyncio.create_task(read())
        self.connected[endpoint.key] = True
        blocked = False
        try:
            while True:
                batch = [await queue.get()]
                if batch[0] is not None:
                    await _gather_ready(queue, batch)
                messages = [m for m in batch if m is not None]
                if messages:
                    report = await self.puller.process([m.data for m in messages], endpoint, advance_cursor=not blocked)
                    blocked = blocked or report.blocked
                    self.puller.acks.kick()
                if None in batch:
                    break
            await reader  # re-raises the stream's error, if any
        finally:
            reader.cancel()
            # asyncio.wait, not `await reader` under suppress(CancelledError): that would also swallow
            # OUR cancellation if it arrived while waiting here, and the endpoint loop would go on forever
            await asyncio.wait({reader})
            self.connected[endpoint.key] = False

    async def _stream_wake(self, endpoint: Endpoint) -> None:
        """Reference relay: stream messages are wake-ups; data comes from listing (poll without a stream)."""
        client = self.pool.client(endpoint.relay_url)
        await self.puller.pull_endpoint(endpoint)
        try:
            async for _ in client.stream(endpoint):
                self.connected[endpoint.key] = True
                await self.puller.pull_endpoint(endpoint)
        except RelayError as exc:
            if exc.status not in (404, 405):
                raise
            log.info("relay %s has no event stream; polling every %.1fs", endpoint.relay_url, self.poll_interval)
            while True:
                self.connected[endpoint.key] = True
                await asyncio.sleep(self.poll_interval)
                await self.puller.pull_endpoint(endpoint)


async def _gather_ready(queue: asyncio.Queue[StreamMessage | None], batch: list[StreamMessage | None]) -> None:
    """Add what the stream already delivered to ``batch`` (up to ``_STREAM_BATCH``), end of stream included.

    The reader task only moves bytes the socket already holds into the queue when it gets a turn, so
    an empty queue is given a few loop turns before the batch is closed: during a burst a batch then
    carries hundreds of events for one inbox fsync and one cursor write instead of a dozen, while a
    lone message waits only those turns (microseconds, no timer).
    """
    idle_turns = 0
    while batch[-1] is not None and len(batch) < _STREAM_BATCH:
        if queue.empty():
            if idle_turns >= _IDLE_TURNS:
                return
            idle_turns += 1
            await asyncio.sleep(0)
            continue
        idle_turns = 0
        batch.append(queue.get_nowait())


def _outbox_sizes(home: WireHome) -> dict[str, int]:
    sizes: dict[str, int] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(home.outbox_dir):
            if entry.name.endswith(".jsonl") and not entry.name.startswith("."):
                sizes[entry.name] = entry.stat().st_size
    return sizes
