# SPDX-License-Identifier: MIT
"""Telling a dialer "declined", and believing such news only from the peer we dialed (PROTOCOL §10.5).

Sending: ``reject`` posts one signed ``pair_reject`` (kind 1201, a kind every v3.1 receiver knows;
a reference dialer pinned us when it dialed, so it verifies the event and files it as a message —
its cursor never blocks) to the slot the request itself named, through the same checked
coordinates an accept would use. One attempt, bounded by the relay timeout; nothing is queued and
nothing is pinned.

Receiving (:func:`apply_refusal`): the event changes our state only when it is signed by the exact
key we pinned for that DID when we dialed, is addressed to our full DID, names the event id of our
``pair_drop`` and we are still waiting for that peer's ack (``PENDING_ACK``). Anything else is
recorded in ``pair-rejected.jsonl`` and dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime

from wire_client._errors import WireClientError
from wire_client._home.dials import DialRecord, DialRecords
from wire_client._home.trust import TrustStore
from wire_client._messaging.hook import PairingContext
from wire_client._notify import toast_in_background
from wire_client._pairing.events import sign_pairing_event
from wire_client._pairing.parts import PairingParts
from wire_client._pairing.requests import InboundStore, PendingRequest
from wire_protocol import (
    AgentCard,
    EventType,
    JSONObject,
    VerificationError,
    b64encode,
    display_handle_from_did,
    format_timestamp,
    verify_event,
)

__all__ = ["apply_refusal", "record_dial", "send_refusal"]

#: what a refusal says about itself (machine-readable; the text is for reference clients' operators)
REASON = "declined"


def record_dial(parts: PairingParts, card: AgentCard, event_id: str, address: str) -> None:
    """Remember our pair request to ``card.did``: the only request a later refusal may name."""
    DialRecords(parts.home).record_dial(
        DialRecord(card.did, event_id, b64encode(card.public_key), address, format_timestamp(datetime.now(UTC)))
    )


async def send_refusal(parts: PairingParts, request: PendingRequest) -> str | None:
    """Post our signed ``pair_reject`` to the slot ``request`` named; ``None`` when delivered, else why not."""
    endpoints = request.endpoints  # re-checked: federation scope, http(s)://host[:port], 32-hex slot id
    if not endpoints or not request.event_id:
        return "the request named no usable slot to answer"
    body: JSONObject = {
        "request_event_id": request.event_id,
        "reason": REASON,
        "text": f"{parts.identity.handle} declined your pair request",
    }
    event = sign_pairing_event(parts.identity, request.peer_did, EventType.PAIR_REJECT, body)
    target = endpoints[0]
    try:
        await parts.pool.client(target.relay_url).post_event(target, event)
    except WireClientError as exc:
        return exc.message
    return None


def apply_refusal(event: JSONObject, context: PairingContext) -> bool:
    """Mark our dial to the sender refused when ``event`` passes every check; False (reported) otherwise."""
    inbound = InboundStore(context.home)
    sender = event.get("from")
    problem = _problem(event, context, sender if isinstance(sender, str) else "")
    if problem is not None:
        inbound.report(str(sender), "pair_reject_refused", problem)
        return False
    did = str(sender)
    received = format_timestamp(datetime.now(UTC))
    DialRecords(context.home).mark_refused(did, received)
    handle = display_handle_from_did(did)
    toast_in_background(f"wire — {handle} declined", f"{handle} declined your pair request")
    return True


def _problem(event: JSONObject, context: PairingContext, did: str) -> str | None:
    record = DialRecords(context.home).get(did) if did else None
    if record is None:
        return "no pair request of ours to this sender"
    if event.get("to") != context.identity.did:
        return "not addressed to our full DID"
    handle = display_handle_from_did(did)
    pinned = context.trust.get(handle)
    if pinned is None or pinned.did != did or _pinned_key(context.trust, handle) != record.public_key:
        return "the sender is not the peer (and key) we dialed"
    if any(ep.is_ready for ep in context.relay_state.peer_endpoints(handle)):
        return "already paired: a refusal cannot undo an accepted pair request"
    body = event.get("body")
    if not isinstance(body, dict) or body.get("request_event_id") != record.event_id:
        return "it does not name our current pair request"
    try:
        verify_event(event, context.trust)
    except VerificationError as exc:
        return f"signature: {exc.message}"
    return None


def _pinned_key(trust: TrustStore, handle: str) -> str | None:
    keys = [k for k in trust.keys_for(handle) or () if k.active]
    return b64encode(keys[0].public_key) if len(keys) == 1 else None
