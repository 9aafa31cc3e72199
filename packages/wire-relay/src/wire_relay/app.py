# SPDX-License-Identifier: AGPL-3.0-or-later
"""``create_app(config)``: the aiohttp application (routes by mode, store lifetime, background tasks)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from wire_relay import (
    routes_a2a,
    routes_deposits,
    routes_directory,
    routes_events,
    routes_pages,
    routes_pairing,
    sse,
)
from wire_relay.config import RelayConfig
from wire_relay.errors import error_middleware
from wire_relay.log import server_log
from wire_relay.metrics import install_metrics
from wire_relay.state import BATCH_GATE, CONFIG, HISTORY, STORE, STREAMS, StatsHistory, StreamRegistry
from wire_relay.store import Store, open_store

__all__ = ["create_app"]


def create_app(config: RelayConfig, *, store: Store | None = None) -> web.Application:
    """Build the relay application.

    The store is opened from ``config.store_url`` at start-up and closed at clean-up, unless an
    already-open ``store`` is passed (tests); then the caller owns it. ``config.mode`` other than
    ``public`` leaves out the pages, the directory reads and the invite routes (protocol notes §3.1).
    """
    app = web.Application(
        middlewares=[error_middleware],
        client_max_size=max(config.max_body_bytes, config.max_batch_body_bytes) + 1,
    )
    app[CONFIG] = config
    app[STREAMS] = StreamRegistry()
    app[HISTORY] = StatsHistory(config.stats_sample_seconds)
    app[BATCH_GATE] = asyncio.Semaphore(config.max_concurrent_batches)
    if store is not None:
        app[STORE] = store
    for table in (
        routes_pages.routes,
        routes_events.routes,
        routes_deposits.routes,
        sse.routes,
        routes_pairing.routes,
        routes_directory.routes,
    ):
        app.add_routes(table)
    if config.public_routes:
        for table in (
            routes_pages.public_routes,
            routes_pairing.public_routes,
            routes_directory.public_routes,
            routes_a2a.public_routes,
        ):
            app.add_routes(table)
    install_metrics(app)
    app.cleanup_ctx.append(_store_ctx(store is None))
    app.cleanup_ctx.append(_background_ctx)
    app.on_shutdown.append(_close_streams)
    return app


def _store_ctx(owned: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if owned:
            app[STORE] = await open_store(app[CONFIG].store_url)
        try:
            yield
        finally:
            if owned:
                await app[STORE].close()
                server_log.info("event=store_closed")

    return ctx


async def _background_ctx(app: web.Application) -> AsyncIterator[None]:
    tasks = [
        asyncio.create_task(_every(app[CONFIG].stats_sample_seconds, _sample, app), name="wire-relay-stats"),
        asyncio.create_task(_every(app[CONFIG].sweep_seconds, _sweep, app), name="wire-relay-sweep"),
    ]
    await _sample(app)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _every(seconds: float, job: Callable[[web.Application], Awaitable[None]], app: web.Application) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await job(app)
        except Exception:  # noqa: BLE001 - a failed sample/sweep must not kill the loop
            server_log.exception("event=background_job_failed job=%s", getattr(job, "__name__", job))


async def _sample(app: web.Application) -> None:
    config = app[CONFIG]
    now = config.clock()
    app[HISTORY].record(now, await app[STORE].stats(now), app[STREAMS].count())


#: purge rounds per sweep (each deletes at most a few thousand events, then yields to requests)
MAX_PURGE_ROUNDS = 50


async def _sweep(app: web.Application) -> None:
    config, store = app[CONFIG], app[STORE]
    await store.sweep(config.clock())
    for _round in range(MAX_PURGE_ROUNDS):
        deleted = await store.purge(
            config.clock(),
            acked_retention=config.acked_retention_seconds,
            event_retention=config.event_retention_seconds,
        )
        if deleted == 0:
            break
        await asyncio.sleep(0)


async def _close_streams(app: web.Application) -> None:
    app[STREAMS].close_all()
