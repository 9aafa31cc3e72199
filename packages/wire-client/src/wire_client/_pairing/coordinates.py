# SPDX-License-Identifier: MIT
"""Checking slot coordinates a remote party hands us (pair_drop, pair_drop_ack, wire_close, invites).

A peer's coordinates decide where our client connects and what it sends there, so they are
hostile input. What a remote peer may name:

* ``relay_url``: exactly ``http(s)://host[:port]`` — no user info, path, query, fragment,
  backslash, whitespace or control character; never ``unix://``. Loopback and private-network
  hosts only when the caller says we use such a relay ourselves (a same-machine setup).
* ``slot_id``: exactly the relay's format (32 lowercase hex).
* ``slot_token``: printable ASCII without spaces, at most 256 characters (it becomes a header).
* ``scope``: ``federation`` only. ``uds``/``local``/``lan`` endpoints come solely from the local
  mesh code, which reads a sister home of the same user straight off disk.

Everything here is pure: no files, no sockets.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from wire_client._home.endpoints import Endpoint, Scope
from wire_protocol import JSON, SLOT_ID_RE

__all__ = [
    "MAX_PEER_ENDPOINTS",
    "EndpointRefusedError",
    "PeerCoords",
    "checked_endpoint",
    "is_loopback_url",
    "loopback_allowed",
    "normalized_relay_url",
    "peer_coords",
]

#: a peer advertising more endpoints than this is not honest; the rest are ignored
MAX_PEER_ENDPOINTS = 8
_MAX_TOKEN = 256
_MAX_URL = 2048
_TOKEN_RE = re.compile(r"[!-~]{1,256}")
_HOST_LABEL_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class EndpointRefusedError(ValueError):
    """One peer-supplied coordinate is unusable; ``str(exc)`` says why (never includes a token)."""


def normalized_relay_url(url: JSON, *, allow_loopback: bool = False) -> str:
    """``scheme://host[:port]`` for a peer-supplied relay URL, or :class:`EndpointRefusedError`."""
    if not isinstance(url, str) or not url or len(url) > _MAX_URL:
        raise EndpointRefusedError("relay_url is not a non-empty string")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in url):
        raise EndpointRefusedError("relay_url holds whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointRefusedError(f"relay_url is not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise EndpointRefusedError(f"relay_url scheme {scheme or '(none)'!r} is not http or https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise EndpointRefusedError("relay_url must not carry user info")
    if parts.path not in ("", "/") or parts.query or parts.fragment or url.rstrip("/").endswith(("?", "#")):
        raise EndpointRefusedError("relay_url must be http(s)://host[:port] with no path, query or fragment")
    host = (parts.hostname or "").lower()
    if not host:
        raise EndpointRefusedError("relay_url has no host")
    address = _ip(host)
    if address is None and not all(_HOST_LABEL_RE.fullmatch(label) for label in host.rstrip(".").split(".")):
        raise EndpointRefusedError(f"relay_url host {host!r} is not a host name")
    if not allow_loopback and _is_local_host(host, address):
        raise EndpointRefusedError(f"relay_url host {host!r} is on this machine or a private network")
    if port == 0:
        raise EndpointRefusedError("relay_url port 0 is not a port")
    shown_host = f"[{host}]" if address is not None and address.version == 6 else host
    return f"{scheme}://{shown_host}" + (f":{port}" if port is not None else "")


def is_loopback_url(url: str) -> bool:
    """True for an ``http(s)`` URL whose host is this machine or a private network, or a ``unix://`` URL."""
    if url.startswith("unix://"):
        return True
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and _is_local_host(host, _ip(host))


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_local_host(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    if address is None:
        return host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


def _slot_id(value: JSON) -> str:
    if not isinstance(value, str) or not SLOT_ID_RE.fullmatch(value):
        raise EndpointRefusedError("slot_id is not 32 lowercase hex characters")
    return value


def _token(value: JSON, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise EndpointRefusedError("slot_token is missing")
        return ""
    if not isinstance(value, str) or len(value) > _MAX_TOKEN or not _TOKEN_RE.fullmatch(value):
        raise EndpointRefusedError("slot_token is not printable ASCII of at most 256 characters")
    return value


def checked_endpoint(value: JSON, *, allow_loopback: bool, token_required: bool = True) -> Endpoint:
    """One peer-supplied endpoint object, checked; :class:`EndpointRefusedError` when it is not acceptable."""
    if not isinstance(value, dict):
        raise EndpointRefusedError("endpoint is not an object")
    scope = value.get("scope", Scope.FEDERATION.value)
    if scope != Scope.FEDERATION.value:
        raise EndpointRefusedError(f"scope {scope!r} is never taken from a remote peer")
    return Endpoint(
        relay_url=normalized_relay_url(value.get("relay_url"), allow_loopback=allow_loopback),
        slot_id=_slot_id(value.get("slot_id")),
        slot_token=_token(value.get("slot_token"), required=token_required),
        scope=Scope.FEDERATION,
    )


@dataclass(frozen=True, slots=True)
class PeerCoords:
    """The checked endpoints of a drop/ack body, and what was refused in it (for the rejection log)."""

    endpoints: tuple[Endpoint, ...]
    refused: tuple[str, ...]


def peer_coords(body: JSON, *, allow_loopback: bool) -> PeerCoords:
    """The usable endpoints of a ``pair_drop``/``pair_drop_ack`` body.

    The legacy trio must itself be a valid federation endpoint (a v0.9.3 peer reads only it);
    ``endpoints[]`` entries that fail a check, or are not federation-scoped, are dropped and listed
    in ``refused``. An empty ``endpoints`` tuple means the body gives us nowhere to send.
    """
    if not isinstance(body, dict):
        return PeerCoords((), ("body is not an object",))
    refused: list[str] = []
    try:
        trio = checked_endpoint(
            {name: body.get(name) for name in ("relay_url", "slot_id", "slot_token")}, allow_loopback=allow_loopback
        )
    except EndpointRefusedError as exc:
        return PeerCoords((), (f"legacy coordinates: {exc}",))
    listed = body.get("endpoints")
    chosen: list[Endpoint] = []
    if isinstance(listed, list):
        for position, item in enumerate(listed[:MAX_PEER_ENDPOINTS]):
            try:
                endpoint = checked_endpoint(item, allow_loopback=allow_loopback)
            except EndpointRefusedError as exc:
                refused.append(f"endpoints[{position}]: {exc}")
                continue
            if all(endpoint.key != seen.key for seen in chosen):
                chosen.append(endpoint)
        if len(listed) > MAX_PEER_ENDPOINTS:
            refused.append(f"endpoints: {len(listed) - MAX_PEER_ENDPOINTS} beyond the first {MAX_PEER_ENDPOINTS}")
    return PeerCoords(tuple(chosen) or (trio,), tuple(refused))


def loopback_allowed(own: Iterable[Endpoint]) -> bool:
    """Whether peers may name loopback/private ``http(s)`` relays: only when we use such a relay ourselves."""
    return any(ep.relay_url.startswith(("http://", "https://")) and is_loopback_url(ep.relay_url) for ep in own)
