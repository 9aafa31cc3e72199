# SPDX-License-Identifier: MIT
"""The inbox / pending / peers watcher: fires resource notifications and wakes ``wire_wait``.

Whoever writes the inbox (our in-process receiver, a separate ``wire daemon``, another tool) only
appends complete lines to ``inbox/<peer>.jsonl``. We poll the file sizes every 25 ms (a few
``stat`` calls; no inotify dependency) and are also kicked at once by the in-process receiver, so
a waiter wakes well within 100 ms of an event landing. New lines become numbered :class:`WaitItem`
entries that ``wire_wait`` hands out by cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from wire_client import InboxReader, WireHome
from wire_mcp.notify import Notifier
from wire_mcp.views import event_view
from wire_protocol import HANDSHAKE_TYPES

__all__ = ["NOISE_TYPES", "WaitItem", "Watcher"]

log = logging.getLogger(__name__)

#: handshake noise never surfaced by wire_wait (features notes §9, §11.9)
NOISE_TYPES = HANDSHAKE_TYPES
POLL_INTERVAL = 0.025
_MAX_ITEMS = 2000


@dataclass(frozen=True, slots=True)
class WaitItem:
    """Something new for the agent: a verified inbox ``event`` or an inbound ``pair_request``."""

    seq: int
    kind: Literal["event", "pair_request"]
    peer: str
    data: dict[str, Any]


class Watcher:
    """Polls the home's inbox, pending-inbound requests and trust for changes."""

    def __init__(
        self,
        home: WireHome,
        notifier: Notifier,
        peers: Callable[[], set[str]],
        pending: Callable[[], list[dict[str, Any]]],
        *,
        interval: float = POLL_INTERVAL,
    ) -> None:
        self.home = home
        self.notifier = notifier
        self._peers_fn = peers
        self._pending_fn = pending
        self._pending_seen: set[tuple[str, str]] = set()
        self.interval = interval
        self.seq = 0
        self._items: deque[WaitItem] = deque(maxlen=_MAX_ITEMS)
        self._reader = InboxReader(home.inbox_dir)
        self._pending: dict[str, int] = {}
        self._peers_stamp: tuple[int, ...] | None = None
        self._peers: set[str] | None = None
        self._kick = asyncio.Event()
        self._changed = asyncio.Event()
        self._delivered: set[int] = set()

    # --- lifecycle -------------------------------------------------------------------------------

    def kick(self, *_: object) -> None:
        """Ask for a scan now (the in-process receiver calls this when it appends to the inbox)."""
        self._kick.set()

    async def run(self) -> None:
        """Scan until cancelled."""
        while True:
            try:
                await self.scan()
            except Exception:
                log.warning("watcher scan failed", exc_info=True)
            # not asyncio.wait_for: on Python 3.11 it can drop a cancel that lands just after the kick,
            # and this loop would outlive its cancellation (the daemon's pusher had the same bug)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._kick.wait()
            self._kick.clear()

    # --- scanning --------------------------------------------------------------------------------

    async def scan(self) -> None:
        """One pass: new inbox lines, pending-request changes, peer-set changes; notify and wake."""
        grown = self._scan_inbox()
        pending_changed = self._scan_pending()
        peers_changed = self._scan_peers()
        if grown or pending_changed:
            self._changed.set()
            self._changed = asyncio.Event()
        for peer in sorted(grown):
            await self.notifier.resource_updated(f"wire://inbox/{peer}")
        if grown:
            await self.notifier.resource_updated("wire://inbox/all")
        if pending_changed:
            await self.notifier.resource_updated("wire://pending/all")
        if peers_changed:
            await self.notifier.resources_changed()

    def _scan_inbox(self) -> set[str]:
        grown: set[str] = set()
        for peer, record in self._reader.poll():
            self._add("event", peer, event_view(peer, record))
            grown.add(peer)
        return grown

    def _scan_pending(self) -> bool:
        directory = self.home.pending_inbound_dir
        current: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for entry in os.scandir(directory):
                if entry.name.endswith(".json") and not entry.name.startswith("."):
                    with contextlib.suppress(OSError):
                        current[entry.name] = entry.stat().st_mtime_ns
        if current == self._pending:
            return False
        self._pending = current
        try:
            requests = self._pending_fn()
        except Exception:
            log.debug("could not list pending requests", exc_info=True)
            return True
        for request in requests:
            key = (str(request.get("peer_handle")), str(request.get("event_id")))
            if key not in self._pending_seen:
                self._pending_seen.add(key)
                self._add("pair_request", key[0], request)
        return True

    def _scan_peers(self) -> bool:
        stamp: list[int] = []
        for path in (self.home.trust, self.home.relay_state):
            try:
                st = path.stat()
                stamp += [st.st_mtime_ns, st.st_size]
            except OSError:
                stamp += [0, 0]
        if tuple(stamp) == self._peers_stamp:
            return False
        self._peers_stamp = tuple(stamp)
        try:
            peers = self._peers_fn()
        except Exception:  # noqa: BLE001 - an uninitialized or torn home: try again next change
            return False
        changed = self._peers is not None and peers != self._peers
        self._peers = peers
        return changed

    def _add(self, kind: Literal["event", "pair_request"], peer: str, data: dict[str, Any]) -> None:
        self.seq += 1
        self._items.append(WaitItem(self.seq, kind, peer, data))

    # --- waiting ---------------------------------------------------------------------------------

    def items_after(self, since: int, peer: str | None, *, undelivered: bool = False) -> list[WaitItem]:
        return [
            item
            for item in self._items
            if item.seq > since
            and (peer is None or item.peer == peer)
            and (item.kind != "event" or item.data.get("type") not in NOISE_TYPES)
            and not (undelivered and item.seq in self._delivered)
        ]

    async def wait(
        self, *, peer: str | None, seconds: float, since: int | None = None, limit: int = 50
    ) -> tuple[list[WaitItem], int, bool]:
        """New items, blocking up to ``seconds`` for the first one. Returns ``(items, cursor, timed_out)``.

        Without ``since``: everything not yet handed out by an earlier wait (nothing is lost between
        calls, nothing is repeated). With ``since``: everything after that cursor.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        await self.scan()
        while True:
            items = self.items_after(since or 0, peer, undelivered=since is None)[:limit]
            if items:
                self._delivered.update(item.seq for item in items)
                if self._items and len(self._delivered) > 2 * _MAX_ITEMS:
                    oldest = self._items[0].seq
                    self._delivered = {seq for seq in self._delivered if seq >= oldest}
                return items, items[-1].seq, False
            remaining = deadline - loop.time()
            if remaining <= 0:
                return [], self.seq, True
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=remaining)
