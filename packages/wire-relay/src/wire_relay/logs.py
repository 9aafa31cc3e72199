# SPDX-License-Identifier: AGPL-3.0-or-later
"""Log output for the ``wire-relay`` command: ``text`` (key=value lines) or ``json`` (JSON lines).

Every relay log message is written as ``key=value`` pairs (see :mod:`wire_relay.log`); the JSON
formatter turns those pairs into fields, so both formats carry the same information and a log
shipper needs no parser of its own. The access log (``--access-log``) goes through the same
formatters: one ``event=access`` record per answered request with the route *pattern* (never the
raw path, which can carry an invite token), status, bytes, duration and the client address.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Literal

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from wire_relay.log import KeyValueFormatter
from wire_relay.metrics import UNMATCHED_ROUTE, route_label
from wire_relay.ratelimit import client_address
from wire_relay.state import CONFIG

__all__ = ["LOG_FORMATS", "AccessLogger", "JsonLinesFormatter", "LogFormat", "configure_logging", "kv"]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

_PAIR = re.compile(r'(?P<key>[A-Za-z_][\w.]*)=(?P<value>"(?:[^"\\]|\\.)*"|\S*)(?:\s+|$)')
_INT = re.compile(r"-?\d{1,18}")
_FLOAT = re.compile(r"-?\d{1,12}\.\d{1,9}")
_NEEDS_QUOTES = re.compile(r'[\s"=\\]')


def kv(**fields: object) -> str:
    """``key=value`` pairs; values with spaces, quotes or ``=`` are written as JSON strings."""
    parts = []
    for key, value in fields.items():
        text = str(value)
        if not text or _NEEDS_QUOTES.search(text):
            text = json.dumps(text, ensure_ascii=False)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def _parse_pairs(message: str) -> dict[str, object] | None:
    """The fields of a ``key=value`` message, or None when the message is not entirely pairs."""
    fields: dict[str, object] = {}
    position = 0
    while position < len(message):
        match = _PAIR.match(message, position)
        if match is None or match.end() == position:
            return None
        raw = match.group("value")
        value: object = raw
        if raw.startswith('"'):
            try:
                value = json.loads(raw)
            except ValueError:
                return None
        elif _INT.fullmatch(raw):
            value = int(raw)
        elif _FLOAT.fullmatch(raw):
            value = float(raw)
        fields[match.group("key")] = value
        position = match.end()
    return fields


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, then the message's own fields.

    A message that is not made of ``key=value`` pairs (a third-party library's) is kept whole
    under ``msg``; an exception is added as ``exc`` (the formatted traceback, one string).
    """

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        entry: dict[str, object] = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        message = record.getMessage()
        fields = _parse_pairs(message)
        if fields is None:
            entry["msg"] = message
        else:
            for key, value in fields.items():
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class AccessLogger(AbstractAccessLogger):
    """aiohttp access logger writing one ``event=access`` key=value record per request."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route, remote = UNMATCHED_ROUTE, request.remote or "local"
        if isinstance(request, web.Request):
            route, remote = route_label(request), client_address(request, request.app[CONFIG])
        self.logger.info(
            "%s",
            kv(
                event="access",
                remote=remote[:64],
                method=request.method[:16],
                route=route,
                status=response.status,
                bytes=response.body_length,
                duration_ms=f"{time * 1000:.3f}",
            ),
        )


def configure_logging(level: str, log_format: LogFormat) -> None:
    """Send every log record to stderr in ``log_format`` at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if log_format == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
