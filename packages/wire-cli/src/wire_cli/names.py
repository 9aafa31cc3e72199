# SPDX-License-Identifier: MIT
"""How the CLI words wire-client's name resolution (``agent.pairing.resolve_name``): a match, the
ambiguity error, and the did-you-mean message for a miss. The resolving itself lives in wire-client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wire_cli.output import CliError

if TYPE_CHECKING:
    from wire_client import PeerMatch, WireAgent

__all__ = ["miss_error", "resolve", "resolve_peer"]


def resolve(agent: WireAgent, name: str, *, include_self: bool = False) -> tuple[PeerMatch | None, list[str]]:
    """Pinned peer (handle, DID or nickname) first, then a local sister session.

    Returns the match, or ``None`` plus the did-you-mean candidates. An ambiguous nickname is an error.
    """
    resolution = agent.pairing.resolve_name(name, include_self=include_self)
    if resolution.status == "ambiguous":
        raise CliError(
            f"{name!r} is the nickname of several peers: {', '.join(resolution.ambiguous)}",
            hint="use the handle instead",
            code="ambiguous_name",
        )
    return resolution.match, list(resolution.candidates)


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
