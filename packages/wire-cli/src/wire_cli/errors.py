# SPDX-License-Identifier: MIT
"""wire-client exceptions → :class:`CliError` with the cause and the next step."""

from __future__ import annotations

import errno
import sys

from wire_cli.output import CliError

__all__ = ["translate"]


def translate(exc: BaseException) -> CliError | None:
    """The user-facing form of a library error; ``None`` for a bug (let the traceback show)."""
    if isinstance(exc, CliError):
        return exc
    client = sys.modules.get("wire_client")
    if client is None:
        return _os_error(exc)
    err: CliError | None = None
    if isinstance(exc, client.NotInitializedError):
        err = CliError(
            exc.message,
            hint="run `wire init <handle> --relay <url>` (or `--offline` for keys only)",
            code=exc.code,
        )
    elif isinstance(exc, client.IdentityMismatchError):
        err = CliError(
            exc.message, hint="pick another WIRE_HOME, or `wire session new` for a second identity", code=exc.code
        )
    elif isinstance(exc, client.DaemonAlreadyRunningError):
        err = CliError(exc.message, hint="`wire status` shows it; stop it with `kill <pid>`", code=exc.code)
    elif isinstance(exc, client.PeerNotFoundError):
        err = CliError(
            exc.message, hint="`wire peers` lists who you are paired with; `wire dial <name>` pairs", code=exc.code
        )
    elif isinstance(exc, client.PeerRefusedError):
        err = CliError(
            exc.message,
            hint="`wire peers` shows it as REFUSED; messages queued for it earlier are kept, not sent",
            code=exc.code,
            data={"peer": exc.peer, "refused_at": exc.refused_at},
        )
    elif isinstance(exc, client.TrustConflictError):
        err = CliError(exc.message, hint="`wire peers` shows the existing pin", code=exc.code)
    elif isinstance(exc, client.TransportError):
        err = CliError(
            f"phyllis: silent line — {exc.message}",
            hint=f"check the relay is up: `curl -v {exc.url.rstrip('/')}/healthz`; then retry",
            code=exc.code,
        )
    elif isinstance(exc, client.RelayError):
        hint = "the relay refused the request"
        if exc.status in (401, 403):
            hint = "our slot token was refused; `wire doctor` checks the slot and says how to re-bind"
        elif exc.status == 404:
            hint = "the relay does not know this slot or route; `wire doctor` checks it"
        elif exc.status == 409:
            hint = "that name is taken on this relay; pick another"
        elif exc.status == 429:
            hint = "rate-limited by the relay; wait a minute and retry"
        err = CliError(exc.message if exc.message.startswith("relay") else str(exc), hint=hint, code=exc.code)
    elif isinstance(exc, client.LockTimeoutError):
        err = CliError(
            exc.message,
            hint=f"another wire process holds {exc.lock_path}; retry, or find it with `wire status`",
            code=exc.code,
        )
    elif isinstance(exc, client.WireClientError):
        reason = getattr(exc, "reason", None)
        err = CliError(exc.message, code=exc.code, data={"reason": reason} if isinstance(reason, str) else None)
    return err or _os_error(exc)


def _os_error(exc: BaseException) -> CliError | None:
    if isinstance(exc, BrokenPipeError):
        return None  # the reader went away: __main__ exits quietly
    if isinstance(exc, PermissionError):
        return CliError(str(exc), hint="check the file permissions (wire never needs root)", code="permission_denied")
    if isinstance(exc, OSError):
        hint = _DISK_HINTS.get(exc.errno or 0)
        return CliError(str(exc), hint=hint, code="os_error")
    return None


_DISK_HINTS = {
    errno.ENOSPC: "the disk holding your wire home is full: free some space and run the command again "
    "(nothing was half-written; `wire status` shows what is queued)",
    errno.EROFS: "your wire home is on a read-only file system: remount it read-write (or set WIRE_HOME) and run "
    "the command again (nothing was half-written)",
}
