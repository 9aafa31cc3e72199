# SPDX-License-Identifier: AGPL-3.0-or-later
"""``wire-relay`` — run the relay.

Prints ONE line to stdout once it listens (tests and supervisors parse it)::

    wire-relay listening on http://127.0.0.1:8770 store=sqlite:///... mode=public

Logs (key=value lines) go to stderr. SIGTERM/SIGINT: stop accepting, let in-flight requests finish
(up to ``--shutdown-timeout``), end SSE streams, close the store, exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from wire_relay.__about__ import __version__
from wire_relay.app import create_app
from wire_relay.collector import tune_collector
from wire_relay.config import Mode, RelayConfig, check_install_source
from wire_relay.guard import ConnectionGuard, GuardedTCPSite, GuardedUnixSite, GuardLimits, connection_cap
from wire_relay.log import access_log, server_log
from wire_relay.logs import LOG_FORMATS, AccessLogger, configure_logging
from wire_relay.startup import listen_error, store_error
from wire_relay.store import default_store_url, redact_url
from wire_relay.workers import run_workers, workers_error

__all__ = ["main"]

DEFAULT_BIND = "127.0.0.1:8770"
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wire-relay",
        description="The wire mailbox relay: slots, signed-event store-and-forward, SSE, handle directory, "
        "pairing rendezvous, invites.",
        epilog="Store URLs: sqlite:///ABS/PATH (default: $WIRE_HOME/state/wire-relay/relay.sqlite3, else the "
        "platform state dir), sqlite://:memory:, postgresql://user:pass@host:port/db.",
    )
    parser.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        metavar="HOST:PORT",
        help=f"TCP address (default {DEFAULT_BIND}; port 0 = any free port)",
    )
    parser.add_argument("--store", metavar="URL", help="store URL (see below)")
    parser.add_argument("--public-url", metavar="URL", help="public base URL shown on pages and in A2A cards")
    parser.add_argument(
        "--install-from",
        metavar="URL",
        type=_install_source,
        help="what the landing page and invite scripts install wire from: an https wheel URL you serve, or "
        "git+https://… (default: none — they print no install command)",
    )
    parser.add_argument(
        "--local-only",
        action="store_true",
        help="refuse non-loopback/private binds and serve only the mailbox routes (no pages, directory reads, invites)",
    )
    parser.add_argument(
        "--uds", metavar="PATH", help="listen on a Unix socket (mode 0600) instead of TCP; implies --local-only"
    )
    parser.add_argument(
        "--no-rate-limit", action="store_true", help="disable per-client rate limits (tests, private relays)"
    )
    parser.add_argument(
        "--trusted-proxies",
        type=int,
        default=0,
        metavar="N",
        help="reverse proxies in front of the relay (default 0): the client address is the N-th X-Forwarded-For "
        "entry from the right, and X-Forwarded-Proto is honoured; the per-client connection cap is left to the proxy",
    )
    parser.add_argument(
        "--trust-forwarded-for", action="store_true", help="same as --trusted-proxies 1 (kept for old command lines)"
    )
    parser.add_argument(
        "--accept-unproven-claims",
        action="store_true",
        help="let handle claims without a proof of key possession through (reference clients), recorded as unproven; "
        "a proven claim of the nick replaces an unproven one",
    )
    parser.add_argument(
        "--acked-retention",
        type=float,
        default=86_400.0,
        metavar="SECONDS",
        help="delete acknowledged events this long after the acknowledgement (default 86400)",
    )
    parser.add_argument(
        "--event-retention",
        type=float,
        default=None,
        metavar="SECONDS",
        help="delete unacknowledged events older than this (default: keep them, as the reference does)",
    )
    parser.add_argument(
        "--sweep-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="housekeeping interval: expired pair slots and invites, retention deletes (default 60)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=4096,
        metavar="N",
        help="open connections relay-wide (default 4096, lowered to fit the open-file limit)",
    )
    parser.add_argument(
        "--max-connections-per-client", type=int, default=64, metavar="N", help="open connections per peer address"
    )
    parser.add_argument(
        "--max-pair-slots", type=int, default=10_000, metavar="N", help="open SPAKE2 pair slots (default 10000)"
    )
    parser.add_argument(
        "--max-streams", type=int, default=2048, metavar="N", help="open SSE streams relay-wide (default 2048)"
    )
    parser.add_argument(
        "--max-streams-per-client", type=int, default=32, metavar="N", help="open SSE streams per client (default 32)"
    )
    parser.add_argument(
        "--header-timeout", type=float, default=10.0, metavar="SECONDS", help="time to send request headers"
    )
    parser.add_argument("--body-timeout", type=float, default=30.0, metavar="SECONDS", help="time to send a body")
    parser.add_argument(
        "--idle-timeout", type=float, default=30.0, metavar="SECONDS", help="idle keep-alive connection lifetime"
    )
    parser.add_argument(
        "--sse-keepalive", type=float, default=30.0, metavar="SECONDS", help="SSE keep-alive interval (default 30)"
    )
    parser.add_argument(
        "--shutdown-timeout", type=float, default=10.0, metavar="SECONDS", help="grace period for in-flight requests"
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--log-format", default="text", choices=LOG_FORMATS, help="stderr log lines: key=value text (default) or JSON"
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request (off by default: it costs throughput)"
    )
    parser.add_argument(
        "--event-loop",
        default="asyncio",
        choices=["asyncio", "uvloop"],
        help="event loop: asyncio (default) or uvloop (pip install 'wire-relay[uvloop]')",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="relay processes on one port (SO_REUSEPORT); more than 1 needs a PostgreSQL store",
    )
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # set for --workers' workers
    parser.add_argument("--parent-pid", type=int, default=0, help=argparse.SUPPRESS)  # the supervisor to outlive not
    parser.add_argument("--version", action="version", version=f"wire-relay {__version__}")
    return parser


def _install_source(text: str) -> str:
    try:
        return check_install_source(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory for ``--event-loop`` (``None``: asyncio's default)."""
    if name != "uvloop":
        return None
    try:
        import uvloop  # optional dependency, imported only when asked for
    except ImportError:
        hint = "pip install 'wire-relay[uvloop]'"
        raise ValueError(f"--event-loop uvloop needs uvloop, which is not installed: {hint}") from None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _err(message: str) -> None:
    sys.stderr.write(f"wire-relay: {message}\n")


