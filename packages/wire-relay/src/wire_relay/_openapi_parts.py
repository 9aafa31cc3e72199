# SPDX-License-Identifier: AGPL-3.0-or-later
"""Building blocks and component schemas of the OpenAPI document (see :mod:`wire_relay.openapi`)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "AUTH_ERRORS",
    "BEARER",
    "HEX32",
    "JSON_BODY_ERRORS",
    "NULLABLE_STR",
    "ROLE",
    "SCHEMAS",
    "SLOT_PARAM",
    "J",
    "body",
    "errors",
    "json_content",
    "obj",
    "ref",
]

J = dict[str, Any]
HEX32 = {"type": "string", "pattern": "^[0-9a-f]{32}$"}


def ref(name: str) -> J:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: J, description: str) -> J:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*codes: int) -> J:
    text = {
        400: "bad request (malformed JSON, bad query parameter, rule violated)",
        401: "missing `Authorization: Bearer <slot_token>`",
        403: "wrong slot token",
        404: "not found",
        405: "method not allowed",
        409: "conflict",
        410: "gone (expired or used up)",
        413: "too large (body, event or quota)",
        415: "Content-Type is not application/json",
        422: "JSON body has the wrong shape",
        429: "rate limited; see Retry-After",
        503: "temporarily unavailable",
    }
    out = {str(c): json_content(ref("Error"), text[c]) for c in codes}
    out["default"] = json_content(ref("Error"), "any other error (JSON body, status code is what matters)")
    return out


def body(schema: J) -> J:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def obj(required: list[str], props: J, *, extra: bool = True) -> J:
    schema: J = {"type": "object", "required": required, "properties": props}
    if not extra:
        schema["additionalProperties"] = False
    return schema


SLOT_PARAM = {"name": "slot_id", "in": "path", "required": True, "schema": {"type": "string"}}
BEARER: list[J] = [{"bearer": []}]
JSON_BODY_ERRORS = (400, 413, 415, 422)
AUTH_ERRORS = (401, 403, 404)
NULLABLE_STR = {"type": ["string", "null"]}

SCHEMAS: J = {
    "Error": obj(["error"], {"error": {"type": "string"}}),
    "Event": {"description": "any JSON value; normally a signed wire event object"},
    "EventVerdict": obj(
        ["event_id", "status"], {"event_id": NULLABLE_STR, "status": {"enum": ["stored", "duplicate"]}}
    ),
    "Slot": obj(["slot_id", "slot_token"], {"slot_id": HEX32, "slot_token": {"type": "string"}}),
    "ResponderHealth": obj(
        ["status", "set_at"],
        {
            "status": {"type": "string"},
            "reason": NULLABLE_STR,
            "last_success_at": NULLABLE_STR,
            "set_at": {"type": "string"},
        },
    ),
    "SlotState": obj(
        ["slot_id", "event_count", "last_pull_at_unix", "responder_health"],
        {
            "slot_id": {"type": "string"},
            "event_count": {"type": "integer", "minimum": 0},
            "last_pull_at_unix": {"type": ["integer", "null"]},
            "responder_health": {"anyOf": [ref("ResponderHealth"), {"type": "null"}]},
        },
    ),
    "BatchResult": obj(
        ["index", "event_id", "status"],
        {
            "index": {"type": "integer", "minimum": 0},
            "event_id": NULLABLE_STR,
            "status": {"enum": ["stored", "duplicate", "rejected"]},
            "error": {"type": "string"},
        },
    ),
    "WireAgent": obj(
        ["nick", "did", "card", "slot_id", "relay_url", "claimed_at"],
        {
            "nick": {"type": "string"},
            "did": {"type": "string"},
            "card": {"type": "object"},
            "slot_id": {"type": "string"},
            "relay_url": NULLABLE_STR,
            "claimed_at": {"type": "string"},
        },
    ),
    "HandleSummary": obj(
        ["nick", "did", "profile", "claimed_at"],
        {
            "nick": {"type": "string"},
            "did": {"type": "string"},
            "profile": {"type": "object"},
            "claimed_at": {"type": "string"},
        },
    ),
    "Stats": obj(
        ["version", "uptime_seconds", "handles_active", "slots_active", "pair_slots_open", "streams_active"],
        {
            "version": {"type": "string"},
            **{
                name: {"type": "integer", "minimum": 0}
                for name in (
                    "uptime_seconds",
                    "handles_active",
                    "slots_active",
                    "pair_slots_open",
                    "streams_active",
                    "handle_claims_total",
                    "handle_first_claims_total",
                    "slot_allocations_total",
                    "pair_opens_total",
                    "events_posted_total",
                )
            },
        },
    ),
}

ROLE = {"type": "string", "description": "`host` or `guest` (anything else: 400)"}
