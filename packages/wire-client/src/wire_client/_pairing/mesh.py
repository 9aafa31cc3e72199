# SPDX-License-Identifier: MIT
"""Same-machine mesh: pair sister sessions by reading each other's home (features notes §5).

The trust anchor is file ownership: a sister's ``agent-card.json`` and ``relay.json`` are read
straight off disk only when they belong to our uid, and the card must verify. Pairing two homes
pins each side in the other's ``trust.json`` / ``relay.json`` (locked, atomic writes, so a running
daemon of either side is safe and picks the change up). Nothing crosses the network, no operator
accept is needed — the operator owns both identities. :func:`pair_all_local` is idempotent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import combinations

from wire_client._errors import PairingFailedError, WireClientError
from wire_client._home.endpoints import Endpoint, RelayStateStore
from wire_client._home.files import read_json
from wire_client._home.paths import WireHome
from wire_client._home.sessions import session_home, session_names
from wire_client._home.trust import TrustStore
from wire_client._pairing.parts import PairingParts
from wire_client._pairing.requests import InboundStore
from wire_client._pairing.results import LocalPairResult, PairAllLocalResult
from wire_protocol import AgentCard, CardError, JSONObject, Tier, character_for, verify_card

__all__ = ["Sister", "find_sister", "pair_all_local", "pair_homes", "pair_local", "sisters"]


@dataclass(frozen=True, slots=True)
class Sister:
    """A local session read from disk: its verified card and its endpoints."""

    name: str
    home: WireHome
    card: AgentCard
    endpoints: tuple[Endpoint, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.card.handle, character_for(self.card.did).nickname)


def _owned(path: os.PathLike[str]) -> bool:
    try:
        return os.stat(path).st_uid == os.getuid()
    except OSError:
        return False


def read_sister(name: str, home: WireHome) -> Sister | None:
    """A session's identity, if it is initialized, verifies, and is owned by us."""
    if not home.is_initialized or not _owned(home.agent_card):
        return None
    if home.relay_state.exists() and not _owned(home.relay_state):
        return None
    try:
        card = verify_card(read_json(home.agent_card))
    except (CardError, WireClientError):
        return None
    return Sister(name, home, card, tuple(RelayStateStore(home).self_endpoints()))


def sisters(home: WireHome) -> list[Sister]:
    """Every readable session under ``home``'s sessions root (``home`` itself included if it is one)."""
    root = home.sessions_root
    found = [read_sister(name, session_home(root, name)) for name in session_names(root)]
    return [s for s in found if s is not None]


def find_sister(home: WireHome, own_did: str, name: str) -> Sister | None:
    """By session name, handle or nickname (case-insensitive); never ourselves."""
    wanted = name.strip().lower()
    for sister in sisters(home):
        if sister.card.did != own_did and wanted in (n.lower() for n in sister.names):
            return sister
    return None


def _paired(home: WireHome, did: str, handle: str) -> bool:
    record = TrustStore(home).get(handle)
    return (
        record is not None
        and record.did == did
        and any(ep.is_ready for ep in RelayStateStore(home).peer_endpoints(handle))
    )


def pair_homes(a: Sister, b: Sister) -> str:
    """Pin ``a`` and ``b`` in each other's home; ``paired`` or ``already_paired``."""
    if not a.endpoints or not b.endpoints:
        missing = a.name if not a.endpoints else b.name
        raise PairingFailedError(f"session {missing!r} has no relay slot; give it one first", reason="no_slot")
    if _paired(a.home, b.card.did, b.card.handle) and _paired(b.home, a.card.did, a.card.handle):
        return "already_paired"
    for me, other in ((a, b), (b, a)):
        TrustStore(me.home).pin_card(other.card, Tier.VERIFIED)
        RelayStateStore(me.home).pin_peer_endpoints(other.card.handle, list(other.endpoints))
        inbound = InboundStore(me.home)
        inbound.forgive(other.card.did)
        inbound.delete(other.card.did)
    return "paired"


def _self_sister(parts: PairingParts) -> Sister:
    name = parts.home.root.name if parts.home.root else parts.identity.handle
    return Sister(name, parts.home, parts.identity.card, tuple(parts.endpoints()))


def pair_local(parts: PairingParts, sister: Sister) -> LocalPairResult:
    """Pair with the local sister session ``sister`` (found with :func:`find_sister`)."""
    status = pair_homes(_self_sister(parts), sister)
    parts.puller.release_held(sister.card.handle)
    return LocalPairResult(
        sister.name, sister.card.handle, sister.card.did, "paired" if status == "paired" else "already_paired"
    )


def pair_all_local(parts: PairingParts) -> PairAllLocalResult:
    """Pair every two local sessions that are not paired both ways yet."""
    found = sisters(parts.home)
    results: list[JSONObject] = []
    for a, b in combinations(found, 2):
        entry: JSONObject = {"from": a.name, "to": b.name}
        try:
            entry["status"] = pair_homes(a, b)
        except WireClientError as exc:
            entry.update({"status": "failed", "error": exc.message})
        results.append(entry)
    parts.puller.release_held()
    return PairAllLocalResult(tuple(s.name for s in found), tuple(results))
