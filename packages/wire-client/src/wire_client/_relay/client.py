# SPDX-License-Identifier: MIT
"""A client for every relay route the library uses.

Works against our relay (feature discovery via ``GET /v1/info``: SSE replay, batch posting) and
falls back cleanly to the reference relay's API when ``/v1/info`` is absent. ``unix:///path``
relay URLs are spoken over a Unix-domain socket. Transport failures are translated into the
:mod:`wire_client` tree (``raise ... from``); slot tokens are never logged.

Two transports, same routes, verdicts and errors: ``"aiohttp"`` (the default: pooled keep-alive
connections, for daemons, MCP servers and embedders) and ``"oneshot"`` (a stdlib connection per
request, :mod:`wire_client._relay.oneshot`, for short-lived processes such as a CLI ``wire send``, which
would otherwise spend most of its wall time importing aiohttp). aiohttp is imported only when a
session is actually created; the SSE :meth:`RelayClient.stream` always uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import quote

from wire_client._errors import (
    RelayError,
    RelayProtocolError,
    RelayTimeout,
    RelayUnreachable,
    TransportError,
    WireClientError,
)
from wire_client._home.endpoints import Endpoint, Scope
from wire_client._relay import oneshot as _oneshot
from wire_client._relay.sse import SseParser, SseTooLargeError
from wire_protocol import JSON, LIST_LIMIT_MAX, CanonicalizationError, JSONObject, SigningKey, build_claim_proof, loads

if TYPE_CHECKING:
    import aiohttp

__all__ = ["PostResult", "RelayClient", "RelayInfo", "RelayPool", "StreamMessage", "Transport"]

#: ``"aiohttp"``: pooled sessions for long-lived processes; ``"oneshot"``: stdlib, one connection per request
Transport = Literal["aiohttp", "oneshot"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
PROBE_TIMEOUT = 0.5
#: an event listing may be this large (a page of 200 events at the relay's 256 KiB event limit fits)
LIST_MAX_BYTES = 64 * 1024 * 1024
#: one SSE message (one event) may be this large
STREAM_MESSAGE_MAX_BYTES = 1024 * 1024
STREAM_READ_TIMEOUT = 90.0
_UNIX_PREFIX = "unix://"


@dataclass(frozen=True, slots=True)
class RelayInfo:
    """What a relay says about itself. A reference relay (no ``/v1/info``) has no features."""

    features: frozenset[str] = frozenset()
    version: str | None = None
    raw: JSONObject = field(default_factory=dict)

    @property
    def is_reference(self) -> bool:
        return not self.raw

    def supports(self, feature: str) -> bool:
        return feature in self.features


@dataclass(frozen=True, slots=True)
class PostResult:
    """The relay's verdict for one posted event: ``stored`` or ``duplicate`` (or a batch error status)."""

    event_id: str | None
    status: str


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One SSE message: ``event_id`` is the ``id:`` field (None from a relay without replay)."""

    event_id: str | None
    data: JSON


@contextlib.contextmanager
def _translate(url: str, what: str) -> Iterator[None]:
    """Map transport (aiohttp, oneshot, asyncio, OS) failures onto the wire-client exception tree."""
    try:
        yield
    except WireClientError:
        raise
    except Exception as exc:
        translated = _translated(exc, url, what)
        if translated is None:
            raise
        raise translated from exc


def _translated(exc: Exception, url: str, what: str) -> WireClientError | None:
    if isinstance(exc, TimeoutError):  # asyncio's and aiohttp's (ServerTimeoutError) timeouts included
        return RelayTimeout(f"timeout: {what} at {url} got no answer in time", url=url)
    if "aiohttp" in sys.modules:  # an aiohttp exception can only exist once aiohttp is loaded
        import aiohttp

        if isinstance(exc, aiohttp.InvalidURL):
            return RelayUnreachable(f"connect error: {url!r} is not a valid relay URL", url=url)
        if isinstance(exc, aiohttp.ClientConnectionError):
            return RelayUnreachable(f"connect error: couldn't reach {url} for {what} ({exc})", url=url)
        if isinstance(exc, aiohttp.ClientPayloadError):
            return RelayProtocolError(f"{what} at {url}: truncated or malformed response ({exc})", url=url)
        if isinstance(exc, aiohttp.ClientError):
            return TransportError(f"{what} at {url} failed: {exc}", url=url)
    if isinstance(exc, _oneshot.InvalidRelayURLError):
        return RelayUnreachable(f"connect error: {url!r} is not a valid relay URL", url=url)
    if isinstance(exc, OSError):  # ConnectionError, DNS, TLS: all OSError
        return RelayUnreachable(f"connect error: couldn't reach {url} for {what} ({exc})", url=url)
    if isinstance(exc, _oneshot.ResponseTooLargeError):
        return RelayProtocolError(f"{what} at {url}: {exc}", url=url)
    if isinstance(exc, _oneshot.MalformedResponseError):
        return RelayProtocolError(f"{what} at {url}: truncated or malformed response ({exc})", url=url)
    return None


def _segment(value: str) -> str:
    """One URL path segment, percent-quoted: no ``/``, ``..``, ``?`` or ``#`` can change the route."""
    return quote(value, safe="")


