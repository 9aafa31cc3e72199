# SPDX-License-Identifier: MIT
"""Receiving pairing events: the default :class:`PairingHandler` of every puller and daemon.

Called before normal verification for kinds 1100/1101/1201 (protocol §7 step 3):

* ``pair_drop`` — from a DID we already pinned: a re-intro / slot rotation. Verified against the
  PINNED keys (not the card it carries), its coordinates refresh the peer's endpoints (never
  rolled back by an older replay) and we re-send our ack. With a ``pair_nonce`` we minted, unexpired
  and with uses left: the invite path (pin at once, no ack). An expired nonce: refused and
  reported. Anything else (no nonce, unknown or used-up nonce): a pending inbound request — never
  pinned, never acked until the operator accepts; a rejected DID / event id is dropped for good.
  The drop then continues to verification, where an unknown sender is parked (the cursor moves).
* ``pair_drop_ack`` — verified against trust BEFORE anything changes (fixes notes §7.4); then it
  updates the sender's endpoints. An ack from a SAS peer completes that session.
* ``pair_reject`` — "declined": applied only as :mod:`.refusals` allows; always consumed.
* ``wire_close`` — verified first; ``{new_relay_url, new_slot_id}`` replaces the peer's slot on that
  relay (a token we do not know yet leaves that endpoint pending until the refresh drop arrives).
"""

from __future__ import annotations

import contextlib
import logging

from wire_client._errors import HomeError, WireClientError
from wire_client._home.dials import DialRecords
from wire_client._home.endpoints import Endpoint, Scope
from wire_client._home.files import read_json
from wire_client._home.mailbox import EventLog
from wire_client._messaging.hook import PairingContext, PairingDecision
from wire_client._messaging.send import Sender, SendResult
from wire_client._notify import toast_in_background
from wire_client._pairing.coordinates import EndpointRefusedError, checked_endpoint, loopback_allowed, peer_coords
from wire_client._pairing.deposits import DeliveryTokens, invite_key
from wire_client._pairing.events import (
    advertised_endpoints,
    coords_body,
    is_pairing_event,
    same_machine,
    sign_pairing_event,
)
from wire_client._pairing.invites import InviteStore
from wire_client._pairing.refusals import apply_refusal
from wire_client._pairing.requests import InboundStore, pending_record
from wire_protocol import (
    JSON,
    AgentCard,
    CardError,
    CardTrust,
    EventType,
    JSONObject,
    Tier,
    VerificationError,
    display_handle_from_did,
    verify_card,
    verify_event,
)

__all__ = ["DefaultPairingHandler", "WirePairingHandler", "purge_held", "send_ack"]

log = logging.getLogger(__name__)


async def send_ack(sender: Sender, handle: str, peer_did: str) -> SendResult:
    """Sign and deliver (or queue) our ``pair_drop_ack`` to a pinned peer, through the one ``sender``."""
    own = sender.relay_state.self_endpoints()
    peer_endpoints = sender.relay_state.peer_endpoints(handle)
    shown = advertised_endpoints(own, include_local=same_machine(peer_endpoints, own))
    body = coords_body(await DeliveryTokens(sender.home, sender.pool).for_peer(shown, peer_did))
    ack = sign_pairing_event(sender.identity, peer_did, EventType.PAIR_DROP_ACK, body)
    return await sender.send_signed(handle, ack)


class DefaultPairingHandler:
    """Records a ``pair_drop`` from an unknown sender as a pending-inbound pair; never pins or acks.

    For embedders that want requests recorded but every other pairing decision left to them.
    Everything else continues to normal verification.
    """

    async def handle_pairing_event(self, event: JSONObject, context: PairingContext) -> PairingDecision:
        body = event.get("body")
        if not is_pairing_event(event, EventType.PAIR_DROP) or not isinstance(body, dict):
            return PairingDecision.CONTINUE
        policy = read_json(context.home.policy, {})
        if isinstance(policy, dict) and policy.get("accept_unknown_pair_drops") is False and "pair_nonce" not in body:
            return PairingDecision.CONTINUE
        try:
            card = verify_card(body.get("card"))
            verify_event(event, CardTrust([card]))
        except (CardError, VerificationError) as exc:
            log.info("pair_drop %s ignored: %s", event.get("event_id"), exc)
            return PairingDecision.CONTINUE
        if context.trust.get(display_handle_from_did(card.did)) is not None:
            return PairingDecision.CONTINUE
        inbound = InboundStore(context.home)
        record = pending_record(event, card, context.relay_state.self_endpoints(), inbound)
        if record is not None:
            with contextlib.suppress(HomeError):  # a DID that cannot be a file name is not recorded
                inbound.write(record)
        return PairingDecision.CONTINUE


