# SPDX-License-Identifier: AGPL-3.0-or-later
"""``GET /metrics``: the relay's Prometheus metrics (prometheus-client, one registry per app).

What is measured, and where:

* HTTP requests by route, method and status, and their latency — a middleware outside the error
  middleware, so it sees the final status of every answer (JSON errors and aiohttp's own included);
  the route label is the route's pattern (``/v1/events/{slot_id}``), never the raw path, so a
  client cannot grow the label set;
* rate-limit rejections — every 429 answer, by route;
* store latency by operation — every coroutine method of the store is timed;
* events stored, slots, handles, pair slots (the store's own counters and gauges, read at scrape
  time and cached for a second) and open SSE streams (this process).

Nothing a client sends becomes a label except through these bounded sets.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from wire_relay.log import server_log
from wire_relay.state import STORE, STREAMS
from wire_relay.store import Store, StoreStats

__all__ = ["METRICS", "RelayMetrics", "install_metrics", "route_label"]

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
#: request latency buckets (seconds): the relay answers most requests in well under 10 ms
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0)
STORE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5)
STATS_CACHE_SECONDS = 1.0
UNMATCHED_ROUTE = "unmatched"
STREAM_ROUTE_SUFFIX = "/stream"


class RelayMetrics:
    """The metric objects of one relay application, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "wire_relay_http_requests",
            "HTTP requests answered, by route pattern, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "wire_relay_http_request_duration_seconds",
            "Time from request to answer (SSE streams: until the stream ends), by route pattern and method.",
            ["route", "method"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "wire_relay_rate_limited",
            "Requests refused with 429 (rate limit), by route pattern.",
            ["route"],
            registry=self.registry,
        )
        self.store_latency = Histogram(
            "wire_relay_store_operation_duration_seconds",
            "Time spent in store operations, by operation.",
            ["operation"],
            buckets=STORE_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "wire_relay_store_operation_errors",
            "Store operations that raised, by operation.",
            ["operation"],
            registry=self.registry,
        )
        self.state = StateCollector()
        self.registry.register(self.state)
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram, Counter | None]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children_for(*key)
        count, latency, limited = children
        count.inc()
        latency.observe(seconds)
        if limited is not None:
            limited.inc()

    def _children_for(self, route: str, method: str, status: int) -> tuple[Counter, Histogram, Counter | None]:
        """The labelled metrics of one (route, method, status), looked up once (``labels`` is slow)."""
        shown = method if method in KNOWN_METHODS else "other"
        children = (
            self.requests.labels(route, shown, str(status)),
            self.latency.labels(route, shown),
            self.rate_limited.labels(route) if status == 429 else None,
        )
        if shown == method:  # only bounded keys are cached: routes are patterns, methods known
            self._children[(route, method, status)] = children
        return children

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class StateCollector(Collector):
    """Gauges and counters read from the store and the stream registry at scrape time."""

    def __init__(self) -> None:
        self.stats: StoreStats | None = None
        self.streams = 0
        self.read_at = 0.0

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("wire_relay_streams_active", "Open SSE streams on this process.", value=self.streams)
        stats = self.stats
        if stats is None:
            return
        yield GaugeMetricFamily("wire_relay_slots_active", "Slots in the store.", value=stats.slots_active)
        yield GaugeMetricFamily("wire_relay_handles_active", "Claimed handles.", value=stats.handles_active)
        yield GaugeMetricFamily("wire_relay_pair_slots_open", "Open pairing slots.", value=stats.pair_slots_open)
        yield CounterMetricFamily(
            "wire_relay_events_stored",
            "Events stored since the store was created (relay-wide on a shared PostgreSQL store).",
            value=stats.counters.get("events_posted_total", 0),
        )
        yield CounterMetricFamily(
            "wire_relay_slot_allocations",
            "Slots allocated since the store was created.",
            value=stats.counters.get("slot_allocations_total", 0),
        )


METRICS = web.AppKey("metrics", RelayMetrics)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_label(request: web.Request) -> str:
    """The matched route's pattern, or ``unmatched`` (404/405 answers have no resource)."""
    resource = request.match_info.route.resource
    return UNMATCHED_ROUTE if resource is None else resource.canonical


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request by its final status (outermost middleware)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away (nginx's convention)
        raise
    else:
        status = response.status
        return response
    finally:
        request.app[METRICS].observe(route_label(request), request.method, status, time.perf_counter() - started)


async def metrics_route(request: web.Request) -> web.Response:
    app = request.app
    metrics = app[METRICS]
    state = metrics.state
    now = time.monotonic()
    if state.stats is None or now - state.read_at >= STATS_CACHE_SECONDS:
        state.stats = await app[STORE].stats(time.time())
        state.read_at = now
    state.streams = app[STREAMS].count()
    return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def instrument_store(store: Store, metrics: RelayMetrics) -> None:
    """Time every coroutine method of ``store`` (wrapped on the instance; the class is untouched)."""
    for name, _member in inspect.getmembers(type(store), inspect.iscoroutinefunction):
        if name.startswith("_"):
            continue
        bound = getattr(store, name)
        setattr(store, name, _timed(bound, name, metrics))


def _timed(method: Callable[..., Awaitable[Any]], name: str, metrics: RelayMetrics) -> Callable[..., Awaitable[Any]]:
    histogram = metrics.store_latency.labels(name)
    errors = metrics.store_errors.labels(name)

    @functools.wraps(method)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        except Exception:
            errors.inc()
            raise
        finally:
            histogram.observe(time.perf_counter() - started)

    return timed


async def _instrument_on_startup(app: web.Application) -> None:
    instrument_store(app[STORE], app[METRICS])
    server_log.debug("event=metrics_ready")


def install_metrics(app: web.Application) -> None:
    """Add the metrics middleware (outermost), ``GET /metrics`` and store timing to ``app``.

    Call from ``create_app`` before the app starts; the store is instrumented once it is open.
    """
    app[METRICS] = RelayMetrics()
    app.middlewares.insert(0, metrics_middleware)
    app.router.add_get("/metrics", metrics_route)
    app.on_startup.append(_instrument_on_startup)
