# SPDX-License-Identifier: MIT
"""The daemon: one per identity, keeps every own slot streaming and the outbox flushed.

* singleton: an exclusive ``filelock`` on ``daemon.lock`` held for the process lifetime, plus the
  JSON pidfile ``daemon.pid`` that the daemon itself writes and removes;
* receive: one SSE connection per own endpoint. Against a relay with ``sse-replay`` the stream
  itself carries the events, replayed from our cursor; otherwise each message is only a wake-up and
  events come from ``GET /v1/events`` (and with no stream route at all, we poll);
* send: queued outbox lines are pushed on every (re)connect and whenever an outbox file grows —
  which is also how agents use the file-system contract (append a partial event, we sign it);
* bounded exponential backoff (1→2→4…30 s) on connection failures; clean exit on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import filelock

from wire_client.__about__ import __version__
from wire_client._endpoints import Endpoint, RelayStateStore
from wire_client._errors import DaemonAlreadyRunningError, RelayError, TransportError, WireClientError
from wire_client._fs import FILE_MODE, atomic_write_json, make_private_dirs, read_json
from wire_client._home import WireHome
from wire_client._identity import Identity
from wire_client._mailbox import InboxEvent
from wire_client._notify import toast_in_background
from wire_client._pull import PairingHandler, Puller
from wire_client._relay import RelayPool, StreamMessage
from wire_client._send import Sender
from wire_protocol import JSON, JSONObject, format_timestamp

__all__ = ["Daemon", "DaemonPid", "Receiver", "daemon_status", "run_daemon"]

log = logging.getLogger(__name__)

PIDFILE_SCHEMA = "wire-daemon-pid-v1"
_STREAM_BATCH = 500
#: an id no slot holds: a replaying relay then starts from the first stored event
REPLAY_FROM_START = "0" * 64
_WATCH_INTERVAL = 0.02


@dataclass(frozen=True, slots=True)
class DaemonPid:
    """The pidfile of a running daemon (``running`` is False for a stale file)."""

    pid: int
    started_at: str | None
    did: str | None
    relay_url: str | None
    version: str | None
    running: bool


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def daemon_status(home: WireHome) -> DaemonPid | None:
    """Read ``daemon.pid`` (JSON, or the legacy bare integer); ``None`` when there is none."""
    try:
        text = home.daemon_pid.read_text()
    except FileNotFoundError:
        return None
    data: JSON
    if text.strip().isdigit():
        data = {"pid": int(text.strip())}
    else:
        try:
            data = read_json(home.daemon_pid)
        except WireClientError:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    pid = int(str(data["pid"]))

    fields: JSONObject = data

    def text_of(name: str) -> str | None:
        value = fields.get(name)
        return value if isinstance(value, str) else None

    return DaemonPid(
        pid=pid,
        started_at=text_of("started_at"),
        did=text_of("did"),
        relay_url=text_of("relay_url"),
        version=text_of("version"),
        running=_pid_alive(pid),
    )


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
                first = await queue.get()
                batch = [first]
                while first is not None and len(batch) < _STREAM_BATCH and not queue.empty():
                    batch.append(queue.get_nowait())
                messages = [m for m in batch if m is not None]
                if messages:
                    report = await self.puller.process([m.data for m in messages], endpoint, advance_cursor=not blocked)
                    blocked = blocked or report.blocked
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


def _outbox_sizes(home: WireHome) -> dict[str, int]:
    sizes: dict[str, int] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(home.outbox_dir):
            if entry.name.endswith(".jsonl") and not entry.name.startswith("."):
                sizes[entry.name] = entry.stat().st_size
    return sizes


class Daemon:
    """The per-identity daemon. ``await Daemon(home).run(stop)`` runs until ``stop`` is set."""

    def __init__(
        self,
        home: WireHome,
        *,
        notifications: bool = True,
        poll_interval: float = 5.0,
        backoff_initial: float = 1.0,
        pairing_handler: PairingHandler | None = None,
    ) -> None:
        self.home = home
        self.notifications = notifications
        self.poll_interval = poll_interval
        self.backoff_initial = backoff_initial
        self.pairing_handler = pairing_handler
        self._lock = filelock.FileLock(home.daemon_lock, mode=FILE_MODE, preserve_lock_file=True)

    def acquire(self) -> None:
        """Take the singleton lock and write the pidfile, or raise :class:`DaemonAlreadyRunningError`."""
        make_private_dirs(self.home.state_dir)
        try:
            self._lock.acquire(blocking=False)
        except filelock.Timeout:
            status = daemon_status(self.home)
            pid = status.pid if status is not None else None
            raise DaemonAlreadyRunningError(
                f"a wire daemon is already running for {self.home.state_dir} (pid {pid or 'unknown'}); "
                "stop it first (`kill <pid>`) — two daemons would race the same cursors",
                pid=pid,
            ) from None
        identity = Identity.load(self.home)
        endpoints = RelayStateStore(self.home).self_endpoints()
        record: JSONObject = {
            "schema": PIDFILE_SCHEMA,
            "pid": os.getpid(),
            "started_at": format_timestamp(datetime.now(UTC)),
            "did": identity.did,
            "relay_url": endpoints[0].relay_url if endpoints else None,
            "version": __version__,
        }
        atomic_write_json(self.home.daemon_pid, record)

    def release(self) -> None:
        status = daemon_status(self.home)
        if status is not None and status.pid == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.home.daemon_pid.unlink()
        if self._lock.is_locked:
            self._lock.release()

    def _on_inbox(self, events: list[InboxEvent]) -> None:
        if not self.notifications:
            return
        by_peer: dict[str, int] = {}
        for event in events:
            if event.type not in ("pair_drop", "pair_drop_ack", "heartbeat"):
                by_peer[event.peer] = by_peer.get(event.peer, 0) + 1
        for peer, count in by_peer.items():
            toast_in_background(f"wire — {peer}", f"{count} new message{'s' if count > 1 else ''} from {peer}")

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Acquire, serve until ``stop`` is set (or the task is cancelled), then shut down cleanly."""
        self.acquire()
        pool = RelayPool()
        try:
            identity = Identity.load(self.home)
            puller = Puller(self.home, identity, pool, pairing_handler=self.pairing_handler, on_inbox=self._on_inbox)
            sender = Sender(self.home, identity, pool)
            from wire_client._sas import SasDriver  # pairing builds on the receive pipeline

            driver = SasDriver(self.home, identity, pool, on_pinned=puller.release_held)
            receiver = Receiver(
                puller,
                sender,
                poll_interval=self.poll_interval,
                backoff_initial=self.backoff_initial,
                ticker=driver.tick_all,
            )
            log.info("wire daemon %s serving %s (pid %d)", __version__, identity.did, os.getpid())
            task = asyncio.create_task(receiver.run(), name="wire-receiver")
            waiter = asyncio.create_task((stop or asyncio.Event()).wait())
            done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            for pending in (task, waiter):
                pending.cancel()
            await asyncio.gather(task, waiter, return_exceptions=True)
            if task in done and not task.cancelled():
                task.result()  # re-raise what stopped the receiver
        finally:
            await pool.close()
            self.release()
            log.info("wire daemon stopped")


