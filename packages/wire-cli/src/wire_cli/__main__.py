# SPDX-License-Identifier: MIT
"""Entry point of the ``wire`` command (``python -m wire_cli`` works too).

Adopts the cwd's session first (before any argument parsing, as the reference does). ``wire --version``,
``wire whoami``, ``wire mcp``, ``wire send`` and the local verbs of ``wire_cli.local_verbs`` are answered without
importing typer (statuslines run whoami several times a second; typer's argument coercion imports
pydantic). Anything unusual falls through to typer.
"""

from __future__ import annotations

import os
import sys

_WHOAMI_FLAGS = frozenset({"--json", "--short", "--colored"})


def _fast_whoami(argv: list[str]) -> int | None:
    if argv[:1] != ["whoami"] or not set(argv[1:]) <= _WHOAMI_FLAGS:
        return None
    from wire_cli import whoami

    flags = set(argv[1:])
    return whoami.run(json_flag="--json" in flags, short="--short" in flags, colored="--colored" in flags)


def _fast_version(argv: list[str]) -> bool:
    if argv not in (["--version"], ["-V"]):
        return False
    from wire_cli.__about__ import __version__

    sys.stdout.write(f"wire {__version__}\n")
    return True


def _fast_send(argv: list[str]) -> bool:
    if argv[:1] != ["send"]:
        return False
    from wire_cli import sending

    parsed = sending.parse_argv(argv[1:])
    if parsed is None:
        return False
    sending.run_send(**parsed)
    return True


def _fast_mcp(argv: list[str]) -> int | None:
    """``wire mcp`` (what ``wire setup`` registers with hosts): hand over to the server before typer loads,
    so a host's spawn → initialize does not pay for the CLI's own imports."""
    if argv[:1] != ["mcp"]:
        return None
    try:
        from wire_mcp.__main__ import main as mcp_main  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None  # the typer command explains how to install wire-mcp
    sys.argv = ["wire mcp", *argv[1:]]
    result: int = mcp_main(argv[1:])
    return result


def main() -> None:
    """Run ``wire`` with ``sys.argv``."""
    try:
        from wire_cli._env import adopt_session

        adopt_session()
        if _fast_version(sys.argv[1:]):
            sys.stdout.flush()
            sys.exit(0)
        code = _fast_whoami(sys.argv[1:])
        if code is None:
            code = _fast_mcp(sys.argv[1:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
        if _fast_send(sys.argv[1:]):
            sys.stdout.flush()
            sys.exit(0)
        from wire_cli.local_verbs import dispatch

        if dispatch(sys.argv[1:]):
            sys.stdout.flush()
            sys.exit(0)
        from wire_cli.app import run

        run()
    except BrokenPipeError:
        # the reader went away (`wire tail | head`): exit quietly instead of a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()