class WirePairingHandler:
    """Handle-path, invite, SAS-ack and rotation side effects of incoming pairing events.

    Acks leave through ``sender``: the assembler's one :class:`Sender`, so they share its outbox
    order and locks with everything else we send.
    """

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    async def handle_pairing_event(self, event: JSONObject, context: PairingContext) -> PairingDecision:
        try:
            if is_pairing_event(event, EventType.PAIR_DROP):
                return await self._on_drop(event, context)
            if is_pairing_event(event, EventType.PAIR_DROP_ACK):
                return await self._on_ack(event, context)
            if is_pairing_event(event, EventType.WIRE_CLOSE):
                return self._on_close(event, context)
            if is_pairing_event(event, EventType.PAIR_REJECT):
                apply_refusal(event, context)  # applied or reported: never a message
                return PairingDecision.CONSUMED
        except (WireClientError, OSError) as exc:  # never let one bad event stop receiving
            log.warning("pairing event %s not applied: %s", event.get("event_id"), exc)
            InboundStore(context.home).report(str(event.get("from")), "pairing_event_failed", str(exc))
        return PairingDecision.CONTINUE

    # --- pair_drop -----------------------------------------------------------------------------

    async def _on_drop(self, event: JSONObject, context: PairingContext) -> PairingDecision:
        body = event.get("body")
        inbound = InboundStore(context.home)
        if not isinstance(body, dict):
            return PairingDecision.CONTINUE
        try:
            card = verify_card(body.get("card"))
            if event.get("from") != card.did:
                raise VerificationError(
                    "event `from` is not the DID of body.card", code="from_mismatch", transient=False
                )
            verify_event(event, CardTrust([card]))
        except (CardError, VerificationError) as exc:
            inbound.report(str(event.get("from")), "pair_drop_invalid", exc.message)
            return PairingDecision.CONTINUE
        if card.did == context.identity.did:
            return PairingDecision.CONSUMED
        handle = display_handle_from_did(card.did)
        pinned = context.trust.get(handle)
        if pinned is not None and pinned.did == card.did:
            return await self._refresh(event, card, context)
        nonce = body.get("pair_nonce")
        if nonce is not None:
            outcome = InviteStore(context.home).consume(nonce, card.did)
            if outcome == "ok":
                endpoints = _checked_coords(context, handle, body, "pair_drop")
                if endpoints:
                    if isinstance(nonce, str):  # the invite's deposit token is now (also) this peer's
                        DeliveryTokens(context.home, self.sender.pool).share(invite_key(nonce), card.did)
                    self._pin(context, card, endpoints)
                    _notify(f"wire — invite accepted by {handle}", f"{handle} paired with you through your invite")
                return PairingDecision.CONTINUE
            if outcome == "expired":
                inbound.report(handle, "invite_expired", f"pair_drop {event.get('event_id')} used an expired invite")
                return PairingDecision.CONSUMED
        policy = read_json(context.home.policy, {})
        if isinstance(policy, dict) and policy.get("accept_unknown_pair_drops") is False:
            return PairingDecision.CONTINUE
        event_id = event.get("event_id")
        if inbound.is_rejected(card.did, event_id if isinstance(event_id, str) else None):
            return PairingDecision.CONSUMED
        record = pending_record(event, card, context.relay_state.self_endpoints(), inbound)
        if record is None:
            return PairingDecision.CONSUMED  # nowhere safe to answer: not a request anyone can accept
        try:
            fresh = inbound.write(record)
        except HomeError as exc:
            log.info("pair_drop from %r not recorded: %s", card.did, exc)
            return PairingDecision.CONTINUE
        if fresh:
            _notify(f"wire — pair request from {handle}", f"accept with `wire accept {card.did}`")
        return PairingDecision.CONTINUE

    async def _refresh(self, event: JSONObject, card: AgentCard, context: PairingContext) -> PairingDecision:
        """A drop from a peer we already pinned: new coordinates (rotation) or a re-dial; re-ack.

        Applied only when signed by the PINNED key (not the card it brought along), only with
        checked federation coordinates, and re-acked only to those.
        """
        handle = display_handle_from_did(card.did)
        try:
            verify_event(event, context.trust)
        except VerificationError as exc:
            InboundStore(context.home).report(handle, "refresh_unverified", exc.message)
            return PairingDecision.CONSUMED
        endpoints = _checked_coords(context, handle, event.get("body"), "refresh")
        if not endpoints:
            return PairingDecision.CONSUMED
        pinned_keys = context.trust.keys_for(handle) or ()
        if not any(k.public_key == card.public_key and k.active for k in pinned_keys):
            InboundStore(context.home).report(handle, "refresh_key_changed", "card update with another Ed25519 key")
            return PairingDecision.CONSUMED
        if not _accept(context, handle, endpoints):
            return PairingDecision.CONTINUE  # a replay of coordinates the peer already left
        context.trust.pin_card(card, Tier.VERIFIED)  # same DID + same key: picks up profile and dh_pubkey changes
        context.relay_state.pin_peer_endpoints(handle, endpoints)
        await send_ack(self.sender, handle, card.did)
        return PairingDecision.CONTINUE

    def _pin(self, context: PairingContext, card: AgentCard, endpoints: list[Endpoint]) -> None:
        handle = display_handle_from_did(card.did)
        context.trust.pin_card(card, Tier.VERIFIED)
        if _accept(context, handle, endpoints):
            context.relay_state.pin_peer_endpoints(handle, endpoints)
        InboundStore(context.home).delete(card.did)

    # --- pair_drop_ack -------------------------------------------------------------------------

    async def _on_ack(self, event: JSONObject, context: PairingContext) -> PairingDecision:
        # here, not at module level: the SAS machinery (filelock, SPAKE2 records) is loaded by every
        # agent that receives, but only an ack that answers a code-phrase pairing needs it
        from wire_client._pairing.sas import complete_from_ack

        if await complete_from_ack(context.home, event):
            return PairingDecision.CONTINUE
        try:
            verified = verify_event(event, context.trust)  # before anything changes (notes §7.4)
        except VerificationError as exc:
            if not exc.transient:
                InboundStore(context.home).report(str(event.get("from")), "ack_unverified", exc.message)
            return PairingDecision.CONTINUE
        handle = verified.sender_handle
        if handle == context.identity.handle:
            return PairingDecision.CONTINUE
        endpoints = _checked_coords(context, handle, event.get("body"), "pair_drop_ack")
        if endpoints and _accept(context, handle, endpoints):
            context.relay_state.pin_peer_endpoints(handle, endpoints)
            DialRecords(context.home).clear(str(event.get("from")))  # answered: no refusal can apply now
            _notify(f"wire — pair complete with {handle}", f"you can now send to {handle}")
        return PairingDecision.CONTINUE

    # --- wire_close ----------------------------------------------------------------------------

    def _on_close(self, event: JSONObject, context: PairingContext) -> PairingDecision:
        try:
            verified = verify_event(event, context.trust)
        except VerificationError:
            return PairingDecision.CONTINUE
        handle = verified.sender_handle
        body = event.get("body")
        if handle == context.identity.handle or not isinstance(body, dict):
            return PairingDecision.CONTINUE
        announced: JSONObject = {"relay_url": body.get("new_relay_url"), "slot_id": body.get("new_slot_id"),
                                 "slot_token": body.get("new_slot_token") or ""}  # fmt: skip
        try:
            moved = checked_endpoint(
                announced, allow_loopback=loopback_allowed(context.relay_state.self_endpoints()), token_required=False
            )
        except EndpointRefusedError as exc:
            InboundStore(context.home).report(handle, "wire_close_refused", str(exc))
            return PairingDecision.CONSUMED
        url, new_slot, token = moved.relay_url, moved.slot_id, moved.slot_token
        current = context.relay_state.peer_endpoints(handle)
        if any(ep.slot_id == new_slot for ep in current):
            return PairingDecision.CONTINUE  # the refresh drop already brought the new slot
        leaving = [ep.slot_id for ep in current if ep.relay_url == url]
        if not InboundStore(context.home).accept_coordinates(handle, [new_slot], leaving):
            return PairingDecision.CONTINUE  # an old announcement replayed
        replaced = [Endpoint(url, new_slot, token, ep.scope) if ep.relay_url == url else ep for ep in current]
        if not any(ep.relay_url == url for ep in current):
            replaced.append(Endpoint(url, new_slot, token, Scope.FEDERATION))
        context.relay_state.pin_peer_endpoints(handle, replaced)
        return PairingDecision.CONTINUE


def _checked_coords(context: PairingContext, handle: str, body: JSON, what: str) -> list[Endpoint]:
    """The checked federation endpoints a drop/ack body offers; refusals are reported."""
    coords = peer_coords(body, allow_loopback=loopback_allowed(context.relay_state.self_endpoints()))
    if coords.refused:
        InboundStore(context.home).report(handle, f"{what}_endpoints_refused", "; ".join(coords.refused))
    return list(coords.endpoints)


def _accept(context: PairingContext, handle: str, endpoints: list[Endpoint]) -> bool:
    """Replay check for offered coordinates (see :meth:`InboundStore.accept_coordinates`)."""
    current = [ep.slot_id for ep in context.relay_state.peer_endpoints(handle)]
    return InboundStore(context.home).accept_coordinates(handle, [ep.slot_id for ep in endpoints], current)


def purge_held(home_held: EventLog, handle: str) -> None:
    """Forget events parked from ``handle`` (a rejected stranger)."""
    if home_held.path(handle).exists():
        home_held.replace(handle, [])


def _notify(title: str, body: str) -> None:
    toast_in_background(title, body)
