# SPDX-License-Identifier: AGPL-3.0-or-later
"""SPAKE2 pair slots (``/v1/pair*``) and short-URL invites (``/v1/invite/register``, ``/i/:token``).

Pair slots are ephemeral rendezvous points keyed by ``code_hash``; they expire 300 s after their
last touch. Invite use counts are decremented durably in the store (the reference kept them in
memory only, so a restart re-armed single-use invites — protocol notes §7.10).
"""

from __future__ import annotations

import re
import secrets
from typing import Literal, NoReturn

from aiohttp import web

from wire_protocol import MAX_INVITE_URL_BYTES, PAIR_ID_RE, SPAKE2_MESSAGE_BYTES, KeyFormatError, b64decode_exact
from wire_relay.errors import ApiError, fail, json_response, opt_int, read_object, req_str
from wire_relay.ratelimit import check_rate, client_address
from wire_relay.state import CONFIG, STORE
from wire_relay.store import InviteRecord

__all__ = ["install_script", "public_routes", "routes"]

routes = web.RouteTableDef()  # every mode
public_routes = web.RouteTableDef()  # public mode only

INVITE_TTL_DEFAULT = 86_400
INVITE_TTL_MIN = 60
INVITE_TTL_MAX = 604_800
NO_STORE = {"Cache-Control": "private, no-store, max-age=0"}
#: a SPAKE2 pair slot holds a 64-hex code hash, a 33-byte message and a sealed bootstrap (a card and
#: a slot token, a few KiB): bodies beyond these bounds are refused before they reach the store
CODE_HASH_RE = re.compile(r"[0-9a-f]{64}")
MAX_SEALED_CHARS = 64 * 1024
PAIR_BODY_MAX_BYTES = MAX_SEALED_CHARS + 1024
PAIR_RETRY_AFTER_SECONDS = 30
#: invite tokens: 128 random bits (the reference's 24-bit ``/i/<6 hex>`` space falls to a scan in an hour)
INVITE_TOKEN_HEX_RE = re.compile(r"[0-9a-f]{32}")
#: what an invite may point to: a wire pairing URL, in URL characters only
INVITE_URL_RE = re.compile(r"wire://pair\?[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]+")


def _role(value: str | None) -> Literal["host", "guest"]:
    if value == "host":
        return "host"
    if value == "guest":
        return "guest"
    error = ApiError(400, "role must be 'host' or 'guest'")
    error.body["got_role"] = value
    raise error


