# SPDX-License-Identifier: AGPL-3.0-or-later
"""One-line start-up errors: what went wrong at start and what to do next, instead of a traceback.

:func:`startup_error` turns the failures a self-hoster meets on the first start (no asyncpg for a
PostgreSQL URL, PostgreSQL unreachable or refusing us, the port taken, the SQLite file not
writable) into one sentence. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import sqlite3

from wire_relay.store import redact_url

__all__ = ["startup_error"]

_PG_AUTH = {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}


def startup_error(exc: BaseException, store_url: str, where: str) -> str | None:
    """The one-line message for ``exc`` raised while opening ``store_url`` or listening on ``where``."""
    store = redact_url(store_url)
    postgres = store_url.startswith(("postgresql:", "postgres:"))
    if isinstance(exc, ImportError) and "asyncpg" in str(exc):
        return "the PostgreSQL store needs asyncpg, which is not installed: pip install 'wire-relay[postgres]'"
    module = type(exc).__module__
    if module.startswith("asyncpg"):
        name = type(exc).__name__
        if name in _PG_AUTH:
            return f"PostgreSQL refused the login for {store}: {_first_line(exc)} — check user and password"
        if name == "InvalidCatalogNameError":
            return f"PostgreSQL has no such database ({store}): {_first_line(exc)} — create it or fix --store"
        return f"PostgreSQL error while opening {store}: {_first_line(exc)}"
    if postgres and isinstance(exc, OSError | TimeoutError):
        reason = _first_line(exc) or type(exc).__name__
        return f"cannot reach PostgreSQL at {store}: {reason} — is the server running and the host/port right?"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: address already in use (another wire-relay?) — stop it or change --bind"
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM) and where:
        return f"cannot listen on {where}: permission denied — use a port above 1023 behind a proxy"
    if isinstance(exc, sqlite3.Error | PermissionError | IsADirectoryError | NotADirectoryError):
        return f"cannot open the SQLite store {store}: {_first_line(exc)} — check the path and its permissions"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""
