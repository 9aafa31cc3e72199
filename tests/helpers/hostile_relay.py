# SPDX-License-Identifier: MIT
"""A misbehaving relay and a "victim" Unix socket for the attack tests (tests/hostile/).

:class:`HostileRelay` is an aiohttp server on ``127.0.0.1`` (in a thread with its own loop) that
speaks just enough of the relay API for ``wire init`` to bind to it, and then serves whatever a
test configures: event pages that ignore ``since``/``limit``, events without ``event_id``, huge
integers, oversized bodies, directory records with forged cards. Every request is counted.

:class:`VictimSocket` stands in for a local service a peer would love our client to reach (the
Docker socket): an HTTP server on a Unix socket that records every request it gets. A test
proves an attack closed by showing ``victim.requests`` stays empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = ["HostileRelay", "Recorded", "VictimSocket"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_START_TIMEOUT = 10.0


class _ServerThread:
    """An aiohttp app served from a private event loop in a daemon thread (bounded start/stop)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="hostile-server", daemon=True)

    def start(self, make_site: Callable[[web.AppRunner], web.BaseSite]) -> web.BaseSite:
        self._thread.start()

        async def boot() -> web.BaseSite:
            self._runner = web.AppRunner(self._app, handle_signals=False, access_log=None)
            await self._runner.setup()
            site = make_site(self._runner)
            await site.start()
            return site

        return asyncio.run_coroutine_threadsafe(boot(), self._loop).result(_START_TIMEOUT)

    def stop(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(_START_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_START_TIMEOUT)
        self._loop.close()


class HostileRelay:
    """A relay that lies. Configure ``routes`` (``"GET /v1/events"`` → handler) before or while running.

    Built-in answers: ``/healthz``; ``/v1/info`` 404 (a reference relay, so clients use plain
    listing and polling); ``POST /v1/slot/allocate`` → a fresh valid slot; ``POST
    /v1/handle/claim`` → 201; event stream → 404. ``GET /v1/events/{slot}`` answers
    :attr:`events_body` (raw bytes) whatever ``since``/``limit`` say.
    """

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.posted: list[Any] = []
        self.events_body: bytes = b"[]"
        self.directory: dict[str, Any] = {}
        self.routes: dict[str, Handler] = {}
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._server = _ServerThread(app)
        self.url = ""

    def __enter__(self) -> Self:
        site = self._server.start(lambda runner: web.TCPSite(runner, "127.0.0.1", 0))
        sockets = getattr(site, "_server").sockets  # noqa: B009 - aiohttp keeps the bound socket here
        self.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    @staticmethod
    def json(value: Any, status: int = 200) -> web.Response:
        return web.Response(body=json.dumps(value).encode(), status=status, content_type="application/json")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        route = f"{request.method} {_route_of(path)}"
        self.hits[route] += 1
        custom = self.routes.get(route)
        if custom is not None:
            return await custom(request)
        if route == "GET /healthz":
            return web.Response(text="ok\n")
        if route == "POST /v1/slot/allocate":
            return self.json({"slot_id": secrets.token_hex(16), "slot_token": secrets.token_hex(32)}, 201)
        if route == "POST /v1/handle/claim":
            body = await request.json()
            return self.json(
                {"nick": body.get("nick"), "did": body.get("card", {}).get("did"), "status": "claimed"}, 201
            )
        if route == "GET /v1/events":
            return web.Response(body=self.events_body, content_type="application/json")
        if route == "POST /v1/events":
            body = await request.json()
            self.posted.append(body.get("event"))
            return self.json({"event_id": body.get("event", {}).get("event_id"), "status": "stored"}, 201)
        if route == "GET /.well-known/wire/agent":
            record = self.directory.get(request.query.get("handle", ""))
            if isinstance(record, bytes):
                return web.Response(body=record, content_type="application/json")
            return self.json(record) if record is not None else self.json({"error": "not found"}, 404)
        return self.json({"error": "not found"}, 404)


def _route_of(path: str) -> str:
    """``/v1/events/<slot>`` → ``/v1/events``; ``/v1/events/<slot>/stream`` → ``/v1/events/stream``."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] == "v1" and parts[2] in ("events", "slot") and parts[3] != "allocate":
        return "/".join([*parts[:3], *parts[4:]])
    return path


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class VictimSocket:
    """An HTTP server on a Unix socket in a short temp dir, recording every request it receives."""

    requests: list[Recorded] = field(default_factory=list)
    path: Path = field(init=False)
    _dir: str = field(init=False, default="")
    _server: _ServerThread | None = field(init=False, default=None)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def __enter__(self) -> Self:
        self._dir = tempfile.mkdtemp(prefix="victim-", dir="/tmp")  # AF_UNIX paths are short
        self.path = Path(self._dir) / "docker.sock"
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record)
        self._server = _ServerThread(app)
        self._server.start(lambda runner: web.UnixSite(runner, str(self.path)))
        os.chmod(self.path, 0o600)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    async def _record(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Recorded(request.method, request.path_qs, dict(request.headers), await request.read()))
        return web.json_response({"event_id": "x" * 64, "status": "stored", "deleted": ["everything"]}, status=201)
