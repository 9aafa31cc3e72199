# SPDX-License-Identifier: MIT
"""Tool results and errors: structured JSON plus a one-line summary; clear errors; no secrets, ever.

Every tool returns a :class:`CallToolResult` whose ``structuredContent`` is the JSON object and
whose text is ``<summary>\\n<compact JSON>`` (hosts that ignore ``structuredContent`` still see the
data). Every error becomes a :class:`ToolError` with a readable message, never a traceback.
Before anything leaves, :func:`scrub` drops secret-named keys and masks any known secret value.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar, cast

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent

from wire_client import WireClientError
from wire_mcp.consent import InputRequired
from wire_protocol import WireError

__all__ = ["SECRET_KEYS", "ToolSpec", "add_secret_source", "compact_schema", "guarded", "reply", "scrub"]

log = logging.getLogger(__name__)

#: keys whose values are never returned to the model
SECRET_KEYS = frozenset(
    {"slot_token", "peer_slot_token", "private_key", "seed", "secret", "token", "bootstrap_key", "spake2_state"}
)
_REDACTED = "<redacted>"

P = ParamSpec("P")
R = TypeVar("R")

#: every live runtime's ``secrets()`` (the slot tokens and key of its home); weak, so servers can go away
_secret_sources: list[weakref.WeakMethod[Callable[[], Iterable[str]]]] = []


def add_secret_source(source: Callable[[], Iterable[str]]) -> None:
    """Register a bound method returning the secret strings of one home (scrubbed from every result)."""
    _secret_sources[:] = [ref for ref in _secret_sources if ref() is not None]
    _secret_sources.append(weakref.WeakMethod(source))


def _known_secrets() -> list[str]:
    found: list[str] = []
    for ref in _secret_sources:
        source = ref()
        if source is None:
            continue
        try:
            found += [s for s in source() if len(s) >= 16]
        except Exception:
            log.debug("could not collect secrets for scrubbing", exc_info=True)
    return found


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: (_REDACTED if k in SECRET_KEYS else _scrub(v, secrets)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, _REDACTED)
        return value
    return value


def scrub(value: Any) -> Any:
    """``value`` with secret-named keys and every known secret string replaced by ``<redacted>``."""
    return _scrub(value, _known_secrets())


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool to register: name, description, function, and hints merged into its parameters' schema."""

    name: str
    description: str
    fn: Callable[..., Any]
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def reply(data: Mapping[str, Any], summary: str) -> CallToolResult:
    """The result of a tool: structured JSON plus the one-line ``summary`` (then the JSON) as text.

    Top-level ``None`` values are left out (optional keys are absent rather than null).
    """
    structured = scrub({k: v for k, v in data.items() if v is not None})
    line = scrub(" ".join(summary.split()))
    text = f"{line}\n{json.dumps(structured, ensure_ascii=False, separators=(',', ':'))}"
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


#: CLI verbs that wire-client's messages name, and the MCP tool an agent calls instead
_TOOL_FOR_VERB = {
    "peers": "wire_peers",
    "pending": "wire_pending",
    "accept": "wire_accept",
    "reject": "wire_reject",
    "dial": "wire_dial",
    "init": "wire_init",
    "invite": "wire_invite",
    "accept-invite": "wire_accept_invite",
    "pair-host": "wire_pair_initiate",
    "pair-join": "wire_pair_join",
    "pair-confirm": "wire_pair_confirm",
    "send": "wire_send",
    "tail": "wire_tail",
    "whois": "wire_whois",
    "here": "wire_here",
    "forget": "wire_forget",
}
_CLI_SNIPPET = re.compile(r"`wire ([a-z-]+)[^`]*`")


def name_tools(text: str) -> str:
    """Replace `wire <verb> …` snippets with the MCP tool that does the same (others stay as they are)."""
    return _CLI_SNIPPET.sub(lambda m: _TOOL_FOR_VERB.get(m.group(1), m.group(0)), text)


def _explain(exc: WireClientError) -> str:
    """The client's message (CLI verbs named as MCP tools), plus the machine reason and did-you-mean
    candidates when it has them."""
    text = name_tools(exc.message)
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason and reason not in text:
        text = f"{reason}: {text}"
    candidates = getattr(exc, "candidates", None)
    if candidates and "Did you mean" not in text:
        text += f" Did you mean: {', '.join(map(str, candidates))}?"
    return text


def guarded(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn every failure of a tool into a short, scrubbed :class:`ToolError` message."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except InputRequired as asking:  # 2026-07-28: the consent prompt is this round's result
            return cast(R, asking.result)
        except ToolError as exc:
            raise ToolError(scrub(str(exc))) from None
        except WireClientError as exc:
            raise ToolError(scrub(_explain(exc))) from None
        except WireError as exc:
            raise ToolError(scrub(str(exc))) from None
        except (ValueError, OSError) as exc:
            raise ToolError(scrub(f"{type(exc).__name__}: {exc}")) from None
        except Exception as exc:
            log.exception("tool %s failed", getattr(fn, "__name__", "?"))
            raise ToolError(f"internal error ({type(exc).__name__}); details are in the server log") from None

    return wrapper


def compact_schema(schema: Any) -> Any:
    """Shrink a generated JSON schema in place (tools/list size matters), keeping its meaning.

    Drops auto ``title`` keys and ``additionalProperties: true`` (the default), and turns an optional
    ``anyOf: [X, null]`` with ``default: null`` into plain ``X`` (omitting the field means null).
    """
    if isinstance(schema, list):
        for item in schema:
            compact_schema(item)
        return schema
    if not isinstance(schema, dict):
        return schema
    schema.pop("title", None)
    if schema.get("additionalProperties") is True:
        del schema["additionalProperties"]
    options = schema.get("anyOf")
    if isinstance(options, list) and "default" in schema and schema["default"] is None:
        rest = [o for o in options if o != {"type": "null"}]
        if len(rest) == 1 and len(options) == 2 and isinstance(rest[0], dict):
            del schema["anyOf"], schema["default"]
            schema.update(rest[0])
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            for prop in value.values():
                compact_schema(prop)
        elif key != "default":
            compact_schema(value)
    return schema
