# SPDX-License-Identifier: MIT
"""The one consent gate for every tool that pins or unpins a peer.

When the client declared the ``elicitation`` capability at ``initialize``, the gate asks the
operator through ``elicitation/create`` (form mode, one boolean field): the host shows the prompt to
its user, so the model cannot answer it. Only ``accept`` with ``approve: true`` passes; decline,
cancel, ``false``, a failed request or no answer within the timeout refuse, and the model's
``operator_approved`` argument counts for nothing. Without the capability the gate falls back to
that explicit flag (set by the model once the operator said yes in the chat).

Everything a peer chose (handle, profile text) is hostile inside the prompt: it is stripped of
control, format and bidi characters, bounded in length and shown under a heading that says the peer
wrote it. The DID, the key's SHA-256 and the character derived from the DID are what the operator
checks.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ClientCapabilities, ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import is_version_at_least

from wire_protocol import character_for

__all__ = [
    "DEFAULT_CONSENT_TIMEOUT",
    "Consent",
    "InputRequired",
    "Subject",
    "consent_timeout",
    "elicitation_available",
    "peer_text",
]

log = logging.getLogger(__name__)

DEFAULT_CONSENT_TIMEOUT = 300.0
_MAX_TIMEOUT = 3600.0
_FIELD = "approve"
_INPUT_KEY = "wire_consent"
_INPUT_REQUIRED_VERSION = "2026-07-28"  # from this revision on, prompts ride an input_required result
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        _FIELD: {
            "type": "boolean",
            "title": "Approve",
            "description": "true only if you, the operator, want this; the agent cannot answer for you",
            "default": False,
        }
    },
    "required": [_FIELD],
}
#: bounds for text a peer chose, once cleaned
_MAX_PEER_TEXT = 80
_MAX_DID = 200
_MAX_CLAIMED = 5  # handle, name and three profile fields

Via = Literal["elicitation", "flag"]


def consent_timeout(env: Mapping[str, str]) -> float:
    """Seconds the gate waits for the operator: ``WIRE_MCP_CONSENT_TIMEOUT`` (1..3600), else 300."""
    raw = env.get("WIRE_MCP_CONSENT_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_CONSENT_TIMEOUT
    except ValueError:
        value = DEFAULT_CONSENT_TIMEOUT
    return min(max(value, 1.0), _MAX_TIMEOUT) if math.isfinite(value) else DEFAULT_CONSENT_TIMEOUT


def peer_text(value: object, limit: int = _MAX_PEER_TEXT) -> str:
    """``value`` as one safe line: control, format (bidi overrides, zero-width) and separator characters
    dropped or turned into spaces, whitespace collapsed, at most ``limit`` characters (``…`` marks a cut)."""
    text = value if isinstance(value, str) else str(value)
    kept = []
    for char in text[: limit * 4]:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp") or char.isspace():
            kept.append(" ")
        elif category not in ("Cf", "Cs", "Co", "Cn"):
            kept.append(char)
    line = " ".join("".join(kept).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Subject:
    """What the operator is asked about: the action and the peer it pins (or unpins)."""

    action: str  # e.g. "PAIR WITH", "UNPAIR FROM"
    did: str | None  # None only for SAS: the identity crosses the channel the code protects, after the yes
    public_key: bytes | None = None
    claimed: Mapping[str, object] = field(default_factory=dict)  # peer-chosen text: handle, profile fields
    sas: str | None = None  # digits the operator compares with the other side's
    effect: str = ""

    def message(self) -> str:
        """The prompt shown by the host (never returned to the model)."""
        lines = [f"wire: your agent asks to {self.action} this peer.", *([self.effect] if self.effect else []), ""]
        if self.did is not None:
            character = character_for(self.did)
            lines.append("Identity (checked by wire):")
            lines.append(f"  DID: {peer_text(self.did, _MAX_DID)}")
            if self.public_key is not None:
                lines.append(f"  key SHA-256: {hashlib.sha256(self.public_key).hexdigest()}")
            lines.append(f"  character: {character.emoji} {character.nickname} (derived from the DID)")
        claimed = [(k, v) for k, v in self.claimed.items() if v not in (None, "")][:_MAX_CLAIMED]
        if claimed:
            lines.append("Written by the peer (unverified; may be misleading):")
            lines += [f"  {peer_text(key, 24)}: «{peer_text(value)}»" for key, value in claimed]
        if self.sas is not None:
            lines += [
                "",
                f"Security code: {self.sas[:3]}-{self.sas[3:]}",
                "Compare it with the code the other side sees (by voice or another channel you trust).",
                "Approve only if both codes are exactly the same.",
            ]
        else:
            lines += ["", "Approve only if you expect this peer and it is the one you mean."]
        return "\n".join(lines)


def elicitation_available(ctx: Context[Any, Any] | None) -> bool:
    """Did the client declare form elicitation (``elicitation: {}`` or ``{form: …}``) at initialize?"""
    if ctx is None:
        return False
    try:
        capabilities: ClientCapabilities | None = ctx.client_capabilities
    except ValueError:  # outside a request
        return False
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


class InputRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    """On a 2026-07-28 connection the prompt travels in the tool's result: the client asks its user and
    calls the tool again with the answer (``guarded`` returns :attr:`result` as the tool's result)."""

    def __init__(self, result: InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result


Answer = Literal["approved", "declined", "cancelled", "timeout", "failed"]


class Consent:
    """The gate (one per server): :meth:`require` returns how consent was given or raises ``ToolError``."""

    def __init__(self, timeout: float = DEFAULT_CONSENT_TIMEOUT) -> None:
        self.timeout = timeout
        self._state_key = secrets.token_bytes(32)  # signs the request_state of 2026-07-28 prompts

    async def require(
        self, ctx: Context[Any, Any] | None, subject: Subject, *, operator_approved: bool, refusal: str
    ) -> Via:
        """Pass only with the operator's yes: through the host's prompt when it can ask, else the flag.

        ``refusal`` is the start of the error when the flag is missing (no elicitation), e.g.
        "ask the operator whether to pair with 'bob' first".
        """
        if ctx is None or not elicitation_available(ctx):
            if not operator_approved:
                raise ToolError(f"{refusal}; never do this on your own")
            return "flag"
        answer = await self.ask(ctx, subject)
        if answer != "approved":
            raise ToolError(_refused(subject, answer))
        return "elicitation"

    async def ask(self, ctx: Context[Any, Any], subject: Subject) -> Answer:
        """Ask the operator through ``elicitation/create``; only ``accept`` + ``approve: true`` is a yes.

        2025-era connections get the request on the back-channel and we wait at most ``timeout``;
        2026-07-28 ones get it inside an ``input_required`` result (:class:`InputRequired`), and an
        answer counts only for the exact prompt we signed, within ``timeout`` of asking.
        """
        message = subject.message()
        version = ctx.protocol_version
        if version is not None and is_version_at_least(version, _INPUT_REQUIRED_VERSION):
            return self._answered(ctx, message)
        try:
            with anyio.fail_after(self.timeout):
                result = await ctx.request_context.session.elicit_form(
                    message, requested_schema=_SCHEMA, related_request_id=ctx.request_context.request_id
                )
        except TimeoutError:
            return "timeout"
        except Exception as exc:  # noqa: BLE001 - any failure to ask is a refusal, never a yes
            log.warning("consent prompt failed: %s", type(exc).__name__)
            return "failed"
        return _verdict(result)

    def _answered(self, ctx: Context[Any, Any], message: str) -> Answer:
        digest = hashlib.sha256(message.encode()).hexdigest()
        answer = (ctx.input_responses or {}).get(_INPUT_KEY)
        asked_at = self._asked_at(ctx.request_state, digest)
        if answer is not None and asked_at is not None:
            if time.time() - asked_at > self.timeout:
                return "timeout"
            return _verdict(answer) if isinstance(answer, ElicitResult) else "failed"
        now = int(time.time())
        request = ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=_SCHEMA))
        state = f"{now}.{self._sign(now, digest)}"
        raise InputRequired(InputRequiredResult(input_requests={_INPUT_KEY: request}, request_state=state))

    def _sign(self, asked_at: int, digest: str) -> str:
        return hmac.new(self._state_key, f"{asked_at}.{digest}".encode(), hashlib.sha256).hexdigest()

    def _asked_at(self, state: str | None, digest: str) -> int | None:
        """When the prompt with ``digest`` was asked, if ``state`` is our signature for it; else None."""
        stamp, _, mac = (state or "").partition(".")
        if not stamp.isdigit() or len(stamp) > 12:
            return None
        return int(stamp) if hmac.compare_digest(mac, self._sign(int(stamp), digest)) else None


def _verdict(result: ElicitResult) -> Answer:
    if result.action == "decline":
        return "declined"
    if result.action != "accept":
        return "cancelled"
    content = result.content or {}
    return "approved" if content.get(_FIELD) is True else "declined"


def _refused(subject: Subject, answer: str) -> str:
    what = f"{subject.action.lower()} {subject.did or 'the peer'}"
    if answer == "timeout":
        why = "the operator did not answer the host's consent prompt in time"
    elif answer == "failed":
        why = "the host's consent prompt failed"
    elif answer == "cancelled":
        why = "the operator dismissed the host's consent prompt"
    else:
        why = "the operator declined in the host's consent prompt"
    return (
        f"not done: {why} ({what}); nothing was changed. operator_approved cannot override the operator's "
        "answer; ask them in the chat before trying again."
    )
