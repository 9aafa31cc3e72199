# SPDX-License-Identifier: MIT
"""Resource notifications for both protocol eras.

* 2026-07-28 clients listen with ``subscriptions/listen``: events go through the server's
  :class:`SubscriptionBus` (what ``ctx.notify_resource_updated`` does).
* 2025-era clients (``mode="legacy"``, today's Claude Code / Cursor) call ``resources/subscribe``:
  we remember their session and send ``notifications/resources/updated`` on its standalone
  channel (``ctx.session.send_resource_updated``); ``list_changed`` goes to every legacy session seen.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourcesListChanged, ResourceUpdated
from mcp_types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

__all__ = ["Notifier"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Legacy:
    session: ServerSession
    uris: set[str] = field(default_factory=set)


def _connection_key(session: ServerSession) -> object:
    # A ServerSession is a per-request proxy over one connection; key legacy clients by that connection.
    return getattr(session, "_connection", session)


class Notifier:
    """Fans resource events out to modern listeners (bus) and legacy subscribers (sessions)."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self._legacy: dict[object, _Legacy] = {}
        self.sent: list[tuple[str, str]] = []  # (kind, uri) — kept short; used by diagnostics and tests

    # --- server hooks ----------------------------------------------------------------------------

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Remember every legacy connection (for ``list_changed``); pass everything through."""
        if ctx.request_id is not None and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            key = _connection_key(ctx.session)
            if key not in self._legacy and ctx.method != "initialize":
                self._legacy[key] = _Legacy(ctx.session)
        return await call_next(ctx)

    async def on_subscribe(self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        entry = self._legacy.setdefault(_connection_key(ctx.session), _Legacy(ctx.session))
        entry.uris.add(str(params.uri))
        return EmptyResult()

    async def on_unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        entry = self._legacy.get(_connection_key(ctx.session))
        if entry is not None:
            entry.uris.discard(str(params.uri))
        return EmptyResult()

    def subscribed(self, uri: str) -> bool:
        return any(uri in entry.uris for entry in self._legacy.values())

    # --- publishing ------------------------------------------------------------------------------

    async def resource_updated(self, uri: str) -> None:
        self._record("updated", uri)
        await self.bus.publish(ResourceUpdated(uri=uri))
        for key, entry in list(self._legacy.items()):
            if uri in entry.uris:
                await self._send(key, entry.session.send_resource_updated(uri))

    async def resources_changed(self) -> None:
        self._record("list_changed", "")
        await self.bus.publish(ResourcesListChanged())
        for key, entry in list(self._legacy.items()):
            await self._send(key, entry.session.send_resource_list_changed())

    async def _send(self, key: object, sending: Coroutine[Any, Any, None]) -> None:
        try:
            await sending
        except Exception:
            log.debug("legacy client gone; forgetting it", exc_info=True)
            self._legacy.pop(key, None)

    def _record(self, kind: str, uri: str) -> None:
        self.sent.append((kind, uri))
        del self.sent[:-200]