def run_daemon(
    home: WireHome,
    *,
    install_signals: bool = True,
    notifications: bool = True,
    poll_interval: float = 5.0,
    backoff_initial: float = 1.0,
) -> None:
    """Run the daemon in this process until SIGTERM/SIGINT (the ``python -m wire_client daemon`` entry)."""

    async def main() -> None:
        stop = asyncio.Event()
        if install_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(signum, _stopper(home, stop))
        daemon = Daemon(home, notifications=notifications, poll_interval=poll_interval, backoff_initial=backoff_initial)
        await daemon.run(stop)

    asyncio.run(main())


#: after SIGTERM/SIGINT the daemon shuts down cleanly within this many seconds, or is ended hard
SHUTDOWN_GRACE = 3.5


def _stopper(home: WireHome, stop: asyncio.Event) -> Callable[[], None]:
    """The signal handler: ask for a clean stop, and guarantee the process ends even if something hangs.

    A watchdog thread ends the process after :data:`SHUTDOWN_GRACE` seconds whatever the event
    loop is doing (a stuck task, a notification helper that never returns); a second signal ends
    it at once. The OS releases the singleton lock with the process; the pidfile is removed here.
    """

    def hard_exit() -> None:
        status = daemon_status(home)
        if status is not None and status.pid == os.getpid():
            with contextlib.suppress(OSError):
                home.daemon_pid.unlink()
        log.warning("wire daemon did not stop within %.1fs of the signal; exiting now", SHUTDOWN_GRACE)
        logging.shutdown()
        os._exit(0)

    def on_signal() -> None:
        if stop.is_set():
            hard_exit()
        stop.set()
        watchdog = threading.Timer(SHUTDOWN_GRACE, hard_exit)
        watchdog.daemon = True
        watchdog.start()

    return on_signal