def _split_bind(bind: str) -> tuple[str, int]:
    host, sep, port_text = bind.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"--bind must be HOST:PORT, got {bind!r}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port_text)


def is_private_host(host: str) -> bool:
    """Loopback, RFC 1918, CGNAT/Tailscale 100.64/10, IPv6 loopback/ULA/link-local, or ``localhost``."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.is_loopback or address.is_link_local:
        return True
    if isinstance(address, ipaddress.IPv4Address):
        return (address.is_private and not address.is_unspecified) or address in ipaddress.ip_network("100.64.0.0/10")
    return address in ipaddress.ip_network("fc00::/7")


def _default_store(mode: Mode) -> str:
    url = default_store_url()
    if mode == "public":
        return url
    path = Path(url.removeprefix("sqlite://"))
    return f"sqlite://{path.parent / ('local' if mode == 'local-only' else 'uds') / path.name}"


async def _serve(args: argparse.Namespace, config: RelayConfig, host: str, port: int) -> int:
    app = create_app(config)
    runner = web.AppRunner(
        app,
        access_log=access_log if args.access_log else None,
        access_log_class=AccessLogger,
        handle_signals=False,
        shutdown_timeout=args.shutdown_timeout,
        keepalive_timeout=config.idle_timeout_seconds,
    )
    where = f"unix://{args.uds}" if args.uds else f"{host}:{port}"
    try:
        await runner.setup()
    except Exception as exc:
        message = store_error(exc, config.store_url)
        if message is None:
            raise
        _err(message)
        await runner.cleanup()
        return 1
    guard = ConnectionGuard(
        GuardLimits(
            max_total=connection_cap(config.max_connections),
            max_per_client=0 if config.trusted_proxies or args.uds else config.max_connections_per_client,
            header_timeout=config.header_timeout_seconds,
        )
    )
    try:
        if args.uds:
            site: web.BaseSite = GuardedUnixSite(runner, args.uds, guard)
            await site.start()
            os.chmod(args.uds, 0o600)
            where = f"unix://{args.uds}"
        else:
            site = GuardedTCPSite(runner, host, port, guard, reuse_port=args.reuse_port)
            await site.start()
            bound = runner.addresses[0]
            bound_host, bound_port = bound[0], bound[1]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            where = f"http://{shown}:{bound_port}"
    except OSError as exc:
        await runner.cleanup()
        _err(listen_error(exc, where))
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.parent_pid:
        watch = asyncio.create_task(_watch_parent(args.parent_pid, stop))
    sys.stdout.write(f"wire-relay listening on {where} store={redact_url(config.store_url)} mode={config.mode}\n")
    sys.stdout.flush()
    server_log.info("event=listening where=%s mode=%s version=%s", where, config.mode, __version__)
    tune_collector()
    await stop.wait()
    if args.parent_pid:
        watch.cancel()
    server_log.info("event=shutdown_begin")
    await runner.cleanup()
    server_log.info("event=shutdown_done")
    return 0


async def _watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    """A ``--workers`` worker stops when its supervisor is gone (it was re-parented)."""
    while os.getppid() == parent_pid:  # noqa: ASYNC110 - no event exists for "the parent died"
        await asyncio.sleep(1.0)
    server_log.warning("event=supervisor_gone parent_pid=%d", parent_pid)
    stop.set()


def main(argv: list[str] | None = None) -> int:
    raw_argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(raw_argv)
    mode: Mode = "uds" if args.uds else "local-only" if args.local_only else "public"
    try:
        host, port = _split_bind(args.bind)
    except ValueError as exc:
        _err(str(exc))
        return EXIT_USAGE
    if mode == "local-only" and not is_private_host(host):
        _err(
            f"--local-only refuses to bind {host!r}: use a loopback, RFC 1918 or 100.64/10 address "
            "(e.g. --bind 127.0.0.1:8771), or drop --local-only to run a public relay"
        )
        return EXIT_USAGE
    store_url = args.store or os.environ.get("WIRE_RELAY_STORE") or _default_store(mode)
    problem = workers_error(args.workers, store_url, args.uds)
    if problem is not None:
        _err(problem)
        return EXIT_USAGE
    if args.workers > 1:
        return run_workers(raw_argv, args.workers, host, port)
    config = RelayConfig(
        store_url=store_url,
        mode=mode,
        public_url=args.public_url,
        install_source=args.install_from,
        sse_keepalive_seconds=args.sse_keepalive,
        rate_limits_enabled=not args.no_rate_limit,
        trusted_proxies=max(args.trusted_proxies, 1 if args.trust_forwarded_for else 0),
        accept_unproven_claims=args.accept_unproven_claims,
        acked_retention_seconds=args.acked_retention,
        event_retention_seconds=args.event_retention,
        sweep_seconds=args.sweep_interval,
        max_connections=args.max_connections,
        max_connections_per_client=args.max_connections_per_client,
        max_streams=args.max_streams,
        max_pair_slots=args.max_pair_slots,
        max_streams_per_client=args.max_streams_per_client,
        header_timeout_seconds=args.header_timeout,
        body_timeout_seconds=args.body_timeout,
        idle_timeout_seconds=args.idle_timeout,
    )
    configure_logging(args.log_level, args.log_format)
    if args.uds:
        uds = Path(args.uds).absolute()
        uds.parent.mkdir(parents=True, exist_ok=True)
        uds.unlink(missing_ok=True)
        args.uds = str(uds)
    try:
        with asyncio.Runner(loop_factory=_loop_factory(args.event_loop)) as runner:
            return runner.run(_serve(args, config, host, port))
    except ValueError as exc:  # bad store URL and the like
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:  # pragma: no cover - signal arrived before handlers were installed
        return 130
    finally:
        if args.uds:
            Path(args.uds).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
