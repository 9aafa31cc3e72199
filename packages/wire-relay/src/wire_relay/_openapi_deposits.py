# SPDX-License-Identifier: AGPL-3.0-or-later
"""OpenAPI paths of the deposit-token routes (``routes_deposits``), merged into ``openapi.PATHS``."""

from __future__ import annotations

from wire_relay._openapi_parts import (
    AUTH_ERRORS,
    BEARER,
    JSON_BODY_ERRORS,
    SLOT_PARAM,
    J,
    body,
    errors,
    json_content,
    obj,
)

__all__ = ["DEPOSIT_PATHS"]

_TOKEN_ID = {"type": "string", "pattern": "^[0-9a-f]{16}$"}
_RECORD = obj(
    ["token_id", "label", "created_unix", "revoked_unix"],
    {
        "token_id": _TOKEN_ID,
        "label": {"type": "string"},
        "created_unix": {"type": "integer"},
        "revoked_unix": {"type": ["integer", "null"]},
    },
)

DEPOSIT_PATHS: J = {
    "/v1/slot/{slot_id}/deposit-tokens": {
        "parameters": [SLOT_PARAM],
        "post": {
            "summary": "mint a write-only deposit token for one peer (owner token only)",
            "security": BEARER,
            "requestBody": body(obj([], {"label": {"type": "string", "maxLength": 256}})),
            "responses": {
                "201": json_content(
                    obj(
                        ["token_id", "token", "label", "created_unix"],
                        {
                            "token_id": _TOKEN_ID,
                            "token": {"type": "string"},
                            "label": {"type": "string"},
                            "created_unix": {"type": "integer"},
                        },
                    ),
                    "minted; the token is shown only here",
                ),
                **errors(*JSON_BODY_ERRORS, *AUTH_ERRORS, 409),
            },
        },
        "get": {
            "summary": "list the slot's deposit tokens, without their secrets (owner token only)",
            "security": BEARER,
            "responses": {
                "200": json_content(
                    obj(
                        ["slot_id", "deposit_tokens"],
                        {"slot_id": {"type": "string"}, "deposit_tokens": {"type": "array", "items": _RECORD}},
                    ),
                    "the tokens",
                ),
                **errors(*AUTH_ERRORS),
            },
        },
    },
    "/v1/slot/{slot_id}/deposit-tokens/{token_id}": {
        "parameters": [SLOT_PARAM, {"name": "token_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "delete": {
            "summary": "revoke a deposit token (idempotent; owner token only)",
            "security": BEARER,
            "responses": {"200": json_content(_RECORD, "revoked"), **errors(*AUTH_ERRORS)},
        },
    },
}
