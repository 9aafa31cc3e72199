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
4. The claim proof (issue 18): a wire record's ``claim_proof`` must verify with the card's key for
   this nick, slot and the relay we asked (``proven``). Records without a valid proof (reference
   relays, claims a relay accepted under ``--accept-unproven-claims``, A2A fallbacks) resolve with
   ``proven`` false and the reason; :func:`require_proven` refuses to dial them unless the operator
   allows it (``allow_unproven``, or the environment switch :data:`ALLOW_UNPROVEN_ENV`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from wire_client._errors import PairingFailedError, RelayError, TransportError
from wire_client._relay.client import RelayPool
from wire_protocol import (
    AgentCard,
    CardError,
    ClaimProofError,
    DirectoryRecord,
    HandleError,
    JSONObject,
    WireAddress,
    character_for,
    parse_a2a_card,
    parse_address,
    verify_claim_proof,
)

__all__ = ["ALLOW_UNPROVEN_ENV", "Resolution", "allow_unproven_from_env", "require_proven", "resolve_address"]

#: set to ``1`` to let this process dial directory records that carry no valid claim proof
ALLOW_UNPROVEN_ENV = "WIRE_ALLOW_UNPROVEN_CLAIMS"


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
    proven: bool = False
    proof_problem: str | None = "no claim proof"

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
            "proven": self.proven,
            "proof_problem": self.proof_problem,
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
        proof = raw.get("claim_proof")
        problem = _proof_problem(proof, record.card, record.nick, record.slot_id, base)
        if problem is not None:
            vouching = await _vouching_directory(pool, proof, record, problem)
            if vouching is not None:  # e.g. relay processes sharing one store under several URLs
                problem, base = None, vouching
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
            proven=problem is None,
            proof_problem=problem,
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
        proof_problem="an A2A card carries no claim proof",
    )


def _proof_problem(proof: object, card: AgentCard | None, nick: str, slot_id: str | None, asked: str) -> str | None:
    """None when ``proof`` proves that the card's key claimed ``nick`` for ``slot_id`` at ``asked``."""
    if proof is None:
        return "the directory serves no claim proof (a reference relay, or an unproven claim)"
    if card is None or not slot_id:
        return "the record names no card or no slot"
    ts = proof.get("ts") if isinstance(proof, dict) else None
    try:
        verify_claim_proof(
            proof,
            public_key=card.public_key,
            nick=nick,
            slot_id=slot_id,
            relay_url=asked,
            now=float(ts) if isinstance(ts, int) and not isinstance(ts, bool) else 0.0,
        )
    except ClaimProofError as exc:
        return f"its claim proof does not verify: {exc.message}"
    return None


async def _vouching_directory(pool: RelayPool, proof: object, record: DirectoryRecord, problem: str) -> str | None:
    """The origin a proof names, when the only fault was that it names another relay than the one we
    asked, the proof verifies for that origin, and that origin's directory serves the same DID and
    slot (one bounded request). The caller then talks to that directory (it is the one the card's
    key claimed at), never to the one that merely repeated the record."""
    if "another relay" not in problem or not isinstance(proof, dict) or not isinstance(proof.get("relay"), str):
        return None
    origin = str(proof["relay"])
    if _proof_problem(proof, record.card, record.nick, record.slot_id, origin) is not None:
        return None
    try:
        raw = await pool.client(origin).resolve_handle(record.nick)
    except (RelayError, TransportError):
        return None
    if raw.get("did") != record.did or raw.get("slot_id") != record.slot_id:
        return None
    return origin


def allow_unproven_from_env(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(ALLOW_UNPROVEN_ENV, "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def require_proven(resolved: Resolution, *, allow_unproven: bool) -> None:
    """Refuse to dial an unproven record unless the operator allowed it (flag, MCP parameter, env)."""
    if resolved.proven or allow_unproven or allow_unproven_from_env():
        return
    raise PairingFailedError(
        f"{resolved.address}: the directory at {resolved.base_url} cannot show that {resolved.did} itself "
        f"claimed this name ({resolved.proof_problem}); anyone could have registered it. Dial it only if you "
        f"trust that relay: `wire dial --allow-unproven`, the MCP parameter `allow_unproven: true`, or "
        f"{ALLOW_UNPROVEN_ENV}=1",
        reason="unproven_claim",
    )
