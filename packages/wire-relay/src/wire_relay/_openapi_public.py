# SPDX-License-Identifier: AGPL-3.0-or-later
"""OpenAPI paths of the public-mode routes (pages, stats, directory reads, invites)."""

from __future__ import annotations

from wire_relay._openapi_parts import JSON_BODY_ERRORS, NULLABLE_STR, J, body, errors, json_content, obj, ref

__all__ = ["PUBLIC_PATHS"]

HANDLE_QUERY = {
    "name": "handle",
    "in": "query",
    "required": True,
    "schema": {"type": "string"},
    "description": "`nick` or `nick@domain` (domain ignored)",
}

PUBLIC_PATHS: J = {
    "/": {
        "get": {
            "summary": "landing page",
            "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
        }
    },
    "/favicon.svg": {
        "get": {
            "summary": "icon",
            "responses": {"200": {"description": "SVG", "content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
        }
    },
    "/phonebook": {
        "get": {
            "summary": "listed handles (HTML)",
            "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
        }
    },
    "/phonebook.html": {
        "get": {
            "summary": "same as /phonebook",
            "parameters": [{"name": "cursor", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
        }
    },
    "/stats": {
        "get": {
            "summary": "stats JSON (HTML when Accept has text/html)",
            "responses": {
                "200": {
                    "description": "stats",
                    "content": {
                        "application/json": {"schema": ref("Stats")},
                        "text/html": {"schema": {"type": "string"}},
                    },
                }
            },
        }
    },
    "/stats.json": {"get": {"summary": "stats", "responses": {"200": json_content(ref("Stats"), "stats")}}},
    "/stats.html": {
        "get": {
            "summary": "stats page",
            "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
        }
    },
    "/stats.history": {
        "get": {
            "summary": "samples every 30 s (in memory, since start)",
            "parameters": [
                {
                    "name": "hours",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "default 24, clamped to 1..168",
                }
            ],
            "responses": {
                "200": json_content(
                    obj(
                        ["hours", "now_unix", "count", "entries"],
                        {
                            "hours": {"type": "integer"},
                            "now_unix": {"type": "integer"},
                            "count": {"type": "integer"},
                            "entries": {"type": "array", "items": {"type": "object"}},
                        },
                    ),
                    "history",
                ),
                **errors(400),
            },
        }
    },
    "/v1/handles": {
        "get": {
            "summary": "listed handles, sorted by nick",
            "parameters": [
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": "default 100, clamped to 1..500",
                },
                {"name": "vibe", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": json_content(
                    obj(
                        ["handles", "next_cursor"],
                        {"handles": {"type": "array", "items": ref("HandleSummary")}, "next_cursor": NULLABLE_STR},
                    ),
                    "page",
                ),
                **errors(400),
            },
        }
    },
    "/.well-known/wire/agent": {
        "get": {
            "summary": "resolve a nick to its card and mailbox",
            "parameters": [HANDLE_QUERY],
            "responses": {"200": json_content(ref("WireAgent"), "record"), **errors(400, 404)},
        }
    },
    "/.well-known/agent-card.json": {
        "get": {
            "summary": "A2A agent-card of a nick (wire extension carries the record)",
            "parameters": [HANDLE_QUERY],
            "responses": {
                "200": json_content(
                    {"type": "object", "required": ["name", "supportedInterfaces", "capabilities", "skills"]},
                    "A2A v1.0 agent card (the wire record in capabilities.extensions)",
                ),
                **errors(400, 404),
            },
        }
    },
    "/a2a/{nick}": {
        "post": {
            "summary": "A2A JSON-RPC interface of a nick: every call is answered -32004, nothing is delivered",
            "parameters": [{"name": "nick", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": json_content(
                    {"type": "object", "required": ["jsonrpc", "error"]}, "JSON-RPC error saying how to pair"
                ),
                "404": json_content({"type": "object", "required": ["jsonrpc", "error"]}, "nick not claimed"),
                **errors(413),
            },
        }
    },
    "/v1/invite/register": {
        "post": {
            "summary": "register a short URL for an invite (rate-limited)",
            "requestBody": body(
                obj(
                    ["invite_url"],
                    {
                        "invite_url": {"type": "string"},
                        "ttl_seconds": {"type": ["integer", "null"], "minimum": 0},
                        "uses": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**32 - 1},
                    },
                )
            ),
            "responses": {
                "201": json_content(
                    obj(
                        ["token", "path", "expires_unix", "uses_remaining"],
                        {
                            "token": {"type": "string"},
                            "path": {"type": "string"},
                            "expires_unix": {"type": "integer"},
                            "uses_remaining": {"type": ["integer", "null"]},
                        },
                    ),
                    "registered",
                ),
                **errors(*JSON_BODY_ERRORS, 409, 429),
            },
        }
    },
    "/i/{token}": {
        "get": {
            "summary": "install-and-accept script (or the raw URL with format=url)",
            "parameters": [
                {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "format", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {
                    "description": "script or URL",
                    "content": {
                        "text/x-shellscript": {"schema": {"type": "string"}},
                        "text/plain": {"schema": {"type": "string"}},
                    },
                },
                **errors(404, 410),
            },
        }
    },
}

#: paths only served in public mode
