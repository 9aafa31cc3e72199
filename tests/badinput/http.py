# SPDX-License-Identifier: MIT
"""A tiny synchronous HTTP/1.1 client for the bad-input suites.

``http.client`` sends the request target byte-for-byte (no path normalisation, no percent-decoding),
so probes can put ``..``, ``%2e%2e``, NUL escapes or 200 KiB headers on the wire exactly as an
attacker would; aiohttp's client would clean most of that up first.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Http", "Reply"]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float = 0.0
    _json: Any = field(default=None, repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip()

    def json(self) -> Any:
        if self._json is None:
            self._json = json.loads(self.body)
        return self._json

    def is_json_error(self) -> bool:
        """A JSON object body with an ``error`` string (every error the relay sends must look like this)."""
        if self.content_type != "application/json":
            return False
        try:
            value = self.json()
        except ValueError:
            return False
        return isinstance(value, dict) and isinstance(value.get("error"), str)


class Http:
    """One keep-alive connection to ``base_url`` (reconnects when the server closed it)."""

    def __init__(self, base_url: str, timeout: float = 15.0) -> None:
        parts = urlsplit(base_url)
        assert parts.hostname is not None
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes | None = None,
        json_body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        send_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            send_headers.setdefault("Content-Type", "application/json")
        if token is not None:
            send_headers["Authorization"] = f"Bearer {token}"
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self._conn.request(method, target, body=body, headers=send_headers)
                resp = self._conn.getresponse()
                data = resp.read()
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - started
            reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, elapsed)
            if resp.will_close:
                self.close()
            return reply
        raise AssertionError("unreachable")

    def get(self, target: str, **kwargs: Any) -> Reply:
        return self.request("GET", target, **kwargs)

    def post(self, target: str, **kwargs: Any) -> Reply:
        return self.request("POST", target, **kwargs)
