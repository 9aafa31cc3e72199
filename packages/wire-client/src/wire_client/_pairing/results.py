# SPDX-License-Identifier: MIT
"""Result types of the pairing verbs: frozen, JSON-ready for the CLI and MCP (never a slot token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from wire_protocol import JSON, JSONObject, character_for

__all__ = [
    "AcceptResult",
    "DialResult",
    "ForgetResult",
    "LocalPairResult",
    "PairAllLocalResult",
    "RejectResult",
    "RotateResult",
]


def _character(did: str | None) -> JSONObject:
    character = character_for(did or None)
    return {"nickname": character.nickname, "emoji": character.emoji}


@dataclass(frozen=True, slots=True)
class DialResult:
    """``dial``: what was resolved, whether a pairing started or exists, and the steps taken."""

    name_input: str
    found: bool
    status: Literal["drop_sent", "already_paired", "paired", "accepted", "not_found"]
    via: str | None = None
    resolved_handle: str | None = None
    peer_did: str | None = None
    address: str | None = None
    event_id: str | None = None
    drop_response: JSONObject | None = None
    steps: tuple[JSONObject, ...] = ()
    candidates: tuple[str, ...] = ()
    error: str | None = None

    def to_json(self) -> JSONObject:
        data: JSONObject = {"name_input": self.name_input, "found": self.found, "status": self.status}
        if not self.found:
            data.update({"candidates": list(self.candidates), "error": self.error})
            return data
        data.update(
            {
                "via": self.via,
                "resolved_handle": self.resolved_handle,
                "peer_handle": self.resolved_handle,
                "paired_with": self.peer_did,
                "character": _character(self.peer_did),
                "steps": list(self.steps),
            }
        )
        if self.address is not None:
            data["handle"] = self.address
        if self.event_id is not None:
            data["event_id"] = self.event_id
        if self.drop_response is not None:
            data["drop_response"] = self.drop_response
        return data


@dataclass(frozen=True, slots=True)
class AcceptResult:
    peer_handle: str
    peer_did: str
    peer_relay_url: str
    ack_status: str
    ack_reason: str | None = None
    status: Literal["bilateral_accepted"] = "bilateral_accepted"
    via: str = "pending_inbound"

    def to_json(self) -> JSONObject:
        ack: JSONObject = {"status": self.ack_status}
        if self.ack_reason is not None:
            ack["reason"] = self.ack_reason
        return {
            "handle": f"{self.peer_handle}@{self.peer_relay_url}",
            "paired_with": self.peer_did,
            "peer_handle": self.peer_handle,
            "peer_did": self.peer_did,
            "peer_relay_url": self.peer_relay_url,
            "character": _character(self.peer_did),
            "status": self.status,
            "via": self.via,
            "ack": ack,
        }


@dataclass(frozen=True, slots=True)
class RejectResult:
    """``reject``: ``notified`` is True when the dialer was told (a signed ``pair_reject`` reached its
    slot), False when telling it failed (``notify_error`` says why), None when not asked to tell."""

    peer: str
    rejected: bool
    had_pending: bool
    notified: bool | None = None
    notify_error: str | None = None

    def to_json(self) -> JSONObject:
        data: JSONObject = {"peer": self.peer, "rejected": self.rejected, "had_pending": self.had_pending,
                            "notified": self.notified}  # fmt: skip
        if self.notify_error is not None:
            data["notify_error"] = self.notify_error
        return data


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """``wire forget``: what was removed, and whether the peer's delivery token on our relay was revoked
    (``None``: this client cannot revoke yet — the peer can still post to our slot until we rotate it)."""

    peer: str
    peer_did: str | None
    removed: bool
    token_revoked: bool | None

    def to_json(self) -> JSONObject:
        return {
            "peer": self.peer,
            "peer_did": self.peer_did,
            "removed": self.removed,
            "token_revoked": self.token_revoked,
        }


@dataclass(frozen=True, slots=True)
class LocalPairResult:
    session: str
    handle: str
    did: str
    status: Literal["paired", "already_paired"]
    via: str = "local_sister"

    def to_json(self) -> JSONObject:
        return {
            "session": self.session,
            "handle": self.handle,
            "did": self.did,
            "character": _character(self.did),
            "status": self.status,
            "via": self.via,
        }


@dataclass(frozen=True, slots=True)
class PairAllLocalResult:
    sessions: tuple[str, ...]
    results: tuple[JSONObject, ...]

    def _count(self, status: str) -> int:
        return sum(1 for r in self.results if r.get("status") == status)

    def to_json(self) -> JSONObject:
        return {
            "sessions": list(self.sessions),
            "pairs_attempted": len(self.results),
            "pairs_succeeded": self._count("paired"),
            "pairs_skipped_already_paired": self._count("already_paired"),
            "pairs_failed": self._count("failed"),
            "results": list(self.results),
        }


@dataclass(frozen=True, slots=True)
class RotateResult:
    old_slot_id: str
    new_slot_id: str
    relay_url: str
    announced_to: tuple[str, ...] = ()
    failed: tuple[JSONObject, ...] = field(default=())
    handle_moved: bool = False

    def to_json(self) -> JSONObject:
        failed: list[JSON] = list(self.failed)
        return {
            "rotated": True,
            "old_slot_id": self.old_slot_id,
            "new_slot_id": self.new_slot_id,
            "relay_url": self.relay_url,
            "announced_to": list(self.announced_to),
            "failed": failed,
            "handle_moved": self.handle_moved,
        }
