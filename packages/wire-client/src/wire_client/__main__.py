# SPDX-License-Identifier: MIT
"""``python -m wire_client daemon [--home PATH]``: run the per-identity daemon in the foreground.

The ``wire`` CLI wraps this as ``wire daemon``; it is here so the daemon can run without the CLI
installed (services, tests, embedders).
"""

from __future__ import annotations

import argparse
import logging
import sys

from wire_client._daemon import run_daemon
from wire_client._errors import WireClientError
from wire_client._home.paths import WireHome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wire_client")
    commands = parser.add_subparsers(dest="command", required=True)
    daemon = commands.add_parser("daemon", help="run the daemon for one identity in the foreground")
    daemon.add_argument("--home", help="WIRE_HOME root (default: $WIRE_HOME or the platform directories)")
    daemon.add_argument("--poll-interval", type=float, default=5.0, help="seconds between polls without a stream")
    daemon.add_argument("--backoff-initial", type=float, default=1.0, help="first reconnect delay in seconds")
    daemon.add_argument("--no-toasts", action="store_true", help="no desktop notifications")
    daemon.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    home = WireHome.at(args.home) if args.home else WireHome.from_env()
    try:
        run_daemon(
            home,
            notifications=not args.no_toasts,
            poll_interval=args.poll_interval,
            backoff_initial=args.backoff_initial,
        )
    except WireClientError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
