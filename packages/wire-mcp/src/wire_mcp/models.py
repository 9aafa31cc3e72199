# SPDX-License-Identifier: MIT
"""Output types of the tools (the SDK turns them into each tool's ``outputSchema``).

``TypedDict`` rather than pydantic models: front-ends do not import pydantic (tests/test_architecture.py);
the SDK validates results against these types itself. Nested wire data (events, peers, cards) stays a
plain object: its shape is wire-client's, and a loose schema keeps the tools list short.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

__all__ = [
    "AcceptOut",
    "DialOut",
    "ForgetOut",
    "HereOut",
    "InitOut",
    "InviteOut",
    "PairOut",
    "PeersOut",
    "PendingOut",
    "RejectOut",
    "SendOut",
    "TailOut",
    "VerifyOut",
    "WaitOut",
    "WhoamiOut",
    "WhoisOut",
]

Obj = dict[str, Any]


class WhoamiOut(TypedDict):
    did: str
    handle: str
    fingerprint: str
    key_id: str
    public_key_b64: str
    capabilities: list[str]
    character: Obj
    wire_home: str
    session: NotRequired[str]
    endpoints: list[Obj]
    receiving: Literal["in-process", "daemon", "off"]


class HereOut(TypedDict):
    initialized: bool
    self: NotRequired[Obj]
    sister_sessions: NotRequired[list[Obj]]
    pinned_peers: NotRequired[list[Obj]]
    hint: NotRequired[str]


class PeersOut(TypedDict):
    peers: list[Obj]


class WhoisOut(TypedDict):
    found: bool
    kind: NotRequired[str]
    record: NotRequired[Obj]
    candidates: NotRequired[list[str]]


class SendOut(TypedDict):
    event_id: str
    status: Literal["delivered", "duplicate", "queued", "rejected"]
    peer: str
    reason: NotRequired[str]
    endpoint: NotRequired[str]
    warnings: NotRequired[list[str]]


class TailOut(TypedDict):
    events: list[Obj]


class VerifyOut(TypedDict):
    verified: bool
    reason: NotRequired[str]
    event_id: NotRequired[str]
    sender: NotRequired[str]


class PingOut(TypedDict):
    peer: str
    alive: bool
    rtt_ms: float | None
    timeout_s: float
    reason: str | None


class InitOut(TypedDict):
    status: str
    did: str
    handle: str
    wire_home: str
    endpoints: list[Obj]


class WaitOut(TypedDict):
    events: list[Obj]
    pair_requests: list[Obj]
    cursor: int
    timed_out: bool


class DialOut(TypedDict):
    status: str
    name_input: NotRequired[str]
    peer_handle: NotRequired[str]
    candidates: NotRequired[list[str]]


class PendingOut(TypedDict):
    pending: list[Obj]


class AcceptOut(TypedDict):
    status: str
    peer_handle: str


class RejectOut(TypedDict):
    peer: str
    rejected: bool
    had_pending: NotRequired[bool]
    notified: NotRequired[bool | None]
    notify_error: NotRequired[str]


class ForgetOut(TypedDict):
    peer: str
    peer_did: NotRequired[str]
    removed: bool
    token_revoked: NotRequired[bool]


class PairOut(TypedDict):
    state: str
    session_id: str
    code_phrase: NotRequired[str]
    sas: NotRequired[str]


class InviteOut(TypedDict):
    status: NotRequired[str]
    invite_url: NotRequired[str]
    short_url: NotRequired[str]
    peer_handle: NotRequired[str]
