# SPDX-License-Identifier: MIT
"""Resolving what the operator typed (handle, DID, nickname, session name) to a pinned peer or a sister
session, and the did-you-mean list for a miss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wire_cli.output import CliError

if TYPE_CHECKING:
    from wire_client import SessionInfo, WireAgent

__all__ = ["Match", "did_you_mean", "miss_error", "resolve", "resolve_peer"]

MAX_DISTANCE = 3
MAX_CANDIDATES = 3


@dataclass(frozen=True, slots=True)
class Match:
    """A resolved name: ``kind`` is ``pinned_peer`` or ``local_sister``."""

    kind: str
    handle: str
    did: str
    nickname: str
    emoji: str
    session: str | None = None
    tier: str | None = None


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def did_you_mean(name: str, pool: list[str]) -> list[str]:
    """Up to 3 names within edit distance 3 (case-insensitive), closest first."""
    wanted = name.lower()
    scored = sorted(
        (distance, candidate)
        for candidate in sorted(set(pool))
        if (distance := _levenshtein(wanted, candidate.lower())) <= MAX_DISTANCE
    )
    return [candidate for _, candidate in scored[:MAX_CANDIDATES]]


def _sisters(agent: WireAgent) -> list[SessionInfo]:
    from wire_client import SessionRegistry, WireClientError

    try:
        return [s for s in SessionRegistry.for_home(agent.home).list() if s.did and s.did != agent.did]
    except (WireClientError, OSError):
        return []


def resolve(agent: WireAgent, name: str, *, include_self: bool = False) -> tuple[Match | None, list[str]]:
    """Pinned peer (handle, DID or nickname, case-insensitive) first, then a local sister session.

    Returns the match, or ``None`` plus the did-you-mean candidates. An ambiguous nickname is an error.
    """
    from wire_cli.views import card_character
    from wire_protocol import character_for

    wanted = name.strip().lower()
    pool: list[str] = []
    by_nickname: list[Match] = []
    for handle, record in sorted(agent.trust.agents().items()):
        if record.did == agent.did and not include_self:
            continue
        character = card_character(record.did, record.card)
        derived = character_for(record.did or None)
        match = Match("pinned_peer", handle, record.did, character.nickname, character.emoji, tier=record.tier.name)
        if wanted in (handle.lower(), record.did.lower()):
            return match, []
        if wanted in (character.nickname.lower(), derived.nickname.lower()):
            by_nickname.append(match)
        pool += [handle, character.nickname, derived.nickname]
    if len(by_nickname) == 1:
        return by_nickname[0], []
    if len(by_nickname) > 1:
        raise CliError(
            f"{name!r} is the nickname of several peers: {', '.join(m.handle for m in by_nickname)}",
            hint="use the handle instead",
            code="ambiguous_name",
        )
    for sister in _sisters(agent):
        character = character_for(sister.did)
        if wanted in (sister.name.lower(), (sister.handle or "").lower(), character.nickname.lower()):
            return Match(
                "local_sister",
                sister.handle or sister.name,
                sister.did or "",
                character.nickname,
                character.emoji,
                session=sister.name,
            ), []
        pool += [sister.name, sister.handle or "", character.nickname]
    return None, did_you_mean(name, [p for p in pool if p])


def miss_error(name: str, candidates: list[str]) -> CliError:
    """The human miss message: "no peer matched `x`. Did you mean: `a`, `b`?" plus where to look."""
    if candidates:
        listed = ", ".join(f"`{c}`" for c in candidates)
        return CliError(
            f"no peer matched `{name}`.\nDid you mean: {listed}?",
            hint="list all: `wire peers`, `wire session list-local`",
            code="not_found",
            data={"found": False, "candidates": candidates},
        )
    return CliError(
        f"no peer matched `{name}`",
        hint="to reach someone on a relay: `wire dial <handle>@<relay-domain>`; list yours: `wire peers`",
        code="not_found",
        data={"found": False, "candidates": []},
    )


def resolve_peer(agent: WireAgent, name: str) -> str:
    """A pinned peer's handle from a handle, nickname, DID or ``nick@domain``; did-you-mean on a miss."""
    from wire_protocol import bare_handle

    match, candidates = resolve(agent, bare_handle(name) if "@" in name and not name.startswith("did:") else name)
    if match is not None and match.kind == "pinned_peer":
        return match.handle
    if match is not None:
        raise CliError(
            f"`{name}` is the sister session {match.session!r} on this machine, not a pinned peer yet",
            hint=f"pair first: `wire dial {match.session}`",
            code="not_paired",
        )
    raise miss_error(name, candidates)
