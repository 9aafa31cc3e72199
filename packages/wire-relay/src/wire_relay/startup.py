# SPDX-License-Identifier: AGPL-3.0-or-later
"""One-line start-up errors: what went wrong at start and what to do next, instead of a traceback.

:func:`store_error` and :func:`listen_error` turn the failures a self-hoster meets on the first
start (no asyncpg for a PostgreSQL URL, PostgreSQL unreachable or refusing us, the port taken, the
SQLite file not writable) into one sentence. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import sqlite3

from wire_relay.store import redact_url

__all__ = ["listen_error", "store_error"]

_PG_AUTH = {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}


def store_error(exc: BaseException, store_url: str) -> str | None:
    """The one-line message for ``exc`` raised while opening the store at ``store_url``."""
    store = redact_url(store_url)
    if isinstance(exc, ImportError) and "asyncpg" in str(exc):
        return "the PostgreSQL store needs asyncpg, which is not installed: pip install 'wire-relay[postgres]'"
    if type(exc).__module__.startswith("asyncpg"):
        name = type(exc).__name__
        if name in _PG_AUTH:
            return f"PostgreSQL refused the login for {store}: {_first_line(exc)} — check user and password"
        if name == "InvalidCatalogNameError":
            return f"PostgreSQL has no such database ({store}): {_first_line(exc)} — create it or fix --store"
        return f"PostgreSQL error while opening {store}: {_first_line(exc)}"
    if store_url.startswith(("postgresql:", "postgres:")):
        if isinstance(exc, OSError | TimeoutError):
            reason = _first_line(exc) or type(exc).__name__
            return f"cannot reach PostgreSQL at {store}: {reason} — is the server running and the host/port right?"
        return None
    if isinstance(exc, sqlite3.Error | OSError):
        return f"cannot open the SQLite store {store}: {_first_line(exc)} — check the path and its permissions"
    return None


def listen_error(exc: OSError, where: str) -> str:
    """The one-line message for a failed listen on ``where`` (TCP ``host:port`` or a socket path)."""
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: address already in use (another wire-relay?) — stop it or change --bind"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot listen on {where}: permission denied — use a port above 1023 behind a proxy"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: no such address on this machine — check --bind"
    return f"cannot listen on {where}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""
