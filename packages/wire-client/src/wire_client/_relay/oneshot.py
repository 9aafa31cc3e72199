# SPDX-License-Identifier: MIT
"""A small standard-library HTTP/1.1 transport for one-shot, short-lived processes.

Importing aiohttp costs a one-shot ``wire send`` more than the send itself (its connector builds
SSL contexts at import), so :class:`~wire_client.RelayClient` with ``transport="oneshot"`` speaks
HTTP through this module instead: one connection per request (TCP, TLS for ``https://``, or the
Unix socket of a ``unix://`` relay) on asyncio streams, ``Connection: close``, the whole response
read before returning. No pooling, no keep-alive, no proxies (the aiohttp sessions do not read
proxy settings from the environment either), no compression. Long-lived processes (daemon, MCP)
keep aiohttp; the SSE stream always uses aiohttp.

Failures surface as the exceptions :func:`wire_client._relay.client._translate` maps: ``OSError`` (refused,
reset, DNS, TLS), :class:`InvalidRelayURLError` and :class:`MalformedResponseError`; the caller bounds
the whole exchange with ``asyncio.timeout`` (``TimeoutError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from wire_client.__about__ import __version__

if TYPE_CHECKING:
    import ssl

__all__ = ["DEFAULT_MAX_BODY", "InvalidRelayURLError", "MalformedResponseError", "ResponseTooLargeError", "request"]

_USER_AGENT = f"wire-client/{__version__} (oneshot)"
_MAX_HEAD_BYTES = 64 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: a response body larger than this is refused unless the caller allows more
DEFAULT_MAX_BODY = 1024 * 1024


class InvalidRelayURLError(ValueError):
    """The URL is not an ``http(s)://host[:port]/…`` URL."""


class MalformedResponseError(Exception):
    """The relay's answer was truncated or is not HTTP/1.x."""


class ResponseTooLargeError(MalformedResponseError):
    """The relay's answer is larger than the caller allows; it is not read to the end."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"response too large (over {limit} bytes); refusing to read it")
        self.limit = limit


@functools.cache
def _tls() -> ssl.SSLContext:
    import ssl  # only for https:// relays (loading the CA store is not free)

    return ssl.create_default_context()


async def request(
    method: str,
    url: str,
    *,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    socket_path: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> tuple[int, str]:
    """Send one request and return ``(status, decoded body)``; the caller bounds it (``asyncio.timeout``).

    With ``socket_path`` the connection goes to that Unix socket; ``url`` then only supplies the
    path and the ``Host`` header.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRelayURLError(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidRelayURLError(url) from exc
    tls = parts.scheme == "https" and socket_path is None
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")  # as yarl would: no raw spaces or CR/LF
    query = quote(parts.query, safe="=&%:@!$'()*+,;/?-._~")
    if params:
        query = f"{query}&{urlencode(params)}" if query else urlencode(params)
    if query:
        target = f"{target}?{query}"
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {parts.netloc.rpartition('@')[2]}",
        f"User-Agent: {_USER_AGENT}",
        "Accept: */*",
        "Accept-Encoding: identity",
        "Connection: close",
    ]
    for name, value in (headers or {}).items():
        if any(c in name or c in value for c in "\r\n"):
            raise ValueError(f"newline in the HTTP header {name!r}")  # what aiohttp says, too
        lines.append(f"{name}: {value}")
    if data is not None or method in _BODY_METHODS:
        lines.append(f"Content-Length: {len(data or b'')}")
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (data or b"")
    if socket_path is not None:
        reader, writer = await asyncio.open_unix_connection(socket_path, limit=_MAX_HEAD_BYTES)
    else:
        default_port = 443 if tls else 80
        reader, writer = await asyncio.open_connection(
            parts.hostname, port or default_port, ssl=_tls() if tls else None, limit=_MAX_HEAD_BYTES
        )
    try:
        writer.write(payload)
        await writer.drain()
        status, response_headers = await _read_head(reader)
        body = await _read_body(reader, method, status, response_headers, max_body)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return status, body.decode(_charset(response_headers.get("content-type", "")), errors="replace")


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise ConnectionResetError("the relay closed the connection without answering") from None
            raise MalformedResponseError("truncated response head") from None
        except asyncio.LimitOverrunError:
            raise MalformedResponseError("response head too large") from None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        code = rest.partition(" ")[0]
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise MalformedResponseError(f"not an HTTP/1.x status line: {status_line[:60]!r}")
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise MalformedResponseError(f"bad header line {line[:60]!r}")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        status = int(code)
        if not 100 <= status < 200:  # an interim 1xx answer is followed by the real one
            return status, headers


async def _read_body(
    reader: asyncio.StreamReader, method: str, status: int, headers: Mapping[str, str], max_body: int
) -> bytes:
    if method == "HEAD" or status in (204, 304):
        return b""
    try:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return await _read_chunked(reader, max_body)
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise MalformedResponseError(f"bad Content-Length {length[:30]!r}")
            if int(length) > max_body:
                raise ResponseTooLargeError(max_body)
            return await reader.readexactly(int(length))
        body = await reader.read(max_body + 1)  # no framing: the body runs to the end of the connection
        while len(body) <= max_body:
            more = await reader.read(max_body + 1 - len(body))
            if not more:
                return body
            body += more
        raise ResponseTooLargeError(max_body)
    except asyncio.IncompleteReadError as exc:
        raise MalformedResponseError(f"truncated body ({len(exc.partial)} bytes, expected more)") from None
    except asyncio.LimitOverrunError:
        raise MalformedResponseError("chunk header too large") from None


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise MalformedResponseError(f"bad chunk size {size_line[:20]!r}") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, if any
                pass
            return b"".join(chunks)
        total += size
        if total > max_body:
            raise ResponseTooLargeError(max_body)
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise MalformedResponseError("chunk not terminated by CRLF")


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
            try:
                "".encode(charset)
            except LookupError:
                break
            return charset
    return "utf-8"
