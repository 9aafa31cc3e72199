# SPDX-License-Identifier: AGPL-3.0-or-later
"""Error bodies, the error middleware, and the request-parsing helpers every route uses.

Every error answer is JSON ``{"error": "..."}`` (plus route-specific fields), including aiohttp's
own 404/405/413 and unexpected 500s. The order of checks follows the reference's framework: for a
JSON body ``415`` (content type) → ``413`` (size) → ``400`` (syntax) → ``422`` (shape), all before
the handler's own checks (auth, then the route's rules).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

from aiohttp import HttpVersion10, web

from wire_protocol import SLOT_ID_RE, CanonicalizationError, JSONObject, loads
from wire_relay.codec import MAX_JSON_DEPTH, exceeds_depth, loads_tracking
from wire_relay.log import http_log
from wire_relay.state import CONFIG
from wire_relay.store import DepositCheck, Store, TokenCheck

__all__ = [
    "ApiError",
    "authorize",
    "bearer_token",
    "error_middleware",
    "fail",
    "json_response",
    "opt_bool",
    "opt_int",
    "opt_str",
    "query_int",
    "read_body",
    "read_json",
    "read_object",
    "read_object_tracking",
    "req_str",
]

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class ApiError(Exception):
    """Raise from a handler to answer ``status`` with ``{"error": message, **extra}``."""

    def __init__(self, status: int, message: str, *, headers: Mapping[str, str] | None = None, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, object] = {"error": message, **extra}
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return json_response(self.body, status=self.status, headers=self.headers)


def fail(status: int, message: str, **extra: object) -> NoReturn:
    error = ApiError(status, message)
    error.body.update(extra)
    raise error


def json_response(value: object, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(body=_dumps(value).encode(), status=status, content_type="application/json", headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.version < HttpVersion10:  # HTTP/0.9 has no headers: nothing to authorise or bound
        return json_response({"error": "HTTP/1.0 or later required"}, status=505, headers={"Connection": "close"})
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        message = exc.reason.lower() if exc.reason else "error"
        return json_response({"error": message}, status=exc.status, headers=headers)
    except Exception:  # noqa: BLE001 - the last line of defence: log it, answer JSON 500
        http_log.exception("event=handler_error method=%s path=%s", request.method, request.path)
        return json_response({"error": "internal server error"}, status=500)


# ------------------------------------------------------------------------------------------ bodies


def _is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body of a JSON request: 415 without a JSON content type, 413 above ``limit``, 408 when
    it does not arrive within the configured body timeout (a slow upload cannot hold a handler)."""
    if not _is_json_type(request.content_type):
        fail(415, "expected request with `Content-Type: application/json`")
    length = request.content_length
    if length is not None and length > limit:
        fail(413, "request body too large", max_bytes=limit)
    if length is not None and request.content.is_eof():  # already buffered: the common, fast case
        body = await request.read()
    else:
        seconds = request.app[CONFIG].body_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                body = await _read_bounded(request, limit)
        except TimeoutError:
            raise ApiError(
                408, f"request body not received within {seconds:g}s", headers={"Connection": "close"}
            ) from None
    if len(body) > limit:
        fail(413, "request body too large", max_bytes=limit)
    return body


