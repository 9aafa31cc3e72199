# SPDX-License-Identifier: MIT
"""Peer names: what an operator or agent typed, resolved once for every front-end.

:func:`resolve_name` looks, in order, for

1. a pinned peer whose handle or DID equals the name (case-insensitive);
2. a pinned peer whose nickname does — the card's display nickname or the DID-derived one; two
   peers sharing it make the result ``ambiguous`` (the handle must be used instead);
3. a sister session on this machine (session name, handle or nickname; see :mod:`.mesh`).

A miss carries did-you-mean candidates (features notes §2): case-insensitive (ASCII-lowercased)
Levenshtein distance over every pinned handle and nickname and every sister's names; at most 3
within distance 3, closest first, then alphabetical. The CLI and the MCP server only format the
:class:`NameResolution`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from wire_client._home.paths import WireHome
from wire_client._home.trust import TrustStore, card_character
from wire_client._pairing.mesh import sisters
from wire_protocol import Character, JSONObject, Tier, character_for

__all__ = [
    "MAX_DISTANCE",
    "MAX_SUGGESTIONS",
    "NameResolution",
    "PeerMatch",
    "levenshtein",
    "resolve_name",
    "suggest_names",
]

MAX_DISTANCE = 3
MAX_SUGGESTIONS = 3

MatchKind = Literal["pinned_peer", "local_sister"]
ResolutionStatus = Literal["pinned_peer", "local_sister", "ambiguous", "not_found"]


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute each cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _ascii_lower(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def suggest_names(name: str, pool: Iterable[str]) -> list[str]:
    """The closest names to ``name`` in ``pool`` (deduplicated; exact matches excluded)."""
    wanted = _ascii_lower(name.strip())
    scored: dict[str, int] = {}
    for candidate in pool:
        if not candidate:
            continue
        distance = levenshtein(wanted, _ascii_lower(candidate))
        if 0 < distance <= MAX_DISTANCE and distance < scored.get(candidate, MAX_DISTANCE + 1):
            scored[candidate] = distance
    ranked = sorted(scored.items(), key=lambda item: (item[1], _ascii_lower(item[0]), item[0]))
    return [candidate for candidate, _ in ranked[:MAX_SUGGESTIONS]]


@dataclass(frozen=True, slots=True)
class PeerMatch:
    """What a name resolved to: a pinned peer (with its tier) or a sister session (with its name)."""

    kind: MatchKind
    handle: str
    did: str
    character: Character
    tier: Tier | None = None
    session: str | None = None

    def to_json(self) -> JSONObject:
        data: JSONObject = {
            "kind": self.kind,
            "handle": self.handle,
            "did": self.did,
            "character": {"nickname": self.character.nickname, "emoji": self.character.emoji},
        }
        if self.tier is not None:
            data["tier"] = self.tier.name
        if self.session is not None:
            data["session"] = self.session
        return data


@dataclass(frozen=True, slots=True)
class NameResolution:
    """The answer for one typed name: a match, an ambiguity, or a miss with did-you-mean candidates."""

    name: str
    match: PeerMatch | None = None
    ambiguous: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()

    @property
    def status(self) -> ResolutionStatus:
        if self.match is not None:
            return self.match.kind
        return "ambiguous" if self.ambiguous else "not_found"

    @property
    def pinned_handle(self) -> str | None:
        """The handle when the name is a pinned peer (else ``None``)."""
        return self.match.handle if self.match is not None and self.match.kind == "pinned_peer" else None

    def to_json(self) -> JSONObject:
        data: JSONObject = {"name_input": self.name, "found": self.match is not None, "status": self.status}
        if self.match is not None:
            data["match"] = self.match.to_json()
        if self.ambiguous:
            data["ambiguous"] = list(self.ambiguous)
        if self.match is None:
            data["candidates"] = list(self.candidates)
        return data


def resolve_name(
    home: WireHome, own_did: str, trust: TrustStore, name: str, *, include_self: bool = False
) -> NameResolution:
    """Resolve ``name`` for the identity ``own_did`` of ``home`` (see the module docstring for the order)."""
    wanted = name.strip().lower()
    pool: list[str] = []
    by_nickname: list[PeerMatch] = []
    for handle, record in sorted(trust.agents().items()):
        if record.did == own_did and not include_self:
            continue
        character = card_character(record.did, record.card)
        derived = character_for(record.did or None)
        match = PeerMatch("pinned_peer", handle, record.did, character, tier=record.tier)
        if wanted in (handle.lower(), record.did.lower()):
            return NameResolution(name, match)
        if wanted in (character.nickname.lower(), derived.nickname.lower()):
            by_nickname.append(match)
        pool += [handle, character.nickname, derived.nickname]
    if len(by_nickname) == 1:
        return NameResolution(name, by_nickname[0])
    if by_nickname:
        return NameResolution(name, ambiguous=tuple(m.handle for m in by_nickname))
    for sister in sisters(home):
        if sister.card.did == own_did:
            continue
        character = character_for(sister.card.did)
        if wanted in (n.lower() for n in sister.names):
            return NameResolution(name, PeerMatch("local_sister", sister.card.handle, sister.card.did, character,
                                                  session=sister.name))  # fmt: skip
        pool += list(sister.names)
    return NameResolution(name, candidates=tuple(suggest_names(name, pool)))
