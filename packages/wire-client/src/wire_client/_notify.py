# SPDX-License-Identifier: MIT
"""OS notifications through the platform's notifier (``notify-send`` / ``osascript``).

Never fatal: a missing notifier, a headless box or a failing command only logs at debug level.
``WIRE_NO_TOASTS=1`` (any non-empty value other than ``0``) silences everything.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping

from wire_protocol import sanitize_display_text

__all__ = ["notifications_enabled", "toast", "toast_in_background"]

log = logging.getLogger(__name__)

_NOTIFIER_TIMEOUT = 5.0
#: toasts in flight at once; more are dropped (a hung notifier must not pile up threads)
_MAX_IN_FLIGHT = 2
_in_flight = threading.BoundedSemaphore(_MAX_IN_FLIGHT)


def notifications_enabled(env: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if env is None else env
    return environ.get("WIRE_NO_TOASTS", "").strip() in ("", "0")


def _command(title: str, body: str, platform: str = sys.platform) -> list[str] | None:
    if platform == "darwin":
        osascript = shutil.which("osascript")
        if osascript is None:
            return None

        def quote(text: str) -> str:
            return text.replace("\\", "\\\\").replace('"', '\\"')

        return [osascript, "-e", f'display notification "{quote(body)}" with title "{quote(title)}"']
    if platform.startswith("linux") or "bsd" in platform:
        notify_send = shutil.which("notify-send")
        if notify_send is None:
            return None
        return [notify_send, "--app-name=wire", "--icon=mail-message-new", title, body]
    return None


def toast(title: str, body: str) -> bool:
    """Show a desktop notification; returns whether one was attempted successfully. Blocking: run in a thread."""
    if not notifications_enabled():
        return False
    command = _command(sanitize_display_text(title, 120), sanitize_display_text(body, 240))
    if command is None:
        log.debug("no desktop notifier on this system; toast skipped: %s", title)
        return False
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_NOTIFIER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("notifier failed: %s", exc)
        return False
    return completed.returncode == 0


def toast_in_background(title: str, body: str) -> bool:
    """Show a notification from a daemon thread; ``False`` when it was dropped (too many in flight).

    Not the event loop's executor: ``asyncio.run`` waits for that executor's queued work when the
    loop closes, so a slow or hung notifier would keep a stopping daemon alive for every toast
    still queued. A daemon thread is never waited for.
    """
    if not notifications_enabled() or not _in_flight.acquire(blocking=False):
        return False

    def run() -> None:
        try:
            toast(title, body)
        finally:
            _in_flight.release()

    threading.Thread(target=run, name="wire-toast", daemon=True).start()
    return True
