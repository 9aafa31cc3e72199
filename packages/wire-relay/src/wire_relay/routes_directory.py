# SPDX-License-Identifier: AGPL-3.0-or-later
"""The handle directory: claim / unclaim, ``.well-known`` lookups, the listing, and intro drops.

Stricter than the reference v0.9.3 (protocol notes §7, §8), on purpose:

* a claim's card must verify AND its DID must end in its key's fingerprint, the nick must be the
  DID's handle (400 with ``expected``), and ``relay_url`` must be ``http(s)://host[:port]``;
* ``DELETE /v1/handle/claim/:nick`` with the owner's slot bearer releases a nick;
* an intro must be kind 1100 AND type ``pair_drop``/``agent_card``, carry a card that verifies,
  come ``from`` that card's DID and be signed by that card's key; intros are limited per nick
  (5 per 300 s) and per client, and they wake SSE subscribers like any other stored event.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from aiohttp import web

from wire_protocol import (
    CanonicalizationError,
    CardError,
    CardTrust,
    ClaimProof,
    ClaimProofError,
    JSONObject,
    VerificationError,
    bare_handle,
    claim_proof_origin,
    compact_json,
    display_handle_from_did,
    is_valid_nick,
    verify_card,
    verify_claim_proof,
    verify_event,
)
from wire_relay.errors import (
    authorize,
    bearer_token,
    fail,
    json_response,
    opt_bool,
    opt_str,
    query_int,
    read_object,
    req_str,
)
from wire_relay.ratelimit import check_rate, client_address, request_scheme
from wire_relay.routes_events import quota_error
from wire_relay.state import CONFIG, STORE
from wire_relay.store import EventItem, HandleRecord, Store, TokenCheck

__all__ = ["public_routes", "routes"]

routes = web.RouteTableDef()  # every mode
public_routes = web.RouteTableDef()  # public mode only

INTRO_KIND = 1100
INTRO_TYPES = frozenset({"pair_drop", "agent_card"})
PROFILE_LISTING_FIELDS = ("emoji", "motto", "vibe", "pronouns", "now")
#: room in a request body for the fields around an event or a card (nick, slot id, proof...)
BODY_SLACK_BYTES = 4096


def valid_relay_url(url: str) -> bool:
    """``http(s)://host[:port]`` (optionally one trailing ``/``), no userinfo, path, query or fragment."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and port_ok
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
        and url.isascii()
        and not any(c.isspace() for c in url)
    )


def _record_json(record: HandleRecord) -> dict[str, object]:
    return {
        "nick": record.nick,
        "did": record.did,
        "card": record.card,
        "slot_id": record.slot_id,
        "relay_url": record.relay_url,
        "claimed_at": record.claimed_at,
        "proven": record.proven,
        "claim_proof": record.proof,
    }


def _checked_proof(
    request: web.Request, body: JSONObject, public_key: bytes, nick: str, slot_id: str
) -> ClaimProof | None:
    """The claim's verified proof of key possession; None only when it has none and the operator
    accepts unproven claims. A proof that is present is always checked (400 when it fails)."""
    config = request.app[CONFIG]
    raw = body.get("proof")
    if raw is None:
        if config.accept_unproven_claims:
            return None
        fail(
            403,
            "this relay requires a claim proof: sign {nick, slot_id, relay, ts, nonce} with the card's key "
            "(field `proof`, see docs/PROTOCOL.md)",
            required="proof",
            relay=relay_origin(request),
        )
    try:
        return verify_claim_proof(
            raw, public_key=public_key, nick=nick, slot_id=slot_id, relay_url=relay_origin(request), now=config.clock()
        )
    except ClaimProofError as exc:
        fail(400, f"claim proof invalid: {exc.message}", relay=relay_origin(request))


def relay_origin(request: web.Request) -> str:
    """This relay's origin as a claim proof names it: ``--public-url``'s, else scheme and Host."""
    config = request.app[CONFIG]
    base = config.public_url or f"{request_scheme(request, config)}://{request.host}"
    try:
        return claim_proof_origin(base)
    except ClaimProofError:
        return "http://invalid"


