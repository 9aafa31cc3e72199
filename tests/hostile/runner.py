# SPDX-License-Identifier: MIT
"""Real ``wire`` CLI subprocesses for the attack tests, plus direct reads of the home they changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers.cli import WIRE, Wire, base_env

__all__ = ["CLI", "WIRE"]


class CLI(Wire):
    """``wire`` for the home at ``root`` (``WIRE_HOME``); ``env`` adds variables (e.g. ``PYTHONPATH``)."""

    def __init__(self, root: Path, **env: str) -> None:
        user_home = root.parent / f"{root.name}-user"
        user_home.mkdir(parents=True, exist_ok=True)
        super().__init__(root, user_home, **env)
        self.root = root

    def environ(self) -> dict[str, str]:
        """The environment every run gets (for a subprocess started some other way)."""
        return base_env(self.user_home, {**self.env, "WIRE_HOME": str(self.root)})

    def state(self, *parts: str) -> Path:
        return self.root / "state" / "wire" / Path(*parts)

    def config(self, *parts: str) -> Path:
        return self.root / "config" / "wire" / Path(*parts)

    @staticmethod
    def read_json(path: Path) -> Any:
        return json.loads(path.read_text()) if path.exists() else None
