# SPDX-License-Identifier: MIT
"""Federation: resolve ``nick@domain`` to a verified directory record (protocol §9.2, notes §5).

1. Base URL: the explicit ``relay_url`` override, else ``https://<domain>`` — ``http://`` for the
   loopback authorities ``127.0.0.1:PORT`` / ``localhost:PORT``.
2. ``GET <base>/.well-known/wire/agent?handle=<nick>``. A 2xx answer must carry a card that
   verifies (DID bound to the key) with ``did`` == ``card.did``; if it does not, resolution FAILS —
   we never fall back after a 2xx (a poisoned record must not be papered over by another source).
3. Only when request 2 itself failed (non-2xx, network error, not a JSON object):
   ``GET <base>/.well-known/agent-card.json?handle=<nick>`` and read the wire extension. Without
   it the result is ``a2a_only`` (known to exist, cannot be paired).
"""

from __future__ import annotations

from dataclasses import dataclass

from wire_client._errors import PairingFailedError, RelayError, TransportError
from wire_client._relay.client import RelayPool
from wire_protocol import (
    AgentCard,
    CardError,
    DirectoryRecord,
    HandleError,
    JSONObject,
    WireAddress,
    character_for,
    parse_a2a_card,
    parse_address,
)

__all__ = ["Resolution", "resolve_address"]


@dataclass(frozen=True, slots=True)
class Resolution:
    """A resolved ``nick@domain``: verified card, where its mailbox is, and how we learned it."""

    address: str
    nick: str
    did: str
    card: AgentCard | None
    slot_id: str | None
    relay_url: str
    base_url: str
    claimed_at: str | None
    via: str
    a2a_only: bool = False

    @property
    def pairable(self) -> bool:
        return self.card is not None and bool(self.slot_id)

    def to_json(self) -> JSONObject:
        character = character_for(self.did)
        return {
            "address": self.address,
            "nick": self.nick,
            "did": self.did,
            "card": self.card.to_json() if self.card is not None else None,
            "slot_id": self.slot_id,
            "relay_url": self.relay_url,
            "claimed_at": self.claimed_at,
            "via": self.via,
            "a2a_only": self.a2a_only,
            "fingerprint": self.card.fingerprint if self.card is not None else None,
            "character": {"nickname": character.nickname, "emoji": character.emoji},
        }


def parse_wire_address(text: str) -> WireAddress:
    try:
        return parse_address(text)
    except HandleError as exc:
        raise PairingFailedError(exc.message, reason="bad_address") from exc


async def resolve_address(pool: RelayPool, address: str, relay_url: str | None = None) -> Resolution:
    """Resolve ``address`` (``nick@domain``); raises :class:`PairingFailedError` (``reason``) on failure."""
    parsed = parse_wire_address(address)
    base = (relay_url or parsed.relay_url).rstrip("/")
    client = pool.client(base)
    first_error: str
    try:
        raw = await client.resolve_handle(parsed.nick)
    except (RelayError, TransportError) as exc:
        first_error = exc.message
    else:
        try:
            record = DirectoryRecord.from_wire_agent_json(raw)
        except CardError as exc:
            raise PairingFailedError(
                f"{address}: the directory at {base} answered, but its record does not verify ({exc.message}); "
                "refusing to pair with it",
                reason="directory_record_invalid",
            ) from exc
        return Resolution(
            address=str(parsed),
            nick=record.nick,
            did=record.did,
            card=record.card,
            slot_id=record.slot_id,
            relay_url=(record.relay_url or base).rstrip("/"),
            base_url=base,
            claimed_at=record.claimed_at,
            via="wire",
        )
    try:
        doc = await client.a2a_card(parsed.nick)
    except (RelayError, TransportError) as exc:
        status = exc.status if isinstance(exc, RelayError) else None
        raise PairingFailedError(
            f"couldn't resolve {address} at {base}: {first_error}; A2A fallback: {exc.message}",
            reason="not_found" if status == 404 else "resolve_failed",
        ) from exc
    try:
        a2a = parse_a2a_card(doc)
    except CardError as exc:
        raise PairingFailedError(
            f"{address}: the A2A card at {base} does not verify ({exc.message})", reason="directory_record_invalid"
        ) from exc
    directory_url = a2a.relay_url if not a2a.a2a_only else None
    return Resolution(
        address=str(parsed),
        nick=a2a.nick or parsed.nick,
        did=a2a.did,
        card=a2a.card,
        slot_id=a2a.slot_id,
        relay_url=(directory_url or base).rstrip("/"),
        base_url=base,
        claimed_at=a2a.claimed_at,
        via="a2a",
        a2a_only=a2a.a2a_only,
    )
