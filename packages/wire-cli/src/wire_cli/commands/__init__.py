# SPDX-License-Identifier: MIT
"""The verbs, one module per noun. Each module has ``register(app)``; none imports wire-client at import time."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wire_cli.local_verbs import JSON_FLAG, Argument, Flag, Value

__all__ = ["JsonOpt", "argument", "option"]


def option(spec: Flag | Value) -> Any:
    """The typer option for a :class:`~wire_cli.local_verbs.Flag` or ``Value`` the typer-free path parses too."""
    return typer.Option(*spec.names, help=spec.help)


def argument(spec: Argument) -> Any:
    """The typer argument for a :class:`~wire_cli.local_verbs.Argument` (optional positional)."""
    return typer.Argument(help=spec.help)


#: ``--json`` of every verb; the same :class:`~wire_cli.local_verbs.Flag` the typer-free local verbs parse
JsonOpt = Annotated[bool, option(JSON_FLAG)]
