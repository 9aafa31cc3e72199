# SPDX-License-Identifier: MIT
"""The verbs, one module per noun. Each module has ``register(app)``; none imports wire-client at import time."""

from __future__ import annotations

from typing import Annotated

import typer

from wire_cli.local_verbs import JSON_FLAG

__all__ = ["JsonOpt"]

#: ``--json`` of every verb; the same :class:`~wire_cli.local_verbs.Flag` the typer-free local verbs parse
JsonOpt = Annotated[bool, typer.Option(*JSON_FLAG.names, help=JSON_FLAG.help)]
