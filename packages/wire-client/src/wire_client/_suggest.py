# SPDX-License-Identifier: MIT
"""Did-you-mean for peer names (features notes §2).

Case-insensitive (ASCII-lowercased) Levenshtein distance; the candidate pool is every pinned
handle (self excluded) and its DID-derived nickname, plus every sister session's name, handle and
nickname. Candidates at distance ≤ 3 are ranked by distance, then alphabetically; at most 3.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MAX_DISTANCE", "MAX_SUGGESTIONS", "levenshtein", "suggest_names"]

MAX_DISTANCE = 3
MAX_SUGGESTIONS = 3


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