@routes.post("/v1/pair")
async def pair_open(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    await check_rate(store, config, "pair", client_address(request, config))
    body = await read_object(request, PAIR_BODY_MAX_BYTES)
    code_hash, msg, role_text = req_str(body, "code_hash"), req_str(body, "msg"), req_str(body, "role")
    role = _role(role_text)
    if not CODE_HASH_RE.fullmatch(code_hash):
        fail(400, "code_hash must be 64 lowercase hex characters (SHA-256)")
    try:
        b64decode_exact(msg, SPAKE2_MESSAGE_BYTES, what="msg")
    except KeyFormatError as exc:
        fail(400, f"{exc.message} (a SPAKE2 message)")
    result = await store.pair_open(
        code_hash, role, msg, secrets.token_hex(16), config.clock(), max_open=config.max_pair_slots
    )
    if result.full:
        raise ApiError(
            503,
            "too many pairing sessions open on this relay; retry shortly",
            headers={"Retry-After": str(PAIR_RETRY_AFTER_SECONDS)},
            retry_after_seconds=PAIR_RETRY_AFTER_SECONDS,
        )
    if result.conflict:
        fail(409, f"{role} already registered for this code")
    return json_response({"pair_id": result.pair_id}, status=201)


@routes.get("/v1/pair/{pair_id}")
async def pair_get(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    as_role = request.query.get("as_role")
    if as_role is None:
        fail(400, "missing query parameter `as_role`")
    role = _role(as_role)
    pair_id = request.match_info["pair_id"]
    peer = await store.pair_get(pair_id, role, config.clock()) if PAIR_ID_RE.fullmatch(pair_id) else None
    if peer is None:
        fail(404, "unknown pair_id")
    return json_response({"peer_msg": peer.peer_msg, "peer_bootstrap": peer.peer_bootstrap})


@routes.post("/v1/pair/{pair_id}/bootstrap")
async def pair_bootstrap(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    await check_rate(store, config, "pair", client_address(request, config))
    body = await read_object(request, PAIR_BODY_MAX_BYTES)
    role_text, sealed = req_str(body, "role"), req_str(body, "sealed")
    role = _role(role_text)
    if len(sealed) > MAX_SEALED_CHARS:
        fail(413, "sealed bootstrap too large", max_chars=MAX_SEALED_CHARS)
    try:
        b64decode_exact(sealed, what="sealed")
    except KeyFormatError as exc:
        fail(400, exc.message)
    pair_id = request.match_info["pair_id"]
    ok = PAIR_ID_RE.fullmatch(pair_id) is not None and await store.pair_set_bootstrap(
        pair_id, role, sealed, config.clock()
    )
    if not ok:
        fail(404, "unknown pair_id")
    return json_response({"ok": True}, status=201)


@routes.post("/v1/pair/abandon")
async def pair_abandon(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    await check_rate(store, config, "pair", client_address(request, config))
    body = await read_object(request, PAIR_BODY_MAX_BYTES)
    await store.pair_abandon(req_str(body, "code_hash"))
    return web.Response(status=204)


# -------------------------------------------------------------------------------------------- invites


@public_routes.post("/v1/invite/register")
async def invite_register(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    await check_rate(store, config, "invite", client_address(request, config))
    body = await read_object(request, config.max_body_bytes)
    invite_url = req_str(body, "invite_url")
    ttl = opt_int(body, "ttl_seconds", maximum=2**64 - 1)
    uses = opt_int(body, "uses", maximum=2**32 - 1)
    if not invite_url.strip():
        fail(400, "invite_url is empty")
    if len(invite_url.encode()) > MAX_INVITE_URL_BYTES:
        fail(413, "invite_url too long", max_bytes=MAX_INVITE_URL_BYTES)
    if not INVITE_URL_RE.fullmatch(invite_url):
        fail(400, "invite_url must be a wire://pair?... URL (URL characters only)")
    ttl = min(max(ttl if ttl is not None else INVITE_TTL_DEFAULT, INVITE_TTL_MIN), INVITE_TTL_MAX)
    now = int(config.clock())
    for _attempt in range(3):
        token = secrets.token_hex(16)
        record = InviteRecord(
            token=token, invite_url=invite_url, expires_unix=now + ttl, uses_remaining=uses, created_unix=now
        )
        if await store.invite_register(record):
            return json_response(
                {"token": token, "path": f"/i/{token}", "expires_unix": now + ttl, "uses_remaining": uses},
                status=201,
            )
    raise ApiError(409, "invite token collision; retry")


def install_script(invite_url: str) -> str:
    """The ``sh`` script ``/i/:token`` serves: install wire if missing, then accept the invite."""
    quoted = "'" + invite_url.replace("'", "'\\''") + "'"
    return f"""#!/bin/sh
# wire invite: installs the wire CLI if it is missing, then accepts this pairing invite.
# Read it before you run it:  curl -fsSL <this url> | less
set -eu
INVITE={quoted}
if ! command -v wire >/dev/null 2>&1; then
  echo "wire: not installed yet; installing it with: pip install wire-cli" >&2
  if command -v pipx >/dev/null 2>&1; then
    pipx install wire-cli
  else
    python3 -m pip install --user wire-cli || pip install wire-cli
    PATH="$HOME/.local/bin:$PATH"
    export PATH
  fi
fi
exec wire accept-invite -- "$INVITE"
"""


@public_routes.get("/i/{token}")
async def invite_get(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    await check_rate(store, config, "invite_get", client_address(request, config))  # misses count too
    token = request.match_info["token"]
    if not INVITE_TOKEN_HEX_RE.fullmatch(token):
        raise_json(404, "not found")
    as_url = request.query.get("format") == "url"
    # every read hands out the invite (and the slot token inside it), so every read uses it up
    found = await store.invite_take(token, config.clock(), consume=True)
    if found.status == "unknown":
        raise_json(404, "not found")
    if found.status == "expired":
        raise_json(410, "this invite has expired")
    if found.status == "used_up":
        raise_json(410, "this invite has been used up")
    assert found.invite_url is not None  # noqa: S101 - "ok" always carries the URL
    if as_url:
        return web.Response(text=found.invite_url, content_type="text/plain", charset="utf-8", headers=NO_STORE)
    return web.Response(
        text=install_script(found.invite_url), content_type="text/x-shellscript", charset="utf-8", headers=NO_STORE
    )


def raise_json(status: int, message: str) -> NoReturn:
    """Invite errors are JSON like every other error, with the no-store header."""
    raise ApiError(status, message, headers=NO_STORE)