async def _check_move(store: Store, nick: str, did: str, slot_id: str, proof: str | None) -> HandleRecord | None:
    """A nick already bound to a slot moves to another slot only with that slot's bearer token.

    A card is public (it is served by ``.well-known``), so presenting it proves nothing; without
    this rule anyone could replay a victim's card to re-point the victim's nick at their own slot
    and receive the pair_drops meant for the victim — which carry the dialer's slot token. The
    reference relay has that hole; re-claiming on the same slot is unaffected.
    """
    current = await store.get_handle(nick)
    if current is None or current.did != did or current.slot_id == slot_id:
        return current  # first claim, a conflict the store reports, or a refresh on the same slot
    if proof is None or await store.check_token(current.slot_id, proof) is not TokenCheck.OK:
        fail(
            409,
            "this nick is bound to another slot; to move it, send current_slot_token (the bearer token of that "
            "slot), or release it first with DELETE /v1/handle/claim/{nick} using that token",
            nick=nick,
            bound_slot_id=current.slot_id,
        )
    return current


@routes.post("/v1/handle/claim")
async def claim(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    body = await read_object(request, config.max_card_bytes + BODY_SLACK_BYTES)
    nick = req_str(body, "nick")
    slot_id = req_str(body, "slot_id")
    relay_url = opt_str(body, "relay_url")
    discoverable = opt_bool(body, "discoverable")
    if "card" not in body:
        fail(422, "missing field `card`")
    await authorize(request, store, slot_id)
    if not is_valid_nick(nick):
        fail(400, "invalid nick: 2-32 of [a-z0-9_-], not reserved", nick=nick)
    try:
        card = verify_card(body["card"])
    except CardError as exc:
        fail(400, f"card signature invalid: {exc.message}")
    card_json = card.to_json()
    if len(compact_json(card_json)) > config.max_card_bytes:
        fail(413, "agent-card too large", max_bytes=config.max_card_bytes)
    expected = display_handle_from_did(card.did)
    if nick != expected:
        fail(400, "nick must be the handle of the card's DID", nick=nick, expected=expected)
    if relay_url is not None and not valid_relay_url(relay_url):
        fail(400, "relay_url must be http(s)://host[:port] without credentials or path", relay_url=relay_url)
    proof = _checked_proof(request, body, card.public_key, nick, slot_id)
    current = await _check_move(store, nick, card.did, slot_id, opt_str(body, "current_slot_token"))
    if current is not None and current.did == card.did and current.proven and proof is None:
        fail(409, "this nick holds a proven claim; re-claim it with a proof", nick=nick, required="proof")
    claimed_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(config.clock()))
    record = HandleRecord(
        nick=nick,
        did=card.did,
        card=card_json,
        slot_id=slot_id,
        relay_url=relay_url,
        claimed_at=claimed_at,
        proof=proof.to_json() if proof is not None else None,
        proven=proof is not None,
    )
    result = await store.claim_handle(record, discoverable=discoverable)
    if result.status == "conflict":
        fail(409, "nick already claimed by another identity", nick=nick, claimed_by=result.record.did)
    return json_response({"nick": nick, "did": card.did, "status": result.status}, status=201)


@routes.delete("/v1/handle/claim/{nick}")
async def unclaim(request: web.Request) -> web.Response:
    """Our addition (as at reference HEAD): release a nick with the bearer of the slot it points to."""
    store = request.app[STORE]
    nick = request.match_info["nick"]
    token = bearer_token(request)
    record = await store.get_handle(nick)
    if record is None:
        fail(404, "nick not claimed", nick=nick)
    if await store.check_token(record.slot_id, token) is not TokenCheck.OK:
        fail(403, "bad token")
    if not await store.unclaim_handle(nick, record.slot_id):
        fail(409, "nick changed hands while unclaiming; retry", nick=nick)
    return json_response({"nick": nick, "status": "unclaimed"})


def nick_query(request: web.Request) -> str:
    handle = request.query.get("handle")
    if handle is None:
        fail(400, "missing query parameter `handle`")
    nick = bare_handle(handle).strip()
    if not nick:
        fail(400, "empty handle")
    return nick