async def _read_bounded(request: web.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(65536):
        size += len(chunk)
        if size > limit:
            fail(413, "request body too large", max_bytes=limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: web.Request, limit: int) -> Any:
    """The parsed JSON body: 415 without a JSON content type, 413 above ``limit``, 400 if malformed
    or nested deeper than ``MAX_JSON_DEPTH`` (the event routes use :func:`read_object_tracking`,
    which stores events as opaque bytes and only refuses what the decoder cannot parse)."""
    body = await read_body(request, limit)
    try:
        value = loads(body)
    except CanonicalizationError as exc:
        fail(400, f"malformed JSON body: {exc.message}")
    except RecursionError:
        fail(400, "malformed JSON body: nested too deeply", max_depth=MAX_JSON_DEPTH)
    except ValueError as exc:  # e.g. an integer longer than Python's 4,300-digit conversion limit
        fail(400, f"malformed JSON body: {exc}")
    if exceeds_depth(value):
        fail(400, f"malformed JSON body: nested deeper than {MAX_JSON_DEPTH} levels", max_depth=MAX_JSON_DEPTH)
    return value


#: bodies at least this large are parsed on a worker thread, so the event loop keeps serving others
PARSE_OFF_LOOP_BYTES = 1024 * 1024


async def read_object_tracking(request: web.Request, limit: int) -> tuple[JSONObject, bool]:
    """:func:`read_object` plus the *plain* flag of :func:`wire_relay.codec.loads_tracking`."""
    body = await read_body(request, limit)
    try:
        if len(body) >= PARSE_OFF_LOOP_BYTES:
            value, plain = await asyncio.to_thread(loads_tracking, body)
        else:
            value, plain = loads_tracking(body)
    except CanonicalizationError as exc:
        fail(400, f"malformed JSON body: {exc.message}")
    if not isinstance(value, dict):
        fail(422, "request body must be a JSON object")
    return value, plain


async def read_object(request: web.Request, limit: int) -> JSONObject:
    """:func:`read_json` that also requires a JSON object (else 422)."""
    value = await read_json(request, limit)
    if not isinstance(value, dict):
        fail(422, "request body must be a JSON object")
    return value


def req_str(obj: JSONObject, name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        fail(422, f"field `{name}` must be a string" if name in obj else f"missing field `{name}`")
    return value


def opt_str(obj: JSONObject, name: str) -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        fail(422, f"field `{name}` must be a string or null")
    return value


def opt_bool(obj: JSONObject, name: str) -> bool | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, bool):
        fail(422, f"field `{name}` must be a boolean or null")
    return value


def opt_int(obj: JSONObject, name: str, *, maximum: int) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        fail(422, f"field `{name}` must be an integer between 0 and {maximum}")
    return value


def query_int(request: web.Request, name: str, default: int) -> int:
    """A non-negative integer query parameter (400 if present and not one)."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        fail(400, f"invalid query parameter `{name}`: expected a non-negative integer")
    return int(raw)


# -------------------------------------------------------------------------------------------- auth


def bearer_token(request: web.Request) -> str:
    """The token after exactly ``Bearer `` (case-sensitive), else 401."""
    header = request.headers.get("Authorization")
    if header is None or not header.startswith("Bearer "):
        fail(401, "missing Bearer token")
    return header[7:]


async def _owner_check(request: web.Request, store: Store, slot_id: str) -> tuple[str, bool]:
    """``(token, is_owner)``; 401 without a bearer, 404 for an unknown slot (before any compare)."""
    token = bearer_token(request)
    if not SLOT_ID_RE.fullmatch(slot_id):
        fail(404, "unknown slot")
    verdict = await store.check_token(slot_id, token)
    if verdict is TokenCheck.UNKNOWN_SLOT:
        fail(404, "unknown slot")
    return token, verdict is TokenCheck.OK


async def authorize(request: web.Request, store: Store, slot_id: str) -> None:
    """401 (no bearer) → 404 (unknown slot) → 403 (wrong token, constant-time compare)."""
    _, is_owner = await _owner_check(request, store, slot_id)
    if not is_owner:
        http_log.info("event=auth_failed slot_id=%s", slot_id)
        fail(403, "bad token")


async def authorize_post(request: web.Request, store: Store, slot_id: str) -> None:
    """Like :func:`authorize`, but a live deposit token of the slot is accepted too (posting only).

    The owner's token is checked first (cached, the common case); only a token that is not the
    owner's costs a deposit-token lookup. A revoked deposit token gets 401 and says so."""
    token, is_owner = await _owner_check(request, store, slot_id)
    if is_owner:
        return
    deposit = await store.check_deposit_token(slot_id, token)
    if deposit is DepositCheck.OK:
        return
    http_log.info("event=auth_failed slot_id=%s deposit=%s", slot_id, deposit.value)
    if deposit is DepositCheck.REVOKED:
        fail(401, "deposit token revoked", remediation="the slot's owner revoked this token; ask them to pair again")
    fail(403, "bad token")
