# SPDX-License-Identifier: MIT
"""The bodies of the local verbs that ``wire_cli.fast`` runs without typer (``here``, ``peers``).

They read only local files and import neither typer nor aiohttp; the typer commands of the same
names (``wire_cli.commands.identity``) call them, so both paths print exactly the same.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from wire_cli.context import Ctx, cli
from wire_cli.output import clean

if TYPE_CHECKING:
    from wire_cli.context import LocalHome

__all__ = ["here", "peers"]


def _sisters_json(agent: LocalHome) -> list[dict[str, Any]]:
    from wire_client import SessionRegistry
    from wire_protocol import character_for

    listing = SessionRegistry.for_home(agent.home).list_local()
    result: list[dict[str, Any]] = []
    local = listing.get("local")
    for entries in local.values() if isinstance(local, dict) else []:
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("did") == agent.did:
                continue
            did = entry.get("did")
            character = character_for(did if isinstance(did, str) else None)
            result.append(
                {"session": entry.get("name"), "handle": entry.get("handle"), "character": character.to_json()}
            )
    return result


def here(json_: bool) -> None:
    """``wire here``: who you are, your sister sessions on this machine, your pinned peers."""
    with cli(json_) as ctx:
        home = ctx.home()
        if not home.is_initialized:
            ctx.out.emit(
                {"initialized": False, "self": None, "sister_sessions": [], "pinned_peers": []},
                "not initialized — run `wire init <handle> --relay <url>` (or `--offline`)",
            )
            return
        from wire_cli.views import card_character, effective_tier

        agent = ctx.local()
        character = agent.identity.character()
        peers: list[dict[str, Any]] = [
            {
                "handle": h,
                "did": r.did,
                "tier": effective_tier(r.tier.name, agent.relay_state.peer_endpoints(h), agent.refusal(h)),
                "character": card_character(r.did, r.card).to_json(),
            }
            for h, r in sorted(agent.trust.agents().items())
            if r.did != agent.did
        ]
        sisters = _sisters_json(agent)
        data: dict[str, Any] = {
            "self": {
                "handle": agent.handle,
                "did": agent.did,
                "character": character.to_json(),
                "cwd": os.getcwd(),
                "wire_home": str(home.root or home.config_dir),
            },
            "sister_sessions": sisters,
            "pinned_peers": peers,
        }

        def human() -> None:
            out = ctx.out
            out.line(f"you are {out.persona(character)} ({agent.handle}) in {os.getcwd()}")
            if sisters:
                out.line("sister sessions on this machine:")
                for s in sisters:
                    persona = _persona_from_json(ctx, s["character"])
                    out.line(f"  {persona} ({clean(s['handle'] or '?')}) — session {clean(s['session'])}")
            if peers:
                out.line("pinned peers:")
                for p in peers:
                    out.line(f"  {_persona_from_json(ctx, p['character'])} ({clean(p['handle'])}) {p['tier']}")
            if not sisters and not peers:
                out.line("no neighbors yet — `wire session new` for a sister here, `wire dial <peer>` to pair")

        ctx.out.emit(data, human)


def _persona_from_json(ctx: Ctx, character: dict[str, Any]) -> str:
    from wire_protocol import Character, Palette

    palette = character["palette"]
    return ctx.out.persona(
        Character(nickname=character["nickname"], emoji=character["emoji"], palette=Palette(**palette))
    )


def peers(json_: bool) -> None:
    """``wire peers``: the peers you are paired with (effective tier: PENDING_ACK until their ack arrives)."""
    with cli(json_) as ctx:
        from wire_cli.views import card_character, peer_json

        agent = ctx.local()
        slots = agent.relay_state.peers()
        records = [r for r in agent.trust.agents().values() if r.did != agent.did]
        data = [
            peer_json(r, slots.get(r.handle, []), agent.refusal(r.handle))
            for r in sorted(records, key=lambda r: r.handle)
        ]

        def human() -> None:
            if not data:
                ctx.out.line(
                    "no peers pinned yet — pair with `wire dial <handle>@<relay-domain>`, or see `wire pending`"
                )
                return
            width = max(len(clean(p["handle"])) for p in data)
            for record, p in zip(sorted(records, key=lambda r: r.handle), data, strict=True):
                persona = ctx.out.persona(card_character(record.did, record.card))
                reach = "" if p["reachable"] else "  (waiting for their ack)"
                if p["tier"] == "REFUSED":
                    reach = f"  ({p['note']})"
                ctx.out.line(f"{persona:<40} {clean(p['handle']):<{width}}  {p['tier']:<11}{reach}")

        ctx.out.emit(data, human)
