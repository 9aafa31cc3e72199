# SPDX-License-Identifier: MIT
"""Session homes on disk: the names under a sessions root and the home each name is.

Each session is a full wire home at ``<sessions root>/<name>`` (``WireHome.sessions_root``). This
is the read side the pairing floor needs (the local mesh); creating, binding and destroying
sessions is :class:`wire_client.SessionRegistry`'s job.
"""

from __future__ import annotations

import re
from pathlib import Path

from wire_client._errors import SessionError
from wire_client._home.paths import WireHome

__all__ = ["registry_path", "sanitize_session_name", "session_home", "session_names"]

_DEFAULT_NAME = "wire-session"
_MAX_NAME = 32


def sanitize_session_name(text: str) -> str:
    """Lowercase; outside ``[a-z0-9_-]`` → ``-``; dashes collapsed and trimmed; ≤32 chars; empty → wire-session."""
    name = re.sub(r"[^a-z0-9_-]", "-", text.lower())
    name = re.sub(r"-{2,}", "-", name).strip("-")[:_MAX_NAME].strip("-")
    return name or _DEFAULT_NAME


def registry_path(root: Path) -> Path:
    """``<sessions root>/registry.json``: ``{"by_cwd": {"/abs/cwd": "<name>"}}``."""
    return root / "registry.json"


def session_home(root: Path, name: str) -> WireHome:
    """The home of session ``name`` (a name that is not already sanitized is refused)."""
    if sanitize_session_name(name) != name:
        raise SessionError(f"{name!r} is not a valid session name (lowercase letters, digits, '_' and '-')")
    return WireHome.at(root / name)


def session_names(root: Path) -> list[str]:
    """Every initialized session under ``root``, sorted."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and WireHome.at(p).is_initialized)
