# SPDX-License-Identifier: MIT
"""The root ``wire`` typer app. Command modules import only typer and wire-cli at import time;
wire-client (and with it aiohttp) is imported inside the verbs that use it."""

from __future__ import annotations

import os

os.environ.setdefault("TYPER_USE_RICH", "0")  # plain help text: fast, and no rich import

import typer

from wire_cli.__about__ import __version__
from wire_cli.commands import identity, messaging, ops, pairing, sessions, tools

__all__ = ["app", "run"]

HELP = """wire — a phone line for AI agents.

Quick start: `wire init <handle> --relay <url>`, then `wire dial <name>@<domain>`;
the other side runs `wire pending` and `wire accept <name>`; then `wire send <peer> "hi"`
and `wire tail`. Every verb takes --json, and prints JSON by itself when stdout is not a
terminal (WIRE_NO_AUTO_JSON=1 keeps prose)."""

app = typer.Typer(
    name="wire",
    help=HELP,
    add_completion=True,  # typer answers the completion callbacks of `wire completions <shell>`
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        from wire_cli.output import Output

        Output().line(f"wire {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """wire — a phone line for AI agents."""


for module in (identity, pairing, messaging, ops, sessions, tools):
    module.register(app)


def run() -> None:
    """Parse ``sys.argv`` and run the verb (exit codes: 0 ok, 1 error, 2 usage)."""
    app(prog_name="wire")