class RelayClient:
    """Talks to one relay. Use as ``async with RelayClient(url) as relay: ...`` or close it explicitly.

    ``transport="oneshot"`` (for short-lived processes) skips aiohttp for everything but
    :meth:`stream`; see the module docstring.
    """

    def __init__(self, relay_url: str, *, timeout: float = DEFAULT_TIMEOUT, transport: Transport = "aiohttp") -> None:
        if transport not in ("aiohttp", "oneshot"):
            raise ValueError(f"unknown relay transport {transport!r} (expected 'aiohttp' or 'oneshot')")
        self.relay_url = relay_url.rstrip("/")
        self.transport: Transport = transport
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._info: RelayInfo | None = None
        if self.relay_url.startswith(_UNIX_PREFIX):
            self._socket_path: str | None = self.relay_url[len(_UNIX_PREFIX) :]
            self._base = "http://localhost"
        else:
            self._socket_path = None
            self._base = self.relay_url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        import aiohttp  # here, not at module level: a oneshot client never needs it

        if self._session is None or self._session.closed:
            connector: aiohttp.BaseConnector
            if self._socket_path is not None:
                connector = aiohttp.UnixConnector(path=self._socket_path)
            else:
                connector = aiohttp.TCPConnector(limit=64, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self._timeout), raise_for_status=False
            )
        return self._session

    @staticmethod
    def _auth(endpoint: Endpoint) -> dict[str, str]:
        return {"Authorization": f"Bearer {endpoint.slot_token}"}

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: JSON | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        request_timeout: float | None = None,
        ok: Sequence[int] = (200, 201),
        max_body: int = _oneshot.DEFAULT_MAX_BODY,
    ) -> tuple[int, JSON, str]:
        """One request; the answer is read only up to ``max_body`` bytes (a relay is not trusted with our memory)."""
        url = self._base + path
        what = f"{method} {path.split('?', maxsplit=1)[0]}"
        all_headers = dict(headers or {})
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        with _translate(self.relay_url, what):
            if self.transport == "oneshot":
                async with asyncio.timeout(self._timeout if request_timeout is None else request_timeout):
                    status, text = await _oneshot.request(
                        method,
                        url,
                        data=data,
                        headers=all_headers,
                        params=params,
                        socket_path=self._socket_path,
                        max_body=max_body,
                    )
            else:
                status, text = await self._aiohttp_request(
                    method,
                    url,
                    data=data,
                    headers=all_headers,
                    params=params,
                    request_timeout=request_timeout,
                    max_body=max_body,
                )
        parsed: JSON = None
        if text.strip():
            try:
                parsed = loads(text)
            except CanonicalizationError:
                parsed = None
        if status not in ok:
            raise RelayError.from_body(status, parsed, text, url=self.relay_url)
        return status, parsed, text

    async def _aiohttp_request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None,
        request_timeout: float | None,
        max_body: int,
    ) -> tuple[int, str]:
        import aiohttp

        kwargs: dict[str, Any] = {"data": data, "headers": headers, "params": params}
        if request_timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=request_timeout)
        async with self._client().request(method, url, **kwargs) as response:
            if response.content_length is not None and response.content_length > max_body:
                raise _oneshot.ResponseTooLargeError(max_body)
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > max_body:
                    raise _oneshot.ResponseTooLargeError(max_body)
            return response.status, bytes(body).decode(response.charset or "utf-8", errors="replace")

    async def _json_object(self, method: str, path: str, **kwargs: Any) -> JSONObject:
        _, parsed, text = await self._request(method, path, **kwargs)
        if not isinstance(parsed, dict):
            raise RelayProtocolError(f"{method} {path}: expected a JSON object, got {text[:80]!r}", url=self.relay_url)
        return parsed

    # --- discovery -----------------------------------------------------------------------------

    async def healthz(self, *, probe_timeout: float = PROBE_TIMEOUT) -> bool:
        """True when the relay answers ``/healthz`` with 200; never raises."""
        try:
            await self._request("GET", "/healthz", request_timeout=probe_timeout)
        except WireClientError:
            return False
        return True

    async def info(self, *, refresh: bool = False) -> RelayInfo:
        """Features of the relay; a relay without ``/v1/info`` (the reference) gets an empty set."""
        if self._info is not None and not refresh:
            return self._info
        try:
            raw = await self._json_object("GET", "/v1/info")
        except RelayError as exc:
            if exc.status not in (404, 405):
                raise
            self._info = RelayInfo()
            return self._info
        except RelayProtocolError:
            self._info = RelayInfo()
            return self._info
        features = raw.get("features")
        version = raw.get("version")
        self._info = RelayInfo(
            features=frozenset(f for f in features if isinstance(f, str))
            if isinstance(features, list)
            else frozenset(),
            version=version if isinstance(version, str) else None,
            raw=raw,
        )
        return self._info

    # --- slots and events ----------------------------------------------------------------------

    async def allocate_slot(self, *, scope: Scope = Scope.FEDERATION, handle: str | None = None) -> Endpoint:
        raw = await self._json_object("POST", "/v1/slot/allocate", body={"handle": handle})
        slot_id, token = raw.get("slot_id"), raw.get("slot_token")
        if not isinstance(slot_id, str) or not isinstance(token, str):
            raise RelayProtocolError("slot allocation answer lacks slot_id/slot_token", url=self.relay_url)
        return Endpoint(relay_url=self.relay_url, slot_id=slot_id, slot_token=token, scope=scope)

    async def post_event(self, endpoint: Endpoint, event: JSONObject) -> PostResult:
        raw = await self._json_object(
            "POST", f"/v1/events/{_segment(endpoint.slot_id)}", body={"event": event}, headers=self._auth(endpoint)
        )
        event_id, status = raw.get("event_id"), raw.get("status")
        return PostResult(
            event_id=event_id if isinstance(event_id, str) else None, status=status if isinstance(status, str) else ""
        )

    async def post_batch(self, endpoint: Endpoint, events: Sequence[JSONObject]) -> list[PostResult]:
        """Post several events in order: one request on a relay with ``batch``, one per event otherwise."""
        if not events:
            return []
        if not (await self.info()).supports("batch"):
            return [await self.post_event(endpoint, event) for event in events]
        raw = await self._json_object(
            "POST",
            f"/v1/events/{_segment(endpoint.slot_id)}/batch",
            body={"events": list(events)},
            headers=self._auth(endpoint),
        )
        results = raw.get("results")
        if not isinstance(results, list) or len(results) != len(events):
            raise RelayProtocolError("batch answer does not list one result per event", url=self.relay_url)
        ordered: list[PostResult] = [PostResult(None, "")] * len(events)
        for position, item in enumerate(results):
            if not isinstance(item, dict):
                raise RelayProtocolError("batch result is not an object", url=self.relay_url)
            index = item.get("index", position)
            event_id, status, error = item.get("event_id"), item.get("status"), item.get("error")
            if not isinstance(index, int) or not 0 <= index < len(events):
                raise RelayProtocolError("batch result index out of range", url=self.relay_url)
            if status == "rejected":
                status = f"rejected: {error if isinstance(error, str) else 'no reason given'}"
            ordered[index] = PostResult(
                event_id=event_id if isinstance(event_id, str) else None,
                status=status if isinstance(status, str) else "",
            )
        return ordered

    async def acknowledge(self, endpoint: Endpoint, through: str, *, request_timeout: float = 10.0) -> bool:
        """Our relay's ``ack`` (owner token): events up to ``through`` are stored on our side.

        False without calling when the relay does not advertise ``ack`` (the reference)."""
        if not (await self.info()).supports("ack"):
            return False
        await self._request(
            "POST",
            f"/v1/slot/{endpoint.slot_id}/ack",
            body={"through": through},
            headers=self._auth(endpoint),
            request_timeout=request_timeout,
        )
        return True

    async def mint_deposit_token(self, endpoint: Endpoint, label: str) -> tuple[str, str]:
        """A new write-only deposit token for our slot ``endpoint``: ``(token_id, token)``."""
        raw = await self._json_object(
            "POST", f"/v1/slot/{endpoint.slot_id}/deposit-tokens", body={"label": label}, headers=self._auth(endpoint)
        )
        token_id, token = raw.get("token_id"), raw.get("token")
        if not isinstance(token_id, str) or not isinstance(token, str) or not token_id.isalnum() or not token:
            raise RelayProtocolError("deposit-token answer lacks token_id/token", url=self.relay_url)
        return token_id, token

    async def revoke_deposit_token(self, endpoint: Endpoint, token_id: str) -> bool:
        """Revoke one of our slot's deposit tokens; False if the relay no longer knows it (404)."""
        if not token_id.isalnum():
            raise ValueError("a deposit token id is alphanumeric")
        status, _, _ = await self._request(
            "DELETE",
            f"/v1/slot/{endpoint.slot_id}/deposit-tokens/{token_id}",
            headers=self._auth(endpoint),
            ok=(200, 404),
        )
        return status == 200

    async def list_events(
        self, endpoint: Endpoint, *, since: str | None = None, limit: int = LIST_LIMIT_MAX
    ) -> list[JSONObject]:
        params = {"limit": str(limit)}
        if since:
            params["since"] = since
        _, parsed, text = await self._request(
            "GET",
            f"/v1/events/{_segment(endpoint.slot_id)}",
            headers=self._auth(endpoint),
            params=params,
            max_body=LIST_MAX_BYTES,
        )
        if not isinstance(parsed, list):
            shown = "not valid JSON" if text.strip() and parsed is None else "not a JSON array"
            raise RelayProtocolError(
                f"relay {self.relay_url} sent an event listing that is {shown}", url=self.relay_url
            )
        return [item for item in parsed if isinstance(item, dict)]

    async def stream(self, endpoint: Endpoint, *, since: str | None = None) -> AsyncIterator[StreamMessage]:
        """One SSE connection to our slot; ends when the relay closes it (the caller reconnects).

        With ``since`` (relays with ``sse-replay``) the relay first replays what came after it.
        Always aiohttp, whatever the transport (a stream is for long-lived processes).
        """
        import aiohttp

        headers = {**self._auth(endpoint), "Accept": "text/event-stream"}
        params: dict[str, str] = {}
        if since:
            params["since"] = since
            headers["Last-Event-ID"] = since
        url = f"{self._base}/v1/events/{_segment(endpoint.slot_id)}/stream"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=STREAM_READ_TIMEOUT)
        with _translate(self.relay_url, "event stream"):
            async with self._client().get(url, headers=headers, params=params, timeout=timeout) as response:
                if response.status != 200:
                    text = await response.text()
                    parsed: JSON = None
                    with contextlib.suppress(CanonicalizationError):
                        parsed = loads(text) if text.strip() else None
                    raise RelayError.from_body(response.status, parsed, text, url=self.relay_url)
                parser = SseParser(STREAM_MESSAGE_MAX_BYTES)
                async for chunk in response.content.iter_any():
                    try:
                        messages = parser.feed(chunk)
                    except SseTooLargeError as exc:
                        raise RelayProtocolError(f"relay {self.relay_url} sent {exc}", url=self.relay_url) from None
                    for event_id, payload in messages:
                        try:
                            data = loads(payload)
                        except CanonicalizationError:
                            log.warning("relay %s sent a non-JSON stream message; ignored", self.relay_url)
                            continue
                        yield StreamMessage(event_id=event_id, data=data)

    async def slot_state(self, endpoint: Endpoint) -> JSONObject:
        return await self._json_object(
            "GET", f"/v1/slot/{_segment(endpoint.slot_id)}/state", headers=self._auth(endpoint)
        )

    async def set_responder_health(
        self, endpoint: Endpoint, status: str, *, set_at: str, reason: str | None = None
    ) -> JSONObject:
        body: JSONObject = {"status": status, "set_at": set_at}
        if reason is not None:
            body["reason"] = reason
        if status == "online":
            body["last_success_at"] = set_at
        return await self._json_object(
            "POST", f"/v1/slot/{_segment(endpoint.slot_id)}/responder-health", body=body, headers=self._auth(endpoint)
        )

    # --- handle directory ----------------------------------------------------------------------

    async def claim_handle(
        self,
        nick: str,
        endpoint: Endpoint,
        card: JSONObject,
        *,
        key: SigningKey,
        public_url: str | None = None,
        discoverable: bool | None = None,
        current_slot_token: str | None = None,
    ) -> JSONObject:
        """Claim ``nick`` for ``endpoint``'s slot; moving an existing claim needs the old slot's token.

        The claim carries a proof that we hold the card's key (``key`` signs nick, slot, this
        relay's origin, the time and a nonce), so nobody can claim our nick with a copy of our
        public card. Relays that predate proofs ignore the field; a relay reached over a Unix
        socket has no origin to bind, so none is sent there.
        """
        body: JSONObject = {"nick": nick, "slot_id": endpoint.slot_id, "relay_url": public_url, "card": card}
        if self._socket_path is None:
            body["proof"] = build_claim_proof(
                key,
                nick=nick,
                slot_id=endpoint.slot_id,
                relay_url=self.relay_url,
                now=int(time.time()),
                nonce=secrets.token_hex(16),
            )
        if discoverable is not None:
            body["discoverable"] = discoverable
        if current_slot_token is not None:
            body["current_slot_token"] = current_slot_token
        return await self._json_object("POST", "/v1/handle/claim", body=body, headers=self._auth(endpoint))

    async def unclaim_handle(self, nick: str, endpoint: Endpoint) -> JSONObject:
        return await self._json_object("DELETE", f"/v1/handle/claim/{_segment(nick)}", headers=self._auth(endpoint))

    async def resolve_handle(self, nick: str) -> JSONObject:
        """``GET /.well-known/wire/agent?handle=<nick>``: the nick's card and slot (never a token)."""
        return await self._json_object("GET", "/.well-known/wire/agent", params={"handle": nick})

    async def intro(self, nick: str, event: JSONObject) -> JSONObject:
        """Drop a signed ``pair_drop`` into a claimed nick's slot (no auth needed)."""
        return await self._json_object("POST", f"/v1/handle/intro/{_segment(nick)}", body={"event": event})

    async def a2a_card(self, nick: str) -> JSONObject:
        """``GET /.well-known/agent-card.json?handle=<nick>``: the A2A projection of a claim."""
        return await self._json_object("GET", "/.well-known/agent-card.json", params={"handle": nick})

    # --- SPAKE2 pair slots and invites ---------------------------------------------------------

    async def pair_open(self, code_hash: str, msg_b64: str, role: str) -> str:
        """``POST /v1/pair``: register our SPAKE2 message; returns the ``pair_id`` (409 if the role is taken)."""
        raw = await self._json_object("POST", "/v1/pair", body={"code_hash": code_hash, "msg": msg_b64, "role": role})
        pair_id = raw.get("pair_id")
        if not isinstance(pair_id, str):
            raise RelayProtocolError("pair open answer lacks pair_id", url=self.relay_url)
        return pair_id

    async def pair_get(self, pair_id: str, role: str) -> tuple[str | None, str | None]:
        """``GET /v1/pair/<id>?as_role=``: the peer's ``(msg, sealed bootstrap)``, each None until posted."""
        raw = await self._json_object("GET", f"/v1/pair/{_segment(pair_id)}", params={"as_role": role})
        msg, boot = raw.get("peer_msg"), raw.get("peer_bootstrap")
        return (msg if isinstance(msg, str) else None, boot if isinstance(boot, str) else None)

    async def pair_bootstrap(self, pair_id: str, role: str, sealed_b64: str) -> None:
        await self._request(
            "POST", f"/v1/pair/{_segment(pair_id)}/bootstrap", body={"role": role, "sealed": sealed_b64}
        )

    async def pair_abandon(self, code_hash: str) -> None:
        await self._request("POST", "/v1/pair/abandon", body={"code_hash": code_hash}, ok=(200, 201, 204))

    async def register_invite(self, invite_url: str, *, ttl_seconds: int, uses: int | None) -> JSONObject:
        """``POST /v1/invite/register``: a short ``/i/<token>`` URL for an invite."""
        body: JSONObject = {"invite_url": invite_url, "ttl_seconds": ttl_seconds, "uses": uses}
        return await self._json_object("POST", "/v1/invite/register", body=body)

    async def invite_url(self, path: str) -> str:
        """``GET <path>?format=url`` on this relay: the ``wire://pair?…`` URL behind a short invite."""
        _, _, text = await self._request("GET", path, params={"format": "url"})
        return text.strip()


class RelayPool:
    """One :class:`RelayClient` per relay URL, shared by everything in an agent; closed together."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, transport: Transport = "aiohttp") -> None:
        self._timeout = timeout
        self.transport: Transport = transport
        self._clients: dict[str, RelayClient] = {}

    def client(self, relay_url: str) -> RelayClient:
        key = relay_url.rstrip("/")
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = RelayClient(key, timeout=self._timeout, transport=self.transport)
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
