# SPDX-License-Identifier: MIT
"""Invite URLs (protocol §10.4, notes §4b), with the unknown-nonce auto-pin bug fixed (notes §7.3).

Issuer: :func:`mint` signs ``wire://pair?v=1&inv=…`` carrying our card and one slot (token
included: the URL is a bearer secret) and records ``pending-invites/<nonce>.json`` = ``{nonce,
exp, uses_remaining, accepted_by, created_at}``. ``share=True`` registers a short ``/i/<token>``
URL on the relay. When a ``pair_drop`` with that ``pair_nonce`` arrives, :meth:`InviteStore.consume`
decides: a nonce we minted, unexpired, with uses left → ``ok`` (the receiver auto-pins the
acceptor); expired → ``expired`` (refused and reported); anything else (unknown, used up) is NOT
an invite — the drop becomes an ordinary pending request that needs the operator's accept.
Used-up and expired files stay as tombstones (7 days) so the distinction survives.

Acceptor: :func:`accept` resolves a short URL (``GET …?format=url``), parses and verifies the
invite, pins the issuer and posts a ``pair_drop`` carrying ``pair_nonce`` into the issuer's slot.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from wire_client._errors import PairingFailedError, RelayError
from wire_client._home.files import read_json, update_json
from wire_client._home.paths import WireHome
from wire_client._pairing.coordinates import EndpointRefusedError, checked_endpoint, loopback_allowed
from wire_client._pairing.deposits import DeliveryTokens, invite_key
from wire_client._pairing.events import advertised_endpoints, drop_body, ensure_endpoint, sign_pairing_event
from wire_client._pairing.parts import PairingParts
from wire_client._pairing.requests import InboundStore, now_stamp
from wire_protocol import (
    INVITE_URL_PREFIX,
    JSON,
    EventType,
    InviteError,
    InviteExpiredError,
    JSONObject,
    display_handle_from_did,
    mint_invite,
    new_invite_nonce,
    parse_invite,
)

__all__ = [
    "INVITE_TRANSITIONS",
    "InviteAcceptResult",
    "InviteRecord",
    "InviteResult",
    "InviteState",
    "InviteStore",
    "accept",
    "mint",
]

DEFAULT_TTL = 3600
TOMBSTONE_SECONDS = 7 * 86400
_NONCE_RE = re.compile(r"[0-9a-f]{64}")
Consumed = Literal["ok", "expired", "used_up", "unknown"]


@dataclass(frozen=True, slots=True)
class InviteResult:
    """A minted invite. ``invite_url`` is a bearer secret: share it only with the intended peer."""

    invite_url: str
    ttl_secs: int
    uses: int
    expires_at: int
    relay: str
    short_url: str | None = None

    def to_json(self) -> JSONObject:
        data: JSONObject = {
            "invite_url": self.invite_url,
            "ttl_secs": self.ttl_secs,
            "uses": self.uses,
            "expires_at": self.expires_at,
            "relay": self.relay,
        }
        if self.short_url is not None:
            data["short_url"] = self.short_url
            data["share"] = f"curl -fsSL {self.short_url} | sh"
        return data


@dataclass(frozen=True, slots=True)
class InviteAcceptResult:
    paired_with: str
    peer_handle: str
    event_id: str
    status: Literal["drop_sent", "queued"]
    reason: str | None = None

    def to_json(self) -> JSONObject:
        data: JSONObject = {
            "paired_with": self.paired_with,
            "peer_handle": self.peer_handle,
            "event_id": self.event_id,
            "status": self.status,
        }
        if self.reason is not None:
            data["reason"] = self.reason
        return data


class InviteState(enum.StrEnum):
    """Where a minted invite is: usable, used up, or past its expiry (both kept as tombstones)."""

    ACTIVE = "active"
    USED_UP = "used_up"
    EXPIRED = "expired"


#: the one transition table: an acceptance moves an active invite to active (uses left) or used_up;
#: expiry is a matter of the clock, not of a write
INVITE_TRANSITIONS: Mapping[InviteState, frozenset[InviteState]] = {
    InviteState.ACTIVE: frozenset({InviteState.ACTIVE, InviteState.USED_UP}),
    InviteState.USED_UP: frozenset(),
    InviteState.EXPIRED: frozenset(),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class InviteRecord:
    """``pending-invites/<nonce>.json``: one invite we minted."""

    nonce: str
    exp: int
    uses_remaining: int
    accepted_by: tuple[str, ...] = ()
    created_at: str = ""

    def state(self, now: int) -> InviteState:
        if now > self.exp:
            return InviteState.EXPIRED
        return InviteState.ACTIVE if self.uses_remaining > 0 else InviteState.USED_UP

    def accepted(self, did: str, now: int) -> InviteRecord:
        """This invite after ``did`` used one acceptance (only an active invite can be used)."""
        used = dataclasses.replace(self, uses_remaining=self.uses_remaining - 1, accepted_by=(*self.accepted_by, did))
        if used.state(now) not in INVITE_TRANSITIONS[self.state(now)]:
            raise PairingFailedError(f"invite {self.nonce[:8]}… is {self.state(now)}", reason="invite_used")
        return used

    def to_json(self) -> JSONObject:
        return {
            "nonce": self.nonce,
            "exp": self.exp,
            "uses_remaining": self.uses_remaining,
            "accepted_by": list(self.accepted_by),
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: JSON) -> InviteRecord | None:
        if not isinstance(data, dict):
            return None
        nonce, exp, uses, accepted = (
            data.get("nonce"),
            data.get("exp"),
            data.get("uses_remaining"),
            data.get("accepted_by"),
        )
        if not isinstance(nonce, str) or not isinstance(exp, int) or not isinstance(uses, int):
            return None
        created = data.get("created_at")
        return cls(
            nonce=nonce,
            exp=exp,
            uses_remaining=uses,
            accepted_by=tuple(a for a in accepted if isinstance(a, str)) if isinstance(accepted, list) else (),
            created_at=created if isinstance(created, str) else "",
        )


class InviteStore:
    """``pending-invites/<nonce>.json`` of the issuer."""

    def __init__(self, home: WireHome) -> None:
        self.directory = home.pending_invites_dir

    def record(self, nonce: str, exp: int, uses: int) -> None:
        record = InviteRecord(nonce=nonce, exp=exp, uses_remaining=max(uses, 1), created_at=now_stamp())
        update_json(self.directory / f"{nonce}.json", lambda _: (record.to_json(), None), default={}, mode=0o600)

    def get(self, nonce: str) -> InviteRecord | None:
        if not _NONCE_RE.fullmatch(nonce):
            return None
        return InviteRecord.from_json(read_json(self.directory / f"{nonce}.json", None))

    def consume(self, nonce: object, did: str, now: int | None = None) -> Consumed:
        """Use one acceptance of ``nonce`` for ``did`` (see the module docstring for the outcomes)."""
        if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
            return "unknown"
        path = self.directory / f"{nonce}.json"
        if not path.exists():
            return "unknown"
        moment = int(time.time()) if now is None else now

        def modify(current: JSON) -> tuple[JSON, Consumed]:
            invite = InviteRecord.from_json(current)
            if invite is None or invite.nonce != nonce:
                return current, "unknown"
            state = invite.state(moment)
            if state is not InviteState.ACTIVE:
                return current, "expired" if state is InviteState.EXPIRED else "used_up"
            return invite.accepted(did, moment).to_json(), "ok"

        return update_json(path, modify, default=None, mode=0o600)

    def gc(self, now: int | None = None) -> int:
        """Delete tombstones (expired or used up) older than a week past their expiry."""
        moment = int(time.time()) if now is None else now
        removed = 0
        for path in self.directory.glob("*.json") if self.directory.is_dir() else []:
            invite = InviteRecord.from_json(read_json(path, None))
            if invite is None or moment > invite.exp + TOMBSTONE_SECONDS:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


async def mint(
    parts: PairingParts,
    *,
    ttl_seconds: int = DEFAULT_TTL,
    uses: int = 1,
    share: bool = False,
    relay_url: str | None = None,
) -> InviteResult:
    """Mint a signed invite for one of our slots (on ``relay_url`` if given: allocated there when missing)."""
    if ttl_seconds <= 0 or uses <= 0:
        raise PairingFailedError("ttl_seconds and uses must be positive", reason="bad_argument")
    own = await ensure_endpoint(parts.pool, parts.relay_state, relay_url, parts.identity.handle)
    wanted = relay_url.rstrip("/") if relay_url else None
    candidates = [ep for ep in advertised_endpoints(own, include_local=False) if wanted in (None, ep.relay_url)]
    endpoint = candidates[0]
    nonce = new_invite_nonce()
    exp = int(time.time()) + ttl_seconds
    # the invite carries a deposit token (where the relay has them), never our slot token
    endpoint = (await DeliveryTokens(parts.home, parts.pool).for_peer([endpoint], invite_key(nonce)))[0]
    url = mint_invite(
        key=parts.identity.key,
        card=parts.identity.card,
        relay_url=endpoint.relay_url,
        slot_id=endpoint.slot_id,
        slot_token=endpoint.slot_token,
        nonce=nonce,
        exp=exp,
    )
    InviteStore(parts.home).record(nonce, exp, uses)
    short_url = None
    if share:
        answer = await parts.pool.client(endpoint.relay_url).register_invite(
            url, ttl_seconds=max(ttl_seconds, 60), uses=uses
        )
        path = answer.get("path")
        if not isinstance(path, str):
            raise PairingFailedError("the relay did not return a short-URL path", reason="share_failed")
        short_url = f"{endpoint.relay_url}{path}"
    return InviteResult(url, ttl_seconds, uses, exp, endpoint.relay_url, short_url)


async def _fetch_short_url(parts: PairingParts, url: str) -> str:
    split = urllib.parse.urlsplit(url)
    origin = f"{split.scheme}://{split.netloc}"
    try:
        text = await parts.pool.client(origin).invite_url(split.path)
    except RelayError as exc:
        reason = {404: "invite_not_found", 410: "invite_gone"}.get(exc.status, "invite_fetch_failed")
        raise PairingFailedError(f"short invite URL {url}: {exc.message}", reason=reason) from exc
    if not text.startswith(INVITE_URL_PREFIX):
        raise PairingFailedError(f"{url} did not return a wire invite URL", reason="invite_invalid")
    return text


async def accept(parts: PairingParts, text: str) -> InviteAcceptResult:
    """Accept an invite (``wire://pair?…`` or a short ``http(s)://…/i/<token>`` URL)."""
    url = text.strip()
    if url.startswith(("http://", "https://")):
        url = await _fetch_short_url(parts, url)
    try:
        invite = parse_invite(url, now_unix=int(time.time()))
    except InviteExpiredError as exc:
        raise PairingFailedError(f"invite expired: {exc.message}", reason="invite_expired") from exc
    except InviteError as exc:
        raise PairingFailedError(f"not a valid invite: {exc.message}", reason="invite_invalid") from exc
    if invite.did == parts.identity.did:
        raise PairingFailedError("that is your own invite; send it to the peer instead", reason="own_invite")
    has_slot = bool(parts.relay_state.self_endpoints())
    offered: JSONObject = {"relay_url": invite.relay_url, "slot_id": invite.slot_id, "slot_token": invite.slot_token}
    try:  # a loopback issuer relay only when we use one ourselves (or are about to: no slot yet)
        allow_loopback = not has_slot or loopback_allowed(parts.relay_state.self_endpoints())
        issuer = checked_endpoint(offered, allow_loopback=allow_loopback)
    except EndpointRefusedError as exc:
        raise PairingFailedError(f"the invite names an unusable relay slot: {exc}", reason="invite_invalid") from None
    own = await ensure_endpoint(
        parts.pool, parts.relay_state, None if has_slot else issuer.relay_url, parts.identity.handle
    )
    handle = display_handle_from_did(invite.did)
    parts.pin(invite.card)
    parts.relay_state.pin_peer_endpoints(handle, [issuer])
    InboundStore(parts.home).forgive(invite.did)
    shown = await DeliveryTokens(parts.home, parts.pool).for_peer(
        advertised_endpoints(own, include_local=False), invite.did
    )
    body = drop_body(parts.identity, shown, invite.nonce)
    event = sign_pairing_event(parts.identity, invite.did, EventType.PAIR_DROP, body)
    verdict = await parts.sender.send_signed(handle, event)
    status: Literal["drop_sent", "queued"] = "drop_sent" if verdict.delivered else "queued"
    return InviteAcceptResult(invite.did, handle, str(event["event_id"]), status, verdict.reason)
