# SPDX-License-Identifier: MIT
"""Building and reading the pairing events every flow shares (protocol §10, notes §4c).

* ``pair_drop`` (kind 1100): ``{card, relay_url, slot_id, slot_token, endpoints?, pair_nonce?}``;
* ``pair_drop_ack`` (kind 1101): ``{relay_url, slot_id, slot_token, endpoints?}``;
* ``wire_close`` (kind 1201): ``{reason, new_relay_url, new_slot_id}`` (no token).

The legacy trio is our best legacy endpoint (federation, else LAN, local, UDS); ``endpoints`` is
omitted rather than sent empty (notes §7.7). Pairing events are addressed to the peer's full DID.
Local and UDS endpoints are advertised only to a peer on the same machine.
"""

from __future__ import annotations

from datetime import UTC, datetime

from wire_client._errors import PairingFailedError, WireClientError
from wire_client._home.endpoints import Endpoint, RelayStateStore, Scope, endpoints_of, record_for
from wire_client._home.identity import Identity
from wire_client._relay.client import RelayPool
from wire_protocol import JSON, PAIRING_KINDS, EventError, EventType, JSONObject, build_event, sign_event

__all__ = [
    "advertised_endpoints",
    "coords_body",
    "drop_body",
    "ensure_endpoint",
    "is_pairing_event",
    "parse_coords",
    "same_machine",
    "sign_pairing_event",
]

_MACHINE_LOCAL = (Scope.LOCAL, Scope.UDS)


def same_machine(peer: list[Endpoint], own: list[Endpoint]) -> bool:
    """True when the peer has a local/UDS endpoint on one of our own local/UDS relays."""
    own_local = {ep.relay_url for ep in own if ep.scope in _MACHINE_LOCAL}
    return any(ep.scope in _MACHINE_LOCAL and ep.relay_url in own_local for ep in peer)


def advertised_endpoints(own: list[Endpoint], *, include_local: bool) -> list[Endpoint]:
    """Our endpoints worth telling a peer about (local/UDS only for a same-machine peer)."""
    chosen = [ep for ep in own if ep.is_ready and (include_local or ep.scope not in _MACHINE_LOCAL)]
    return chosen or [ep for ep in own if ep.is_ready]


def coords_body(endpoints: list[Endpoint]) -> JSONObject:
    """``{relay_url, slot_id, slot_token, endpoints?}`` for a drop or an ack."""
    record = record_for(endpoints)
    if "relay_url" not in record:
        raise PairingFailedError("this identity has no relay slot to advertise; bind a relay first", reason="no_slot")
    return record


def parse_coords(body: JSON) -> list[Endpoint] | None:
    """The endpoints a drop/ack body carries; ``None`` when the legacy trio is missing or empty.

    ``endpoints`` present → its valid entries (none valid → the trio); absent → the trio as one
    federation endpoint. Never an empty list.
    """
    if not isinstance(body, dict):
        return None
    trio = [body.get(name) for name in ("relay_url", "slot_id", "slot_token")]
    if not all(isinstance(value, str) and value for value in trio):
        return None
    listed = endpoints_of(body) if isinstance(body.get("endpoints"), list) else []
    ready = [ep for ep in listed if ep.is_ready]
    return ready or endpoints_of({k: body[k] for k in ("relay_url", "slot_id", "slot_token")})


def is_pairing_event(event: JSONObject, type_: EventType) -> bool:
    """True when ``event`` is a ``type_`` pairing event travelling as its kind."""
    return event.get("type") == type_ and event.get("kind") == PAIRING_KINDS[type_]


def sign_pairing_event(identity: Identity, to_did: str, type_: EventType, body: JSONObject) -> JSONObject:
    """A signed pairing event (its kind follows from ``type_``) from us to ``to_did`` (full DID), schema v3.1."""
    try:
        event = build_event(
            from_did=identity.did,
            to=to_did,
            type=type_.value,
            kind=int(PAIRING_KINDS[type_]),
            body=body,
            timestamp=datetime.now(UTC),
        )
        return sign_event(event, identity.key, identity.did)
    except EventError as exc:
        raise WireClientError(f"cannot build the {type_} event: {exc.message}") from exc


def drop_body(identity: Identity, endpoints: list[Endpoint], nonce: str | None = None) -> JSONObject:
    body: JSONObject = {"card": identity.card.to_json(), **coords_body(endpoints)}
    if nonce is not None:
        body["pair_nonce"] = nonce
    return body


async def ensure_endpoint(
    pool: RelayPool, relay_state: RelayStateStore, relay_url: str | None, handle: str
) -> list[Endpoint]:
    """Our endpoints; with ``relay_url`` and no slot there, a new slot is allocated there and ADDED.

    Pairing through another relay never replaces our existing slots (fixes notes §7.8).
    """
    own = relay_state.self_endpoints()
    wanted = relay_url.rstrip("/") if relay_url else None
    if own and (wanted is None or any(ep.relay_url == wanted for ep in own)):
        return own
    if wanted is None:
        raise PairingFailedError("this identity has no relay slot yet; bind a relay first", reason="no_slot")
    endpoint = await pool.client(wanted).allocate_slot(handle=handle)
    relay_state.add_self_endpoint(endpoint)
    return [*own, endpoint]
