# SPDX-License-Identifier: AGPL-3.0-or-later
"""Connection guard: caps on open connections and a deadline for the first request's headers.

aiohttp has an idle (keep-alive) timeout but no cap on connections and no bound on how long a
client may take to send its headers, so ~1,000 half-sent requests used to exhaust a relay's file
descriptors (slowloris). :class:`ConnectionGuard` wraps aiohttp's protocol factory:

* relay-wide and per-peer-address caps: a connection over either cap is answered at once with
  ``503`` JSON and ``Retry-After`` (without reading its request), half-closed, and dropped within
  :data:`REJECT_LINGER_SECONDS`; past :data:`MAX_REJECTING` such connections they are dropped bare;
* a header deadline: a connection that has not delivered its first request's headers within
  ``header_timeout`` gets ``408`` and is closed. Later requests on a kept-alive connection are bounded
  by aiohttp's keep-alive timeout (set to the idle timeout), which counts from the previous response
  and is not extended by dribbled bytes; request bodies are bounded by the routes (``read_body``).

The wrapper adds one Python call per ``data_received`` and nothing per request.
"""

from __future__ import annotations

import asyncio
import json
import resource
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

__all__ = [
    "REJECT_LINGER_SECONDS",
    "ConnectionGuard",
    "GuardLimits",
    "GuardedTCPSite",
    "GuardedUnixSite",
    "connection_cap",
]

REJECT_LINGER_SECONDS = 1.0
MAX_REJECTING = 256
RETRY_AFTER_SECONDS = 5


def _raw_response(status: str, message: str, extra_headers: str = "") -> bytes:
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Cache-Control: no-store\r\n{extra_headers}Connection: close\r\n\r\n"
    )
    return head.encode() + body


_BUSY = _raw_response(
    "503 Service Unavailable",
    "too many connections; retry later",
    f"Retry-After: {RETRY_AFTER_SECONDS}\r\n",
)
_SLOW = _raw_response("408 Request Timeout", "request headers not received in time")


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """``max_per_client`` 0 = no per-client cap (behind a proxy every connection has its address)."""

    max_total: int
    max_per_client: int
    header_timeout: float


class ConnectionGuard:
    """Counts connections by peer address and admits or refuses new ones (one per event loop)."""

    def __init__(self, limits: GuardLimits) -> None:
        self.limits = limits
        self.open_total = 0
        self.rejecting = 0
        self.refused_total = 0
        self.header_timeouts_total = 0
        self._per_client: dict[str, int] = {}

    def factory(self, make_protocol: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for ``loop.create_server`` that guards ``make_protocol``'s protocols."""
        return lambda: _GuardedProtocol(self, make_protocol)

    def admit(self, client: str) -> bool:
        limits = self.limits
        if self.open_total >= limits.max_total:
            return False
        count = self._per_client.get(client, 0)
        if limits.max_per_client and count >= limits.max_per_client:
            return False
        self._per_client[client] = count + 1
        self.open_total += 1
        return True

    def release(self, client: str) -> None:
        self.open_total -= 1
        count = self._per_client.get(client, 1) - 1
        if count > 0:
            self._per_client[client] = count
        else:
            self._per_client.pop(client, None)


class _GuardedProtocol(asyncio.Protocol):
    """Forwards to aiohttp's protocol once admitted; enforces the first request's header deadline."""

    __slots__ = ("_client", "_guard", "_inner", "_lingering", "_make_inner", "_tail", "_timer", "_transport")

    def __init__(self, guard: ConnectionGuard, make_inner: Callable[[], asyncio.Protocol]) -> None:
        self._guard = guard
        self._make_inner = make_inner
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._client: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""
        self._lingering = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        client = str(peer[0]) if isinstance(peer, tuple) and peer else "local"
        guard = self._guard
        if not guard.admit(client):
            guard.refused_total += 1
            self._refuse()
            return
        self._client = client
        self._inner = self._make_inner()
        self._timer = asyncio.get_running_loop().call_later(guard.limits.header_timeout, self._headers_late)
        self._inner.connection_made(transport)

    def _refuse(self) -> None:
        transport = self._transport
        assert transport is not None  # noqa: S101 - set by connection_made
        guard = self._guard
        if guard.rejecting >= MAX_REJECTING:
            transport.abort()
            return
        guard.rejecting += 1
        self._lingering = True
        transport.write(_BUSY)
        if transport.can_write_eof():
            transport.write_eof()
        self._timer = asyncio.get_running_loop().call_later(REJECT_LINGER_SECONDS, transport.abort)

    def _headers_late(self) -> None:
        self._timer = None
        self._guard.header_timeouts_total += 1
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_SLOW)
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        inner = self._inner
        if inner is None:
            return  # refused: read and drop, so closing sends FIN rather than RST
        if self._timer is not None:
            window = self._tail + data
            if b"\r\n\r\n" in window or b"\n\n" in window:
                self._timer.cancel()
                self._timer = None
                self._tail = b""
            else:
                self._tail = window[-3:]
        inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._inner is None:
            if self._lingering:
                self._lingering = False
                self._guard.rejecting -= 1
            return
        if self._client is not None:
            self._guard.release(self._client)
            self._client = None
        self._inner.connection_lost(exc)


class GuardedTCPSite(web.TCPSite):
    """:class:`aiohttp.web.TCPSite` whose connections pass through a :class:`ConnectionGuard`."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard, *, reuse_port: bool = False
    ) -> None:
        super().__init__(runner, host, port, reuse_address=True, reuse_port=reuse_port)
        self.guard = guard
        self.reuse_port = reuse_port

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner (stopped by runner.cleanup)
        server = self._runner.server
        assert server is not None  # noqa: S101 - the runner is set up before sites start
        self._server = await asyncio.get_running_loop().create_server(
            self.guard.factory(server),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=True,
            reuse_port=self.reuse_port or None,
        )


class GuardedUnixSite(web.UnixSite):
    """:class:`aiohttp.web.UnixSite` whose connections pass through a :class:`ConnectionGuard`."""

    def __init__(self, runner: web.BaseRunner, path: str, guard: ConnectionGuard) -> None:
        super().__init__(runner, path)
        self.guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None  # noqa: S101 - the runner is set up before sites start
        self._server = await asyncio.get_running_loop().create_unix_server(
            self.guard.factory(server), self._path, backlog=self._backlog
        )


def connection_cap(configured: int, reserve: int = 64) -> int:
    """``configured``, lowered so open connections always leave ``reserve`` file descriptors free."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(16, min(configured, soft - reserve))
