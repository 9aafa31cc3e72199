# SPDX-License-Identifier: MIT
"""The verbs, one module per noun. Each module has ``register(app)``; none imports wire-client at import time."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["JsonOpt"]

JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json", help="Print JSON (the default when stdout is not a terminal; WIRE_NO_AUTO_JSON=1 opts out)."
    ),
]
