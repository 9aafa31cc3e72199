# SPDX-License-Identifier: AGPL-3.0-or-later
"""Deposit tokens (our extension, feature ``deposit-tokens``): the slot owner mints, lists and
revokes write-only per-peer tokens for its slot. Every route here needs the owner's token: a
deposit token cannot mint, list or revoke (403). See ``store/_deposits.py`` for the model."""

from __future__ import annotations

import secrets

from aiohttp import web

from wire_relay.errors import authorize, fail, json_response, read_object
from wire_relay.state import CONFIG, STORE
from wire_relay.store import DEPOSIT_LABEL_MAX_CHARS, DEPOSIT_TOKEN_ID_RE

__all__ = ["routes"]

routes = web.RouteTableDef()

MINT_BODY_MAX_BYTES = 4096


@routes.post("/v1/slot/{slot_id}/deposit-tokens")
async def mint(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    slot_id = request.match_info["slot_id"]
    await authorize(request, store, slot_id)
    body = await read_object(request, MINT_BODY_MAX_BYTES)
    label = body.get("label", "")
    if not isinstance(label, str) or len(label) > DEPOSIT_LABEL_MAX_CHARS:
        fail(422, f"field `label` must be a string of at most {DEPOSIT_LABEL_MAX_CHARS} characters")
    token_id, token = secrets.token_hex(8), secrets.token_hex(32)
    now = config.clock()
    if not await store.mint_deposit_token(slot_id, token_id, token, label, now):
        fail(409, "this slot holds too many live deposit tokens", remediation="revoke unused ones first")
    return json_response({"token_id": token_id, "token": token, "label": label, "created_unix": int(now)}, status=201)


@routes.get("/v1/slot/{slot_id}/deposit-tokens")
async def list_tokens(request: web.Request) -> web.Response:
    store = request.app[STORE]
    slot_id = request.match_info["slot_id"]
    await authorize(request, store, slot_id)
    tokens = await store.list_deposit_tokens(slot_id)
    return json_response({"slot_id": slot_id, "deposit_tokens": [t.to_json() for t in tokens]})


@routes.delete("/v1/slot/{slot_id}/deposit-tokens/{token_id}")
async def revoke(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    slot_id, token_id = request.match_info["slot_id"], request.match_info["token_id"]
    await authorize(request, store, slot_id)
    if not DEPOSIT_TOKEN_ID_RE.fullmatch(token_id):
        fail(404, "no deposit token with that id in this slot")
    revoked = await store.revoke_deposit_token(slot_id, token_id, config.clock())
    if revoked is None:
        fail(404, "no deposit token with that id in this slot")
    return json_response(revoked.to_json())
