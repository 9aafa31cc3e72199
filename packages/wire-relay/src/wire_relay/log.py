# SPDX-License-Identifier: AGPL-3.0-or-later
"""Named loggers per subsystem, and the key=value formatter ``__main__`` installs.

Library code only calls these loggers; it never attaches handlers (``__main__`` does). Nothing logs
a slot token: auth failures log the slot id and the verdict only.
"""

from __future__ import annotations

import logging
import time

__all__ = ["KeyValueFormatter", "access_log", "http_log", "server_log", "sse_log", "store_log"]

server_log = logging.getLogger("wire_relay.server")
http_log = logging.getLogger("wire_relay.http")
access_log = logging.getLogger("wire_relay.access")
sse_log = logging.getLogger("wire_relay.sse")
store_log = logging.getLogger("wire_relay.store")


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=... logger=... <message>`` where messages are themselves ``key=value`` pairs."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = f"ts={stamp}.{int(record.msecs):03d}Z level={record.levelname.lower()} logger={record.name} "
        line += record.getMessage()
        if record.exc_info:
            line += " exc=" + repr(self.formatException(record.exc_info))
        return line
