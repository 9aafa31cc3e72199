# SPDX-License-Identifier: MIT
"""Per-process decisions that run on every invocation (home, cwd session, JSON or prose, colour).

Imports only ``os``, ``sys`` and ``json``: this is on the ``wire whoami`` hot path.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping
    from typing import Any

__all__ = ["adopt_session", "color_wanted", "emoji_env", "home_dirs", "json_wanted", "sessions_root"]

_APP = "wire"


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip() not in ("", "0")


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def json_wanted(flag: bool, env: Mapping[str, str] | None = None, stdout: Any = None) -> bool:
    """``--json``; else prose when ``WIRE_NO_AUTO_JSON`` is set; else JSON whenever stdout is not a TTY."""
    environ = os.environ if env is None else env
    if flag:
        return True
    if environ.get("WIRE_NO_AUTO_JSON", "") != "":
        return False
    return not _isatty(sys.stdout if stdout is None else stdout)


def color_wanted(env: Mapping[str, str] | None = None, stdout: Any = None) -> bool:
    """ANSI colour only on a terminal, never with ``NO_COLOR``; ``WIRE_COLOR=always|never`` decides first."""
    environ = os.environ if env is None else env
    forced = environ.get("WIRE_COLOR", "").strip().lower()
    if forced in ("always", "1", "on"):
        return True
    if forced in ("never", "0", "off") or environ.get("NO_COLOR"):
        return False
    return _isatty(sys.stdout if stdout is None else stdout) and environ.get("TERM", "") != "dumb"


def emoji_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment to judge emoji support from, minus Python's own locale coercion.

    With a C/POSIX locale, CPython (PEP 538) sets ``LC_CTYPE=C.UTF-8`` in its own environment,
    which would make every C-locale terminal look UTF-8 capable.
    """
    names = ("WIRE_EMOJI", "TERM_PROGRAM", "TERM", "LC_ALL", "LC_CTYPE", "LANG")
    view = {name: env[name] for name in names if name in env}
    if view.get("LC_CTYPE") == "C.UTF-8" and not view.get("LC_ALL") and view.get("LANG", "") in ("", "C", "POSIX"):
        view.pop("LC_CTYPE")
    return view


def home_dirs(env: Mapping[str, str] | None = None) -> tuple[str, str, str | None]:
    """``(config_dir, state_dir, root)`` as ``wire_client.WireHome.from_env`` computes them."""
    environ = os.environ if env is None else env
    override = environ.get("WIRE_HOME", "").strip()
    if override:
        base = os.path.abspath(os.path.expanduser(override))
        return os.path.join(base, "config", _APP), os.path.join(base, "state", _APP), base
    import platformdirs

    return (
        platformdirs.user_config_dir(_APP, appauthor=False),
        platformdirs.user_state_dir(_APP, appauthor=False),
        None,
    )


def sessions_root(env: Mapping[str, str] | None = None) -> str:
    _, state_dir, root = home_dirs(env)
    if root is not None:
        parent = os.path.dirname(root)
        return parent if os.path.basename(parent) == "sessions" else os.path.join(root, "sessions")
    return os.path.join(state_dir, "sessions")


def adopt_session(env: MutableMapping[str, str] | None = None, cwd: str | None = None) -> str | None:
    """With no ``WIRE_HOME``, walk the cwd upwards through the session registry; adopt the first match.

    Sets ``WIRE_HOME`` in ``env`` (child processes inherit it) and returns the adopted home. The
    note goes to stderr only when stderr is a terminal or ``WIRE_VERBOSE`` is set, never with
    ``WIRE_QUIET_AUTOSESSION``.
    """
    environ = os.environ if env is None else env
    if environ.get("WIRE_HOME", "").strip():
        return None
    root = sessions_root(environ)
    try:
        with open(os.path.join(root, "registry.json"), encoding="utf-8") as handle:
            data = json.load(handle)
        directory = os.path.abspath(cwd or os.getcwd())
    except (OSError, ValueError):
        return None
    mapping = data.get("by_cwd") if isinstance(data, dict) else None
    if not isinstance(mapping, dict):
        return None
    while True:
        name = mapping.get(directory)
        home = os.path.join(root, name) if isinstance(name, str) and name else None
        if home is not None and os.path.isdir(home):
            environ["WIRE_HOME"] = home
            if not _flag(environ, "WIRE_QUIET_AUTOSESSION") and (_flag(environ, "WIRE_VERBOSE") or _isatty(sys.stderr)):
                sys.stderr.write(f"wire: auto-detected session for {directory} → WIRE_HOME={home}\n")
            return home
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
