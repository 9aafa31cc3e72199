# SPDX-License-Identifier: MIT
"""``wire tail`` and ``wire pending`` without typer (``wire_cli.local_verbs``).

Both fetch first when no daemon keeps the home current (issue 14's promise: a message or pair request
sent a moment ago is shown). When a daemon runs, or the home has no slot, nothing but the home's files
is read and neither asyncio nor wire-client's relay and messaging layers are imported; the fetch itself
goes through wire-client's stdlib transport, never aiohttp.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wire_cli.context import Ctx, LocalHome, cli
from wire_cli.output import CliError, clean

if TYPE_CHECKING:
    from wire_client import WireAgent

__all__ = ["fetch_first", "pending", "persona_of", "pull_if_no_daemon", "tail"]

#: what ``tail --follow`` does after printing the backlog: (ctx, handle, show, inbox offsets)
Follow = Callable[[Ctx, "str | None", Callable[[str, dict[str, Any]], None], dict[str, int]], None]


async def pull_if_no_daemon(ctx: Ctx, agent: WireAgent) -> None:
    """Fetch new events first when no daemon keeps this home current, then deliver what became
    deliverable (a pulled pair acceptance gives a queued peer its slot). Never fatal."""
    from wire_client import WireClientError, daemon_status

    status = daemon_status(agent.home)
    if (status is not None and status.running) or not agent.endpoints():
        return
    try:
        await agent.pull()
        if agent.sender.outbox.backlog():
            await agent.push()  # a pair acceptance just pulled may have made queued sends deliverable
    except WireClientError as exc:
        ctx.out.warn(f"could not fetch new events ({exc.message}); showing what is already here")


def fetch_first(ctx: Ctx, local: LocalHome) -> None:
    """:func:`pull_if_no_daemon`, paying for the agent (and asyncio) only when a fetch is due."""
    from wire_client import daemon_status

    status = daemon_status(local.home)
    if (status is not None and status.running) or not local.endpoints():
        return
    from wire_client import WireAgent

    agent = WireAgent(local.home, local.identity, transport="oneshot")

    async def fetch() -> None:
        async with agent:
            await pull_if_no_daemon(ctx, agent)

    ctx.run(fetch())


def persona_of(ctx: Ctx, did: object, character: object = None) -> str:
    """The persona for a record's ``character`` JSON, else the one derived from ``did``."""
    from wire_protocol import Character, Palette, character_for

    if isinstance(character, dict) and isinstance(character.get("palette"), dict):
        try:
            return ctx.out.persona(
                Character(
                    nickname=str(character["nickname"]),
                    emoji=str(character["emoji"]),
                    palette=Palette(**character["palette"]),
                )
            )
        except (KeyError, TypeError):
            pass
    return ctx.out.persona(character_for(did if isinstance(did, str) and did else None))


# --- pending ------------------------------------------------------------------------------------


def pending(json_: bool = False, *, before: Callable[[Ctx], None] | None = None) -> None:
    """``wire pending``: pair requests waiting for an answer (``before`` runs first: the alias's nag)."""
    with cli(json_) as ctx:
        if before is not None:
            before(ctx)
        local = ctx.local()
        fetch_first(ctx, local)
        from wire_client import InboundStore  # what `agent.pairing.pending()` lists, without the pairing layer

        requests = [r.to_json() for r in InboundStore(local.home).list()]

        def human() -> None:
            if not requests:
                ctx.out.line("no pending pair requests")
                return
            ctx.out.line(f"{len(requests)} pending pair request(s):")
            for r in requests:
                persona = persona_of(ctx, r.get("peer_did"), r.get("character"))
                ctx.out.line(f"  {persona} ({clean(r.get('peer_handle') or '?')}) wants to pair with you")
                ctx.out.line(
                    ctx.out.dim(
                        f"      {r.get('peer_did')} · fingerprint {r.get('fingerprint')}"
                        f" · via {clean(r.get('peer_relay_url') or '?')}"
                    )
                )
            ctx.out.line("→ to accept any: `wire accept <name>` (or `wire reject <name>`)")

        ctx.out.emit(requests, human)


# --- tail ---------------------------------------------------------------------------------------


def _since_filter(events: list[tuple[str, dict[str, Any]]], since: str) -> list[tuple[str, dict[str, Any]]]:
    ids = [e.get("event_id") for _, e in events]
    if since in ids:
        return events[ids.index(since) + 1 :]
    from datetime import UTC, datetime, timedelta

    from wire_protocol import WireError, format_timestamp, parse_timestamp

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(since) > 1 and since[-1] in units and since[:-1].isdigit():
        cutoff = datetime.now(UTC) - timedelta(seconds=int(since[:-1]) * units[since[-1]])
    else:
        try:
            cutoff = parse_timestamp(since)
        except WireError:
            raise CliError(
                f"--since {since!r} is neither an event id in view, a duration (30m, 2h, 1d) nor an RFC 3339 time",
                code="usage",
                exit_code=2,
            ) from None
    bound = format_timestamp(cutoff)
    return [(p, e) for p, e in events if str(e.get("timestamp", "")) > bound]


def tail(  # noqa: PLR0917 - one parameter per option of the verb
    json_: bool = False,
    peer: str | None = None,
    since: str | None = None,
    limit: int = 50,
    offline: bool = False,
    include_handshake: bool = False,
    follow: Follow | None = None,
) -> None:
    """``wire tail``: received messages, oldest first, each re-verified (JSON: one object per line).

    ``follow`` (``tail --follow``, typer only) keeps printing new events after the backlog.
    """
    with cli(json_) as ctx:
        from wire_cli.views import HANDSHAKE_TYPES, event_line, readable_event, redact_event, reverify
        from wire_client import InboxReader

        local = ctx.local()
        if not offline:
            fetch_first(ctx, local)
        handle = None
        if peer is not None:  # resolved only after fetching: the fetch may be what pins the peer
            from wire_cli.names import resolve_peer
            from wire_client import WireAgent

            handle = resolve_peer(WireAgent(local.home, local.identity, transport="oneshot"), peer)
        reader = InboxReader(local.home.inbox_dir, from_end=False)
        events = reader.drain(handle)
        if not include_handshake:
            events = [(n, e) for n, e in events if e.get("type") not in HANDSHAKE_TYPES]
        events.sort(key=lambda item: (str(item[1].get("timestamp", "")), str(item[1].get("event_id", ""))))
        if since is not None:
            events = _since_filter(events, since)
        if limit > 0:
            events = events[-limit:]

        def show(name: str, event: dict[str, Any]) -> None:
            verified = reverify(event, local.trust)
            if ctx.json:
                ctx.out.json({**redact_event(readable_event(event)), "verified": verified}, compact=True)
            else:
                ctx.out.line(event_line(ctx.out, name, event, verified, full=True))

        for name, event in events:
            show(name, event)
        if not events and not ctx.json and follow is None:
            ctx.out.line("no messages yet" + (f" from {clean(handle)}" if handle else ""))
        if follow is not None:
            ctx.out.flush()
            follow(ctx, handle, show, reader.offsets)
