# SPDX-License-Identifier: MIT
"""``agent.pairing``: the one pairing API the CLI and MCP server call (see ``PAIRING.md``).

A thin facade over the parts it is handed (:class:`PairingParts`): each verb delegates to the
module that owns the flow — federation resolution (:mod:`wire_client._relay.directory`), the handle
path (here + :mod:`.handler` on the receiving side), invites (:mod:`.invites`), SPAKE2 + SAS
(:mod:`.sas`), the same-machine mesh (:mod:`.mesh`) and names (:mod:`.names`). Results are frozen
dataclasses with ``to_json()``; none carries a slot token.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from wire_client._errors import (
    ConsentRequiredError,
    PairingFailedError,
    PeerNotFoundError,
    TrustConflictError,
    WireClientError,
)
from wire_client._home.dials import DialRecords
from wire_client._home.endpoints import Endpoint, Scope
from wire_client._home.mailbox import EventLog
from wire_client._messaging.send import SendResult
from wire_client._pairing import invites as _invites
from wire_client._pairing import mesh as _mesh
from wire_client._pairing.coordinates import EndpointRefusedError, checked_endpoint, is_loopback_url, loopback_allowed
from wire_client._pairing.deposits import DeliveryTokens
from wire_client._pairing.events import (
    advertised_endpoints,
    drop_body,
    ensure_endpoint,
    same_machine,
    sign_pairing_event,
)
from wire_client._pairing.handler import purge_held, send_ack
from wire_client._pairing.names import NameResolution, resolve_name
from wire_client._pairing.parts import PairingParts
from wire_client._pairing.refusals import record_dial, send_refusal
from wire_client._pairing.requests import InboundStore, PendingRequest
from wire_client._pairing.results import (
    AcceptResult,
    DialResult,
    ForgetResult,
    LocalPairResult,
    PairAllLocalResult,
    RejectResult,
    RotateResult,
)
from wire_client._pairing.sas_records import TERMINAL, SasState, SasStatus
from wire_client._relay.directory import Resolution, require_proven, resolve_address
from wire_protocol import JSON, EventType, JSONObject, display_handle_from_did, verify_card

if TYPE_CHECKING:
    from wire_client._pairing.sas import SasConfig, SasDriver

__all__ = ["Pairing"]


class Pairing:
    """Pairing and federation verbs of one identity (``WireAgent.pairing``), over the parts it is handed."""

    def __init__(self, parts: PairingParts, *, sas_config: SasConfig | None = None) -> None:
        self.parts = parts
        self.inbound = InboundStore(parts.home)
        self._tokens = DeliveryTokens(parts.home, parts.pool)
        self._sas_config = sas_config

    @functools.cached_property
    def sas(self) -> SasDriver:
        """The code-phrase (SAS) driver, built on first use: a plain send never loads that machinery."""
        from wire_client._pairing.sas import SasDriver

        parts = self.parts
        return SasDriver(
            parts.home,
            parts.identity,
            parts.pool,
            config=self._sas_config,
            pull=parts.puller.pull,
            on_pinned=parts.puller.release_held,
        )

    # --- federation and the handle path ------------------------------------------------------

    async def resolve(self, address: str, relay_url: str | None = None) -> Resolution:
        return await resolve_address(self.parts.pool, address, relay_url)

    async def dial(
        self,
        name: str,
        message: JSON | None = None,
        relay_url: str | None = None,
        *,
        approve_pending: bool = True,
        allow_unproven: bool = False,
    ) -> DialResult:
        """ "Go talk to this name": ``nick@domain`` (handle path), a pinned peer, or a local sister.

        Dialing someone whose pair request is pending accepts that request; a front-end that acts
        for a model (MCP) passes ``approve_pending`` only once the operator said yes. A directory
        record without a valid claim proof is dialed only with ``allow_unproven`` (or the
        ``WIRE_ALLOW_UNPROVEN_CLAIMS=1`` environment switch).
        """
        if "@" in name:
            return await self._dial_address(
                name, message, relay_url, approve_pending=approve_pending, allow_unproven=allow_unproven
            )
        steps: list[JSONObject] = []
        handle = self.find_peer(name)
        if handle is not None:
            steps.append({"step": "resolved", "kind": "already_pinned", "handle": handle})
            status: Literal["already_paired", "paired"] = "already_paired"
            via = "pinned_peer"
        else:
            sister = _mesh.find_sister(self.parts.home, self.parts.identity.did, name)
            if sister is None:
                candidates = tuple(self.suggest(name))
                return DialResult(name, False, "not_found", candidates=candidates, error=_miss_text(name, candidates))
            steps.append({"step": "resolved", "kind": "local_sister", "session": sister.name})
            result = _mesh.pair_local(self.parts, sister)
            steps.append({"step": "paired", "via": "local_sister", "status": result.status})
            handle, status, via = sister.card.handle, result.status, "local_sister"
        await self._maybe_send(handle, message, steps)
        did = self.parts.trust.get(handle)
        return DialResult(name, True, status, via, handle, did.did if did else None, steps=tuple(steps))

    async def _dial_address(
        self,
        address: str,
        message: JSON | None,
        relay_url: str | None,
        *,
        approve_pending: bool,
        allow_unproven: bool,
    ) -> DialResult:
        resolved = await self.resolve(address, relay_url)
        if resolved.card is None or not resolved.slot_id:
            raise PairingFailedError(
                f"{address} is known only as an A2A agent (no wire card/slot); it cannot be paired", reason="a2a_only"
            )
        require_proven(resolved, allow_unproven=allow_unproven)
        if resolved.did == self.parts.identity.did:
            raise PairingFailedError(f"{address} is you", reason="self")
        handle = display_handle_from_did(resolved.did)
        steps: list[JSONObject] = [{"step": "resolved", "kind": "federation", "via": resolved.via}]
        pending = self.inbound.find(resolved.did)
        if pending is not None:
            if not approve_pending:
                raise ConsentRequiredError(
                    f"{resolved.did} is waiting for your answer to its pair request; dialing it accepts that "
                    "request and pins it. Ask the operator first, then dial again with their approval."
                )
            accepted = await self.accept(resolved.did)
            steps.append({"step": "accepted", "ack": accepted.ack_status})
            await self._maybe_send(handle, message, steps)
            return DialResult(address, True, "accepted", "pending_inbound", handle, resolved.did, address,
                              steps=tuple(steps))  # fmt: skip
        pinned = self.parts.trust.get(handle)
        if pinned is not None and pinned.did != resolved.did:
            raise TrustConflictError(f"{handle!r} is already pinned to {pinned.did}; `forget` it first if it changed")
        if pinned is not None and any(ep.is_ready for ep in self.parts.relay_state.peer_endpoints(handle)):
            await self._maybe_send(handle, message, steps)
            return DialResult(address, True, "already_paired", "federation", handle, resolved.did, address,
                              steps=tuple(steps))  # fmt: skip
        has_slot = bool(self.parts.relay_state.self_endpoints())
        allow_loopback = is_loopback_url(resolved.base_url) or loopback_allowed(self.parts.relay_state.self_endpoints())
        try:
            mailbox = checked_endpoint(
                {"relay_url": resolved.relay_url, "slot_id": resolved.slot_id},
                allow_loopback=allow_loopback,
                token_required=False,
            )
        except EndpointRefusedError as exc:
            raise PairingFailedError(
                f"the directory record of {address} names an unusable mailbox: {exc}", reason="bad_directory_record"
            ) from None
        own = await ensure_endpoint(
            self.parts.pool,
            self.parts.relay_state,
            None if has_slot else mailbox.relay_url,
            self.parts.identity.handle,
        )
        shown = await self._tokens.for_peer(advertised_endpoints(own, include_local=False), resolved.did)
        body = drop_body(self.parts.identity, shown)
        event = sign_pairing_event(self.parts.identity, resolved.did, EventType.PAIR_DROP, body)
        # pin (token pending) BEFORE the drop leaves, so an instant ack finds the peer pinned
        pinned_now = self.parts.pin(resolved.card).status == "pinned"
        self.parts.relay_state.pin_peer_endpoints(handle, [mailbox])
        self.inbound.forgive(resolved.did)
        try:
            answer = await self.parts.pool.client(resolved.base_url).intro(resolved.nick, event)
        except WireClientError:
            if pinned_now:  # nothing was sent: leave no half-made pin behind
                self.parts.forget(handle)
            raise
        record_dial(self.parts, resolved.card, str(event["event_id"]), address)
        steps.append({"step": "drop_sent", "event_id": event["event_id"], "status": answer.get("status")})
        await self._maybe_send(handle, message, steps)
        return DialResult(address, True, "drop_sent", "federation", handle, resolved.did, address,
                          str(event["event_id"]), answer, tuple(steps))  # fmt: skip

    async def _maybe_send(self, handle: str, message: JSON | None, steps: list[JSONObject]) -> None:
        if message is None:
            return
        try:
            verdict = await self.parts.sender.send(handle, message)
        except WireClientError as exc:
            steps.append({"step": "send_failed", "error": exc.message})
            return
        steps.append({"step": "sent", "to": handle, "kind": "claim", **verdict.to_json()})

    def pending(self) -> list[PendingRequest]:
        return self.inbound.list()

    async def accept(self, name: str) -> AcceptResult:
        """Accept a pending request: pin VERIFIED with its endpoints and send our ``pair_drop_ack``."""
        request = self.inbound.find(name)
        if request is None:
            waiting = [p.describe() for p in self.inbound.list()]
            raise PairingFailedError(
                f"no pending pair request from {name!r} (names must match exactly)"
                + ("; pending:\n  " + "\n  ".join(waiting) if waiting else ""),
                reason="not_found",
            )
        endpoints = request.endpoints
        if not endpoints:
            raise PairingFailedError(
                f"the request from {request.peer_did} gives no usable relay slot to answer; reject it",
                reason="bad_coordinates",
            )
        card = verify_card(request.record.get("peer_card"))
        self.parts.pin(card)
        handle = display_handle_from_did(card.did)
        current = [ep.slot_id for ep in self.parts.relay_state.peer_endpoints(handle)]
        if self.inbound.accept_coordinates(handle, [ep.slot_id for ep in endpoints], current):
            self.parts.relay_state.pin_peer_endpoints(handle, endpoints)
        self.inbound.forgive(card.did)
        DialRecords(self.parts.home).clear(card.did)  # we are pairing after all: an old refusal is moot
        verdict = await send_ack(self.parts.sender, handle, card.did)
        self.inbound.delete(card.did)
        return AcceptResult(handle, card.did, request.peer_relay_url, verdict.status, verdict.reason)

    async def reject(self, name: str, *, notify: bool = True) -> RejectResult:
        """Delete a pending request for good (its event id and DID are remembered).

        With ``notify`` (the default) the dialer is told: one signed ``pair_reject`` to the slot its
        request named (see :mod:`.refusals`); ``notify=False`` rejects without a word.
        """
        request = self.inbound.find(name)
        if request is None:
            return RejectResult(name, False, False)
        self.inbound.delete(request.peer_did)
        self.inbound.remember_rejection(request.peer_did, request.event_id or None)
        if self.parts.trust.get(request.peer_handle) is None:
            purge_held(EventLog(self.parts.home.held_dir), request.peer_handle)
        if not notify:
            return RejectResult(request.peer_handle, True, True)
        problem = await send_refusal(self.parts, request)
        return RejectResult(request.peer_handle, True, True, problem is None, problem)

    async def forget(self, name: str) -> ForgetResult:
        """Unpair: drop the pin and the peer's endpoints, and refuse its later events (they land in the
        rejections log, not the inbox, and its pair requests are dropped) until we pair with it again."""
        handle = self.find_peer(name)
        record = self.parts.trust.get(handle) if handle is not None else None
        if handle is None or record is None:
            return ForgetResult(name, None, False, None)
        self.parts.forget(handle)
        DialRecords(self.parts.home).clear(record.did)
        self.inbound.remember_rejection(record.did, None)
        purge_held(EventLog(self.parts.home.held_dir), handle)
        return ForgetResult(handle, record.did, True, await self._revoke_delivery_token(handle, record.did))

    async def _revoke_delivery_token(self, handle: str, did: str) -> bool | None:
        """Revoke the deposit tokens pairing handed ``did`` for our slots (``DeliveryTokens``): True when
        all were revoked, False when a relay could not be reached (kept and retried by the next revoke),
        None when the peer holds none (paired before per-peer deposit tokens existed)."""
        del handle
        result = await DeliveryTokens(self.parts.home, self.parts.pool).revoke(did)
        if result.failed:
            return False
        return True if result.revoked else None

    # --- invites -------------------------------------------------------------------------------

    async def mint_invite(
        self, *, ttl_seconds: int = _invites.DEFAULT_TTL, uses: int = 1, share: bool = False,
        relay_url: str | None = None,
    ) -> _invites.InviteResult:  # fmt: skip
        return await _invites.mint(self.parts, ttl_seconds=ttl_seconds, uses=uses, share=share, relay_url=relay_url)

    async def accept_invite(self, url: str) -> _invites.InviteAcceptResult:
        return await _invites.accept(self.parts, url)

    # --- SPAKE2 + SAS --------------------------------------------------------------------------

    async def pair_host(
        self, relay_url: str | None = None, *, wait_seconds: float = 0.0, detach: bool = False
    ) -> SasStatus:
        return await self.sas.start("host", None, relay_url, wait_seconds=wait_seconds, detach=detach)

    async def pair_join(
        self, code: str, relay_url: str | None = None, *, wait_seconds: float = 0.0, detach: bool = False
    ) -> SasStatus:
        return await self.sas.start("guest", code, relay_url, wait_seconds=wait_seconds, detach=detach)

    async def pair_check(self, session_id: str, wait_seconds: float = 8.0) -> SasStatus:
        return await self.sas.drive(session_id, (SasState.SAS_READY, *TERMINAL), wait_seconds)

    async def pair_confirm(self, session_id: str, typed_digits: str, wait_seconds: float = 30.0) -> SasStatus:
        return await self.sas.confirm(session_id, typed_digits, wait_seconds)

    def pair_list(self) -> list[SasStatus]:
        return self.sas.sessions()

    async def pair_cancel(self, session_id: str) -> SasStatus:
        return await self.sas.cancel(session_id)

    async def pair_tick(self) -> list[SasStatus]:
        return await self.sas.tick_all()

    # --- same machine --------------------------------------------------------------------------

    async def pair_local(self, session_name: str) -> LocalPairResult:
        """Pair with the local sister session ``session_name`` (session name, handle or nickname)."""
        sister = _mesh.find_sister(self.parts.home, self.parts.identity.did, session_name)
        if sister is None:
            raise PeerNotFoundError(
                f"no local session matches {session_name!r}", candidates=tuple(self.suggest(session_name))
            )
        return _mesh.pair_local(self.parts, sister)

    async def pair_all_local(self) -> PairAllLocalResult:
        return _mesh.pair_all_local(self.parts)

    async def auto_pair_local(self, name: str) -> str | None:
        """If ``name`` is an unpaired local sister, pair with it; returns its handle (else None)."""
        sister = _mesh.find_sister(self.parts.home, self.parts.identity.did, name)
        if sister is None:
            return None
        _mesh.pair_local(self.parts, sister)
        return sister.card.handle

    async def send(self, peer: str, body: JSON, **options: Any) -> SendResult:
        """``Sender.send`` to ``peer``; an unpaired local sister session is paired first (same-uid disk read).

        An unknown name raises :class:`PeerNotFoundError` carrying did-you-mean ``candidates``.
        """
        try:
            return await self.parts.sender.send(peer, body, **options)
        except PeerNotFoundError as exc:
            sister = await self.auto_pair_local(peer)
            if sister is None:
                raise PeerNotFoundError(exc.message, candidates=tuple(self.suggest(peer))) from None
        return await self.parts.sender.send(sister, body, **options)

    async def send_or_dial(
        self, name: str, body: JSON, *, deadline: datetime | timedelta | str | None = None, **kwargs: Any
    ) -> SendResult:
        """Send to a pinned peer (by handle, DID or nickname) or a local sister (paired first)."""
        target = self.find_peer(name) or name
        return await self.send(target, body, time_sensitive_until=deadline, **kwargs)

    # --- rotation ------------------------------------------------------------------------------

    async def rotate_slot(self, *, announce: bool = True) -> RotateResult:
        """A new slot on our primary relay; every peer gets a refresh ``pair_drop`` then ``wire_close``."""
        own = self.parts.relay_state.self_endpoints()
        old = next((ep for ep in own if ep.scope is Scope.FEDERATION), own[0] if own else None)
        if old is None:
            raise PairingFailedError("no slot to rotate; bind a relay first", reason="no_slot")
        new = await self.parts.pool.client(old.relay_url).allocate_slot(
            scope=old.scope, handle=self.parts.identity.handle
        )
        with contextlib.suppress(WireClientError):
            await self.parts.puller.pull_endpoint(old)  # collect what is already there
        self.parts.relay_state.add_self_endpoint(new)
        handle_moved = await self._move_directory_entry(old, new)
        announced: list[str] = []
        failed: list[JSONObject] = []
        if announce:
            mine = self.parts.relay_state.self_endpoints()
            for peer in self._reachable_peers():
                local = same_machine(peer.endpoints, mine)
                close: JSONObject = {
                    "reason": "slot_rotated",
                    "new_relay_url": new.relay_url,
                    "new_slot_id": new.slot_id,
                }
                try:
                    shown = await self._tokens.for_peer(advertised_endpoints(mine, include_local=local), peer.did)
                    body = drop_body(self.parts.identity, shown)
                    for type_, content in ((EventType.PAIR_DROP, body), (EventType.WIRE_CLOSE, close)):
                        event = sign_pairing_event(self.parts.identity, peer.did, type_, content)
                        await self.parts.sender.send_signed(peer.handle, event)
                except WireClientError as exc:
                    failed.append({"peer": peer.handle, "error": exc.message})
                    continue
                announced.append(peer.handle)
        return RotateResult(old.slot_id, new.slot_id, new.relay_url, tuple(announced), tuple(failed), handle_moved)

    async def reintroduce(self) -> list[str]:
        """Send our current signed card to every paired peer (a refresh ``pair_drop``, same slots).

        Peers re-pin it when it is signed by the key they pinned (``_refresh``); that is how they
        learn our ``dh_pubkey`` and start sealing to us. Returns the handles it reached.
        """
        mine = self.parts.relay_state.self_endpoints()
        reached: list[str] = []
        for peer in self._reachable_peers():
            local = same_machine(peer.endpoints, mine)
            body = drop_body(self.parts.identity, advertised_endpoints(mine, include_local=local))
            event = sign_pairing_event(self.parts.identity, peer.did, EventType.PAIR_DROP, body)
            try:
                if (await self.parts.sender.send_signed(peer.handle, event)).delivered:
                    reached.append(peer.handle)
            except WireClientError:
                continue
        self.parts.identity.home.reintroduce_marker.unlink(missing_ok=True)
        return reached

    async def _move_directory_entry(self, old: Endpoint, new: Endpoint) -> bool:
        """Point our claimed nick at the new slot, proving the old one; False when nothing was claimed there."""
        client = self.parts.pool.client(old.relay_url)
        try:
            record = await client.resolve_handle(self.parts.identity.handle)
        except WireClientError:
            return False  # no directory on this relay (local-only) or no claim: nothing to move
        if record.get("did") != self.parts.identity.did or record.get("slot_id") != old.slot_id:
            return False
        public_url = record.get("relay_url")
        await client.claim_handle(
            self.parts.identity.handle,
            new,
            self.parts.identity.card.to_json(),
            key=self.parts.identity.key,
            public_url=public_url if isinstance(public_url, str) else None,
            current_slot_token=old.slot_token,
        )
        return True

    # --- names ---------------------------------------------------------------------------------

    def resolve_name(self, name: str, *, include_self: bool = False) -> NameResolution:
        """What ``name`` (handle, DID, nickname, session name) is: see :func:`.names.resolve_name`."""
        return resolve_name(self.parts.home, self.parts.identity.did, self.parts.trust, name, include_self=include_self)

    def find_peer(self, name: str) -> str | None:
        """A pinned peer's handle by handle, DID or nickname (case-insensitive); None if absent/ambiguous."""
        return self.resolve_name(name).pinned_handle

    def suggest(self, name: str) -> list[str]:
        """Did-you-mean candidates for a name that matched nothing."""
        return list(self.resolve_name(name).candidates)

    def _reachable_peers(self) -> list[_Peer]:
        slots = self.parts.relay_state.peers()
        found = []
        for handle, record in sorted(self.parts.trust.agents().items()):
            endpoints = slots.get(handle, [])
            if record.did != self.parts.identity.did and any(ep.is_ready for ep in endpoints):
                found.append(_Peer(handle, record.did, endpoints))
        return found


@dataclass(frozen=True, slots=True)
class _Peer:
    handle: str
    did: str
    endpoints: list[Endpoint]


def _miss_text(name: str, candidates: tuple[str, ...]) -> str:
    if candidates:
        quoted = ", ".join(f"`{c}`" for c in candidates)
        return f"no peer matched `{name}`.\nDid you mean: {quoted}?\nList all: `wire peers`, `wire session list-local`."
    return f"no peer matched `{name}`; to reach someone new, dial `<handle>@<relay-domain>`."
