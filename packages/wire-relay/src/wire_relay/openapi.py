# SPDX-License-Identifier: AGPL-3.0-or-later
"""The OpenAPI 3.1 document served at ``/openapi.json`` (kept next to the code it describes).

Tests check it is a valid OpenAPI 3.1 document, that every route of the app appears in it and
vice versa, and schemathesis replays it against a running relay.
"""

from __future__ import annotations

import copy

from wire_protocol import LIST_LIMIT_MAX
from wire_relay.__about__ import __version__
from wire_relay._openapi_deposits import DEPOSIT_PATHS
from wire_relay._openapi_parts import (
    AUTH_ERRORS,
    BEARER,
    HEX32,
    JSON_BODY_ERRORS,
    NULLABLE_STR,
    ROLE,
    SCHEMAS,
    SLOT_PARAM,
    J,
    body,
    errors,
    json_content,
    obj,
    ref,
)
from wire_relay._openapi_public import PUBLIC_PATHS

__all__ = ["PUBLIC_ONLY_PATHS", "openapi_document"]

PATHS: J = {
    "/healthz": {
        "get": {
            "summary": "liveness",
            "responses": {"200": {"description": "`ok\\n`", "content": {"text/plain": {"schema": {"type": "string"}}}}},
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics (text exposition format); for the operator's scraper, not the internet",
            "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}},
        }
    },
    "/v1/info": {
        "get": {
            "summary": "relay software, limits and extension features",
            "responses": {
                "200": json_content(
                    obj(
                        ["software", "version", "protocol", "limits", "features"],
                        {
                            "software": {"const": "wire-relay"},
                            "version": {"type": "string"},
                            "protocol": {"type": "string"},
                            "mode": {"enum": ["public", "local-only", "uds"]},
                            "limits": {"type": "object"},
                            "features": {"type": "array", "items": {"type": "string"}},
                        },
                    ),
                    "relay description",
                )
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "this document",
            "responses": {"200": json_content({"type": "object"}, "OpenAPI")},
        }
    },
    "/v1/slot/allocate": {
        "post": {
            "summary": "allocate a mailbox slot (rate-limited per client)",
            "requestBody": body(obj([], {"handle": NULLABLE_STR})),
            "responses": {
                "201": json_content(ref("Slot"), "new slot; keep the token secret"),
                **errors(*JSON_BODY_ERRORS, 429),
            },
        }
    },
    "/v1/events/{slot_id}": {
        "parameters": [SLOT_PARAM],
        "post": {
            "summary": "store one event in the slot",
            "security": BEARER,
            "requestBody": body(obj(["event"], {"event": ref("Event")})),
            "responses": {
                "201": json_content(ref("EventVerdict"), "stored"),
                "200": json_content(ref("EventVerdict"), "duplicate event_id: already stored"),
                **errors(*JSON_BODY_ERRORS, *AUTH_ERRORS),
            },
        },
        "get": {
            "summary": "list stored events after `since` (exclusive; unknown id = from the start)",
            "security": BEARER,
            "parameters": [
                {"name": "since", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": f"default 100, capped at {LIST_LIMIT_MAX}",
                },
            ],
            "responses": {
                "200": json_content({"type": "array", "items": ref("Event")}, "events in order"),
                **errors(400, *AUTH_ERRORS),
            },
        },
    },
    "/v1/events/{slot_id}/batch": {
        "parameters": [SLOT_PARAM],
        "post": {
            "summary": "store up to 1000 events in one transaction, one verdict each (extension)",
            "security": BEARER,
            "requestBody": body(
                obj(["events"], {"events": {"type": "array", "items": ref("Event"), "maxItems": 1000}})
            ),
            "responses": {
                "200": json_content(
                    obj(["results"], {"results": {"type": "array", "items": ref("BatchResult")}}),
                    "per-event verdicts",
                ),
                **errors(*JSON_BODY_ERRORS, *AUTH_ERRORS),
            },
        },
    },
    "/v1/events/{slot_id}/stream": {
        "parameters": [SLOT_PARAM],
        "get": {
            "summary": "Server-Sent Events: `id: <event_id>` + `data: <event>`; replay with `since` or Last-Event-ID",
            "security": BEARER,
            "parameters": [
                {"name": "since", "in": "query", "schema": {"type": "string"}},
                {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "event stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                **errors(*AUTH_ERRORS, 503),
            },
        },
    },
    "/v1/slot/{slot_id}/state": {
        "parameters": [SLOT_PARAM],
        "get": {
            "summary": "event count, last pull, responder health",
            "security": BEARER,
            "responses": {"200": json_content(ref("SlotState"), "slot state"), **errors(*AUTH_ERRORS)},
        },
    },
    "/v1/slot/{slot_id}/responder-health": {
        "parameters": [SLOT_PARAM],
        "post": {
            "summary": "set the responder-health record",
            "security": BEARER,
            "requestBody": body(ref("ResponderHealth")),
            "responses": {
                "200": json_content(ref("ResponderHealth"), "stored record"),
                **errors(*JSON_BODY_ERRORS, *AUTH_ERRORS),
            },
        },
    },
    "/v1/slot/{slot_id}/ack": {
        "parameters": [SLOT_PARAM],
        "post": {
            "summary": "the owner read through an event: it and all before it leave the backlog quota",
            "security": BEARER,
            "requestBody": body(obj(["through"], {"through": {"type": "string"}})),
            "responses": {
                "200": json_content(
                    obj(
                        ["slot_id", "acked_through", "backlog_bytes", "slot_bytes_max", "deleted_after_unix"],
                        {
                            "slot_id": HEX32,
                            "acked_through": {"type": "string"},
                            "backlog_bytes": {"type": "integer"},
                            "slot_bytes_max": {"type": "integer"},
                            "deleted_after_unix": {"type": "integer"},
                        },
                    ),
                    "acknowledged",
                ),
                **errors(*JSON_BODY_ERRORS, *AUTH_ERRORS),
            },
        },
    },
    "/v1/pair": {
        "post": {
            "summary": "open or join a SPAKE2 pair slot by code hash (rate-limited)",
            "requestBody": body(
                obj(
                    ["code_hash", "msg", "role"],
                    {"code_hash": {"type": "string"}, "msg": {"type": "string"}, "role": ROLE},
                )
            ),
            "responses": {
                "201": json_content(obj(["pair_id"], {"pair_id": HEX32}), "pair slot"),
                **errors(*JSON_BODY_ERRORS, 409, 429),
            },
        }
    },
    "/v1/pair/{pair_id}": {
        "get": {
            "summary": "the other role's message and sealed bootstrap",
            "parameters": [
                {"name": "pair_id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "as_role", "in": "query", "required": True, "schema": ROLE},
            ],
            "responses": {
                "200": json_content(
                    obj(["peer_msg", "peer_bootstrap"], {"peer_msg": NULLABLE_STR, "peer_bootstrap": NULLABLE_STR}),
                    "peer data",
                ),
                **errors(400, 404),
            },
        }
    },
    "/v1/pair/{pair_id}/bootstrap": {
        "post": {
            "summary": "store this role's sealed bootstrap (rate-limited)",
            "parameters": [{"name": "pair_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": body(obj(["role", "sealed"], {"role": ROLE, "sealed": {"type": "string"}})),
            "responses": {
                "201": json_content(obj(["ok"], {"ok": {"const": True}}), "stored"),
                **errors(*JSON_BODY_ERRORS, 404, 429),
            },
        }
    },
    "/v1/pair/abandon": {
        "post": {
            "summary": "forget the pair slot of a code hash (rate-limited)",
            "requestBody": body(obj(["code_hash"], {"code_hash": {"type": "string"}})),
            "responses": {"204": {"description": "forgotten (or never existed)"}, **errors(*JSON_BODY_ERRORS, 429)},
        }
    },
    "/v1/handle/claim": {
        "post": {
            "summary": "claim a nick for the card's DID (bearer of body.slot_id)",
            "security": BEARER,
            "requestBody": body(
                obj(
                    ["nick", "slot_id", "card"],
                    {
                        "nick": {"type": "string"},
                        "slot_id": {"type": "string"},
                        "relay_url": NULLABLE_STR,
                        "card": {"type": "object"},
                        "discoverable": {"type": ["boolean", "null"]},
                        "current_slot_token": {
                            "type": "string",
                            "description": "bearer token of the slot the nick points to now; required to move "
                            "an existing claim to a different slot",
                        },
                    },
                )
            ),
            "responses": {
                "201": json_content(
                    obj(
                        ["nick", "did", "status"],
                        {
                            "nick": {"type": "string"},
                            "did": {"type": "string"},
                            "status": {"enum": ["claimed", "re-claimed"]},
                        },
                    ),
                    "claimed",
                ),
                **errors(*JSON_BODY_ERRORS, *AUTH_ERRORS, 409),
            },
        }
    },
    "/v1/handle/claim/{nick}": {
        "delete": {
            "summary": "release a nick (bearer of the slot it points to) (extension)",
            "security": BEARER,
            "parameters": [{"name": "nick", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": json_content(
                    obj(["nick", "status"], {"nick": {"type": "string"}, "status": {"const": "unclaimed"}}), "released"
                ),
                **errors(*AUTH_ERRORS, 409),
            },
        }
    },
    "/v1/handle/intro/{nick}": {
        "post": {
            "summary": "drop a signed kind-1100 pair_drop/agent_card into a claimed nick's slot (rate-limited)",
            "parameters": [{"name": "nick", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": body(obj(["event"], {"event": ref("Event")})),
            "responses": {
                "201": json_content(
                    obj(
                        ["event_id", "status", "to_nick"],
                        {"event_id": NULLABLE_STR, "status": {"const": "dropped"}, "to_nick": {"type": "string"}},
                    ),
                    "dropped",
                ),
                "200": json_content(ref("EventVerdict"), "duplicate"),
                **errors(*JSON_BODY_ERRORS, 404, 429),
            },
        }
    },
}

PUBLIC_ONLY_PATHS = frozenset(PUBLIC_PATHS)


def openapi_document(*, public: bool = True) -> J:
    """A fresh copy of the document (public mode documents the public routes too)."""
    paths = {**PATHS, **DEPOSIT_PATHS, **(PUBLIC_PATHS if public else {})}
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "wire relay",
                "version": __version__,
                "description": "Mailbox relay of wire (protocol schema v3.1). Every error is JSON "
                '`{"error": ...}`; clients rely on status codes. Extensions: /v1/info, batch, SSE replay, '
                "DELETE claim, this document.",
                "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
            },
            "paths": paths,
            "components": {
                "schemas": SCHEMAS,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "the slot token"}},
            },
        }
    )
