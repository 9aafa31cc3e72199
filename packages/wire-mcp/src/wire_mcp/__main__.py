# SPDX-License-Identifier: MIT
"""``wire-mcp`` / ``wire mcp``: serve the wire MCP server over stdio.

stdout carries only MCP frames; diagnostics go to stderr and stay quiet unless ``WIRE_VERBOSE`` is set.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the stdio server until the client closes stdin. Returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-V", "--version"):
        from wire_mcp.__about__ import __version__

        sys.stdout.write(f"wire-mcp {__version__}\n")
        return 0
    if args and args[0] in ("-h", "--help"):
        sys.stdout.write("usage: wire-mcp  (MCP server on stdio; WIRE_HOME selects the identity)\n")
        return 0
    verbose = bool(os.environ.get("WIRE_VERBOSE"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr)

    import anyio

    from wire_mcp.server import build_server

    server = build_server()
    if verbose:
        choice = server.runtime.choice
        sys.stderr.write(f"wire mcp: serving {choice.path} ({choice.source})\n")
    try:
        anyio.run(server.run_stdio_async)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
