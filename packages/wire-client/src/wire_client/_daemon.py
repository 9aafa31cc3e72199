# SPDX-License-Identifier: MIT
"""The daemon: one per identity, keeps every own slot streaming and the outbox flushed.

An assembler: it takes the singleton lock (:class:`~wire_client._home.pidfile.DaemonLock`), builds
the parts (pool, :class:`Sender`, :class:`Puller` with the pairing handler, the SAS driver) and
runs the receive loop (:class:`~wire_client._messaging.receiver.Receiver`) until stopped. Clean
exit on SIGTERM/SIGINT, and a hard one :data:`SHUTDOWN_GRACE` seconds later if anything hangs.
Notifications run in bounded daemon threads that shutdown never waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable

from wire_client.__about__ import __version__
from wire_client._home.endpoints import RelayStateStore
from wire_client._home.identity import Identity
from wire_client._home.mailbox import InboxEvent
from wire_client._home.paths import WireHome
from wire_client._home.pidfile import DaemonLock, daemon_status
from wire_client._messaging.hook import PairingHandler
from wire_client._messaging.probes import ProbeDesk
from wire_client._messaging.receive import Puller
from wire_client._messaging.receiver import Receiver
from wire_client._messaging.send import Sender
from wire_client._notify import toast_in_background
from wire_client._pairing.api import Pairing
from wire_client._pairing.handler import WirePairingHandler
from wire_client._pairing.parts import PairingParts
from wire_client._pairing.sas import SasDriver
from wire_client._relay.client import RelayPool
from wire_protocol import HANDSHAKE_TYPES

__all__ = ["Daemon", "run_daemon"]

log = logging.getLogger(__name__)


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
        self._lock = DaemonLock(home)

    def acquire(self) -> None:
        """Take the singleton lock and write the pidfile, or raise :class:`DaemonAlreadyRunningError`."""
        identity = Identity.load(self.home)
        endpoints = RelayStateStore(self.home).self_endpoints()
        self._lock.acquire(did=identity.did, relay_url=endpoints[0].relay_url if endpoints else None)

    def release(self) -> None:
        self._lock.release()

    def _on_inbox(self, events: list[InboxEvent]) -> None:
        if not self.notifications:
            return
        by_peer: dict[str, int] = {}
        for event in events:
            if event.type not in HANDSHAKE_TYPES:
                by_peer[event.peer] = by_peer.get(event.peer, 0) + 1
        for peer, count in by_peer.items():
            toast_in_background(f"wire — {peer}", f"{count} new message{'s' if count > 1 else ''} from {peer}")

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Acquire, serve until ``stop`` is set (or the task is cancelled), then shut down cleanly."""
        self.acquire()
        pool = RelayPool()
        try:
            identity = Identity.load(self.home)
            sender = Sender(self.home, identity, pool)
            handler = self.pairing_handler or WirePairingHandler(sender)
            probes = ProbeDesk(self.home, identity, sender.send_signed)
            puller = Puller(self.home, identity, pool, pairing_handler=handler, on_inbox=self._on_inbox, probes=probes)
            driver = SasDriver(self.home, identity, pool, on_pinned=puller.release_held)
            receiver = Receiver(
                puller,
                sender,
                poll_interval=self.poll_interval,
                backoff_initial=self.backoff_initial,
                ticker=driver.tick_all,
            )
            log.info("wire daemon %s serving %s (pid %d)", __version__, identity.did, os.getpid())
            if self.home.reintroduce_marker.exists():
                parts = PairingParts(self.home, identity, puller.trust, puller.relay_state, pool, sender, puller)
                reached = await Pairing(parts).reintroduce()
                log.info("re-introduced our current card to %d peer(s)", len(reached))
            task = asyncio.create_task(receiver.run(), name="wire-receiver")
            waiter = asyncio.create_task((stop or asyncio.Event()).wait())
            done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            for pending in (task, waiter):
                pending.cancel()
            await asyncio.gather(task, waiter, return_exceptions=True)
            await puller.acks.flush()  # bounded: the last acknowledgements reach the relay
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
    loop is doing (a task that lost its cancellation, a stuck notifier); a second signal ends it at
    once. The OS releases the singleton lock with the process; the pidfile is removed here.
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
