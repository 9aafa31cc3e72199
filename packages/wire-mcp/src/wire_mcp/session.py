# SPDX-License-Identifier: MIT
"""Which wire home this MCP server serves: ``WIRE_HOME``, else the cwd session registry, else the default.

Same rule as the CLI's session auto-adopt (features notes §2): an explicit ``WIRE_HOME`` wins; otherwise
the cwd and each parent are looked up in ``registry.json``; the first registered session that exists is
used. Nothing is printed (stdout belongs to the MCP transport; features notes §11.9).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wire_client import SessionRegistry, WireClientError, WireHome

__all__ = ["HomeChoice", "resolve_home"]


@dataclass(frozen=True, slots=True)
class HomeChoice:
    """The home in use and why: ``env`` (WIRE_HOME), ``session`` (cwd registry) or ``default``."""

    home: WireHome
    source: Literal["env", "session", "default"]
    session: str | None = None

    @property
    def path(self) -> str:
        return str(self.home.root or self.home.config_dir)


def resolve_home(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> HomeChoice:
    """Pick the home for this process (no side effects)."""
    environ = os.environ if env is None else env
    if environ.get("WIRE_HOME", "").strip():
        return HomeChoice(WireHome.from_env(environ), "env")
    default = WireHome.from_env(environ)
    registry = SessionRegistry.for_home(default)
    try:
        name = registry.find_for_cwd(cwd)
        if name is not None:
            return HomeChoice(registry.home(name), "session", name)
    except (WireClientError, OSError):
        pass  # an unreadable registry must not stop the server: fall back to the default home
    return HomeChoice(default, "default")