async def queried_record(request: web.Request) -> HandleRecord:
    """The record of the ``?handle=`` a ``.well-known`` lookup names (400 without one, 404 unclaimed)."""
    nick = nick_query(request)
    record = await request.app[STORE].get_handle(nick)
    if record is None:
        fail(404, "nick not claimed", nick=nick)
    return record


@public_routes.get("/.well-known/wire/agent")
async def well_known_agent(request: web.Request) -> web.Response:
    return json_response(_record_json(await queried_record(request)))


def profile_summary(record: HandleRecord) -> dict[str, object]:
    profile = record.card.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    return {name: profile.get(name) for name in PROFILE_LISTING_FIELDS}


@public_routes.get("/v1/handles")
async def list_handles(request: web.Request) -> web.Response:
    limit = max(1, min(query_int(request, "limit", 100), 500))
    cursor = request.query.get("cursor") or None
    vibe = request.query.get("vibe") or None
    records = await request.app[STORE].list_handles(
        cursor=cursor, limit=limit, vibe=vibe.lower() if vibe is not None else None
    )
    handles = [
        {"nick": r.nick, "did": r.did, "profile": profile_summary(r), "claimed_at": r.claimed_at} for r in records
    ]
    next_cursor = records[-1].nick if len(records) == limit else None
    return json_response({"handles": handles, "next_cursor": next_cursor})


@routes.post("/v1/handle/intro/{nick}")
async def intro(request: web.Request) -> web.Response:
    config, store = request.app[CONFIG], request.app[STORE]
    await check_rate(store, config, "intro", client_address(request, config))
    body = await read_object(request, config.max_intro_bytes + BODY_SLACK_BYTES)
    if "event" not in body:
        fail(422, "missing field `event`")
    event = body["event"]
    nick = request.match_info["nick"]
    record = await store.get_handle(nick) if is_valid_nick(nick) else None
    if record is None:
        fail(404, "nick not claimed", nick=nick)
    kind = event.get("kind") if isinstance(event, dict) else None
    type_ = event.get("type") if isinstance(event, dict) else None
    if not isinstance(event, dict) or kind != INTRO_KIND or type_ not in INTRO_TYPES:
        fail(400, "intro must be kind 1100 with type pair_drop or agent_card", got_kind=kind, got_type=type_)
    event_body = event.get("body")
    raw_card = event_body.get("card") if isinstance(event_body, dict) else None
    if raw_card is None:
        fail(400, "intro event needs body.card")
    try:
        card = verify_card(raw_card)
    except CardError as exc:
        fail(400, f"card signature invalid: {exc.message}")
    if event.get("from") != card.did:
        fail(400, "intro event `from` must be the DID of body.card", card_did=card.did)
    try:
        verify_event(event, CardTrust([card]))
    except VerificationError as exc:
        fail(400, f"event signature invalid: {exc.message}", reason=exc.code)
    try:
        data = compact_json(event)
    except CanonicalizationError as exc:  # pragma: no cover - verify_event canonicalised it already
        fail(400, f"event cannot be stored: {exc.message}")
    limit = min(config.max_event_bytes, config.max_intro_bytes)
    if len(data) > limit:
        return json_response({"error": "intro event too large", "max_bytes": limit}, status=413)
    # charged only now that the drop verified, per (nick, sender): junk and other senders' drops cost
    # this nick nothing, and one sender is bounded across every nick
    await check_rate(store, config, "intro_nick", f"{nick}|{card.did}")
    await check_rate(store, config, "intro_sender", card.did)
    event_id = event.get("event_id")
    event_id = event_id if isinstance(event_id, str) else None
    result = await store.append(
        record.slot_id, EventItem(event_id, data), quota=config.slot_quota_bytes, count_posted=False
    )
    if result.status == "quota_exceeded":
        return quota_error(result.slot_bytes_used, config.slot_quota_bytes, "target slot quota exceeded")
    if result.status == "duplicate":
        return json_response({"event_id": event_id, "status": "duplicate"})
    if result.status == "unknown_slot":
        fail(404, "nick's slot no longer exists", nick=nick)
    return json_response({"event_id": event_id, "status": "dropped", "to_nick": nick}, status=201)
