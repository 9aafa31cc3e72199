# SPDX-License-Identifier: MIT
"""What :meth:`WireAgent.attach_relay` checks, and how its failures are named (:class:`AttachRelayError`).

Each failure gets a stable ``reason``: a URL that cannot be a relay is refused before any
connection (``bad_url``); then ``unreachable``, ``tls``, ``timeout``, ``bad_answer`` (not the
relay API, or a slot id/token that is not one) and ``refused`` (an HTTP error status). Nothing is
recorded until the relay handed us a well-formed slot.
"""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

from wire_client._errors import (
    AttachRelayError,
    RelayError,
    RelayProtocolError,
    RelayTimeout,
    RelayUnreachable,
    WireClientError,
)
from wire_client._home.endpoints import Endpoint
from wire_protocol import SLOT_ID_RE

__all__ = ["attach_errors", "checked_attach_url", "checked_slot"]

_TOKEN_RE = re.compile(r"[!-~]{16,256}")


def checked_attach_url(relay_url: str) -> str:
    """``relay_url`` without a trailing slash, or :class:`AttachRelayError` (``bad_url``) when it cannot be a relay."""
    url = relay_url.strip().rstrip("/")
    problem = _url_problem(url)
    if problem is not None:
        raise AttachRelayError(
            f"{relay_url!r} is not a relay URL: {problem} (expected http(s)://host[:port], e.g. https://wireup.net)",
            reason="bad_url",
            relay_url=str(relay_url),
        )
    return url


def _url_problem(url: str) -> str | None:
    if not url:
        return "it is empty"
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return "it holds whitespace or control characters"
    if url.startswith("unix://"):
        return None if len(url) > len("unix://") else "no socket path"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not http or https"
    if not parts.hostname:
        return "no host"
    if parts.username is not None or parts.password is not None:
        return "user info in the URL"
    if parts.query or parts.fragment:
        return "a query or fragment"
    return None


def checked_slot(endpoint: Endpoint) -> Endpoint:
    """The slot a relay allocated, refused (``bad_answer``) unless its id and token have the relay's shape."""
    if not SLOT_ID_RE.fullmatch(endpoint.slot_id) or not _TOKEN_RE.fullmatch(endpoint.slot_token):
        raise AttachRelayError(
            f"{endpoint.relay_url} answered the slot allocation with a malformed slot id or token; "
            "it does not look like a wire relay — check the URL",
            reason="bad_answer",
            relay_url=endpoint.relay_url,
        )
    return endpoint


@contextlib.contextmanager
def attach_errors(url: str, step: str) -> Iterator[None]:
    """Re-raise any failure of ``step`` as :class:`AttachRelayError` with its reason and a next step."""
    try:
        yield
    except AttachRelayError:
        raise
    except WireClientError as exc:
        reason, advice = _classify(exc)
        raise AttachRelayError(
            f"could not attach to {url} ({step}): {exc.message} — {advice}", reason=reason, relay_url=url
        ) from exc


def _classify(exc: WireClientError) -> tuple[str, str]:
    if isinstance(exc, RelayUnreachable) and _is_tls(exc):
        return "tls", "the TLS handshake failed: check the scheme (http vs https) and the relay's certificate"
    if isinstance(exc, RelayUnreachable):
        return "unreachable", f"nothing answered; check the URL and your network (`curl -v {exc.url}/healthz`)"
    if isinstance(exc, RelayTimeout):
        return "timeout", "the relay did not answer in time; try again later"
    if isinstance(exc, RelayProtocolError):
        return "bad_answer", "the answer is not the wire relay API; check the URL"
    if isinstance(exc, RelayError):
        return "refused", f"the relay refused (HTTP {exc.status})"
    return "unreachable", "check the URL and your network"


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # a bounded walk down the cause chain
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError) or "ssl" in type(seen).__name__.lower():
            return True
        if "certificate" in type(seen).__name__.lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
