# SPDX-License-Identifier: MIT
"""Who we are and who we know: init, whoami, here, peers, whois, claim, profile, identity."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wire_cli import local_views
from wire_cli.commands import JsonOpt
from wire_cli.context import Ctx, cli
from wire_cli.output import CliError, clean

if TYPE_CHECKING:
    from wire_client import WireAgent

__all__ = ["parse_value", "register"]

LOCAL_RELAY = "http://127.0.0.1:8771"


def parse_value(text: str) -> Any:
    """A JSON object/array/number/bool/null when ``text`` is one, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- init ---------------------------------------------------------------------------------------


async def _probe(url: str) -> bool:
    from wire_client import RelayClient

    async with RelayClient(url) as relay:
        return await relay.healthz(probe_timeout=2.0)


async def _init(ctx: Ctx, handle: str, name: str | None, relay: str | None, offline: bool) -> dict[str, Any]:
    from wire_client import Identity, WireAgent

    home = ctx.home()
    already = home.is_initialized
    if relay is None and not offline and not already:
        if not await _probe(LOCAL_RELAY):
            raise CliError(
                f"no relay given, and no local relay answers at {LOCAL_RELAY}",
                hint=(
                    f"`wire init {handle} --relay https://<relay>` to use a relay (federation)\n"
                    "`wire relay-server --bind 127.0.0.1:8771 --local-only &`, "
                    f"then `wire init {handle}` (this machine)\n"
                    f"`wire init {handle} --offline` for keys only (nobody can reach you until you bind a relay)"
                ),
                code="no_relay",
            )
        relay = LOCAL_RELAY
        ctx.out.note(f"found a local relay at {LOCAL_RELAY}; attaching to it (--relay or --offline to choose)")
    elif relay is not None and not await _probe(relay):
        raise CliError(
            f"phyllis: silent line — couldn't reach {relay}/healthz",
            hint=f"check the URL and your network: `curl -v {relay.rstrip('/')}/healthz`",
            code="relay_unreachable",
        )
    identity, result = Identity.create(home, handle, name=name)
    data: dict[str, Any] = {"status": result.status}
    async with WireAgent(home, identity) as agent:
        if relay is not None:
            data.update(await _attach(ctx, agent, relay, handle))
        card = agent.card
        character = agent.identity.character()
    result_data: dict[str, Any] = {
        "did": card.did,
        "handle": card.handle,
        "fingerprint": card.fingerprint,
        "key_id": card.key_id,
        "config_dir": str(home.config_dir),
        "character": character.to_json(),
        **data,
    }
    return result_data


async def _attach(ctx: Ctx, agent: WireAgent, relay: str, handle: str) -> dict[str, Any]:
    """``attach_relay`` for ``init``: a failed claim is a warning (the slot works), anything else an error."""
    from wire_client import AttachRelayError, HandleClaimError

    try:
        attached = await agent.attach_relay(relay)
    except HandleClaimError as exc:
        where = exc.relay_url
        ctx.out.warn(
            f"could not claim the handle {handle!r} on {where}: {exc.__cause__ or exc.message}"
            " — peers can still pair with you by invite (`wire invite`). Your handle is part of this"
            f" identity, so for another name start a new one: `WIRE_HOME=<new dir> wire init <other-name>"
            f" --relay {where}` (nobody has paired with this one yet)"
        )
        return {"relay_url": where, "slot_id": exc.slot_id, "claimed": False, "claim_error": exc.message,
                "claim_failure": exc.reason}  # fmt: skip
    except AttachRelayError as exc:
        raise CliError(
            exc.message,
            hint=f"your keys are made and kept; attach later with `wire init {handle} --relay <url>`",
            code=f"relay_{exc.reason}",
        ) from None
    return {"relay_url": attached.endpoint.relay_url, "slot_id": attached.endpoint.slot_id, "claimed": True}


def init(
    handle: Annotated[str, typer.Argument(help="Your handle: letters, digits, '_' and '-'.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name on the card.")] = None,
    relay: Annotated[str | None, typer.Option("--relay", help="Relay URL to get a mailbox slot on.")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Keys only, no relay slot.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Create your identity, get a mailbox slot on a relay, and claim your handle there."""
    with cli(json_) as ctx:
        if relay and offline:
            raise CliError("--relay and --offline exclude each other", code="usage", exit_code=2)
        data = ctx.run(_init(ctx, handle, name, relay, offline))

        def human() -> None:
            from wire_protocol import character_for

            persona = ctx.out.persona(character_for(data["did"]))
            verb = "you are" if data["status"] == "created" else "already initialized — you are"
            ctx.out.line(f"{verb} {persona} ({data['handle']})")
            ctx.out.line(f"  {data['did']}  fingerprint {data['fingerprint']}")
            if "relay_url" in data:
                claimed = " — handle claimed" if data.get("claimed") else ""
                ctx.out.line(f"  mailbox on {data['relay_url']}{claimed}")
                ctx.out.line("next: `wire dial <name>@<relay-domain>` to pair, `wire here` to look around")
            else:
                ctx.out.line("  offline: no mailbox yet — nobody can reach you until you bind a relay")

        ctx.out.emit(data, human)


# --- whoami / here / peers ----------------------------------------------------------------------


def whoami(
    json_: JsonOpt = False,
    short: Annotated[bool, typer.Option("--short", help="`<emoji> <nickname> · <cwd>` for statuslines.")] = False,
    colored: Annotated[bool, typer.Option("--colored", help="--short in the agent's colour.")] = False,
) -> None:
    """Show this identity: character, DID, fingerprint (cheap: safe for statuslines)."""
    from wire_cli import whoami as impl

    raise typer.Exit(impl.run(json_flag=json_, short=short, colored=colored))


def here(json_: JsonOpt = False) -> None:
    """One screen: who you are, your sister sessions on this machine, your pinned peers."""
    local_views.here(json_)


def peers(json_: JsonOpt = False) -> None:
    """List the peers you are paired with (effective tier: PENDING_ACK until their ack arrives)."""
    local_views.peers(json_)


# --- whois / claim ------------------------------------------------------------------------------


async def _whois_remote(agent: WireAgent, address: str, relay: str | None) -> dict[str, Any]:
    from wire_protocol import CardError, HandleError, parse_address, relay_url_for_domain, verify_card

    try:
        parsed = parse_address(address)
    except HandleError as exc:
        raise CliError(exc.message, hint="addresses look like `nick@relay-domain`", code="usage", exit_code=2) from None
    url = relay or relay_url_for_domain(parsed.domain)
    payload = await agent.relay(url).resolve_handle(parsed.nick)
    try:
        card = verify_card(payload.get("card"))
    except CardError as exc:
        raise CliError(
            f"the card {url} returned for {address} does not verify: {exc.message}",
            hint="the relay may be lying; do not pair",
            code="bad_card",
        ) from None
    if isinstance(payload.get("did"), str) and payload["did"] != card.did:
        raise CliError(f"{url} returned a card for {card.did}, not {payload['did']}", code="bad_card")
    return {"found": True, "kind": "federation", "address": address, **payload, "verified": True}


def whois(
    name: Annotated[str | None, typer.Argument(help="nick@domain, a peer, a session; none = yourself.")] = None,
    relay: Annotated[str | None, typer.Option("--relay", help="Resolve nick@domain through this relay.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Look someone up: yourself, a pinned peer, a sister session, or nick@domain on a relay."""
    with cli(json_) as ctx:
        from wire_cli.names import miss_error, resolve

        agent = ctx.agent()
        if name is None:
            data: dict[str, Any] = {"found": True, "kind": "self", "did": agent.did, "handle": agent.handle}
            data["profile"] = agent.identity.profile()
            ctx.out.emit(data, f"{ctx.out.persona(agent.identity.character())} ({agent.handle}) {agent.did}")
            return
        if "@" in name:

            async def remote() -> dict[str, Any]:
                async with agent:
                    return await _whois_remote(agent, name, relay)

            data = ctx.run(remote())
            from wire_cli.views import card_character

            persona = ctx.out.persona(card_character(str(data.get("did")), data.get("card")))
            ctx.out.emit(
                data,
                f"{persona} {clean(name)} — {data.get('did')} (card signature ✓)"
                f" via {clean(data.get('relay_url') or '')}",
            )
            return
        match, candidates = resolve(agent, name, include_self=True)
        if match is None:
            if ctx.json:
                ctx.out.json(
                    {"name_input": name, "found": False, "candidates": candidates, "error": f"no peer matched `{name}`"}
                )
                return
            raise miss_error(name, candidates)
        data = {"name_input": name, "found": True, "kind": match.kind, "handle": match.handle, "did": match.did}
        data |= {"nickname": match.character.nickname, "emoji": match.character.emoji}
        from wire_cli.views import effective_tier

        endpoints = agent.relay_state.peer_endpoints(match.handle)
        tier = effective_tier(match.tier.name, endpoints, agent.refusal(match.handle)) if match.tier else None
        data |= {"tier": tier} if tier else {"session_name": match.session}
        where = f"tier {tier}" if tier else f"sister session {match.session}"
        glyph = ctx.out.glyph(match.character.emoji, "[*]")
        ctx.out.emit(data, f"{glyph} {clean(match.character.nickname)} ({clean(match.handle)}) {match.did} — {where}")


def claim(
    nick: Annotated[str | None, typer.Argument(help="Your handle (relays accept no other nick).")] = None,
    public_url: Annotated[str | None, typer.Option("--public-url", help="Relay URL peers should use.")] = None,
    hidden: Annotated[bool, typer.Option("--hidden", help="Not listed in the relay's directory.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Claim nick@<relay-domain> in your relay's handle directory (first come, first served)."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        if nick is not None and nick != agent.handle:
            raise CliError(
                f"a relay only accepts the handle signed into your card ({agent.handle!r}), not {clean(nick)!r}",
                hint="another name is another identity: `WIRE_HOME=<new dir> wire init <other-name> --relay <url>`",
                code="usage",
                exit_code=2,
            )

        async def go() -> dict[str, Any]:
            async with agent:
                response = await agent.claim(nick, public_url=public_url, discoverable=False if hidden else None)
                return {"nick": nick or agent.handle, "relay": agent.endpoints()[0].relay_url, "response": response}

        data = ctx.run(go())
        ctx.out.emit(
            data,
            f"claimed {clean(data['nick'])} on {data['relay']} — "
            f"others can `wire dial {clean(data['nick'])}@<that relay's domain>`",
        )


# --- profile / identity -------------------------------------------------------------------------

profile_app = typer.Typer(help="Your public profile (signed into your card).", no_args_is_help=True)
identity_app = typer.Typer(help="Your identity: show, rename (local display), list, publish.", no_args_is_help=True)


@profile_app.command("set")
def profile_set(
    field: Annotated[str, typer.Argument(help="Profile field, e.g. role, vibe, about.")],
    value: Annotated[str, typer.Argument(help="Value (JSON or text; 'null' removes it).")],
    json_: JsonOpt = False,
) -> None:
    """Set one profile field and re-sign your card."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        card = agent.identity.set_profile(field, parse_value(value))

        async def republish() -> list[str]:
            async with agent:
                return await agent.republish_card()

        relays = ctx.run(republish())
        where = (
            f"; republished on {', '.join(relays)}" if relays else "; not claimed on any relay, nothing to republish"
        )
        ctx.out.emit(
            {"field": field, "profile": card.profile, "republished": relays},
            f"profile.{clean(field)} set; card re-signed{where}",
        )


@profile_app.command("get")
def profile_get(
    field: Annotated[str | None, typer.Argument(help="One field (default: all).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Show your profile."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        profile = agent.identity.profile()
        data = (
            {"did": agent.did, "profile": profile} if field is None else {"field": field, "value": profile.get(field)}
        )
        lines = [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in sorted(profile.items())] or ["(empty profile)"]
        ctx.out.emit(data, "\n".join(lines) if field is None else json.dumps(profile.get(field), ensure_ascii=False))


@identity_app.command("show")
def identity_show(json_: JsonOpt = False) -> None:
    """Same as `wire whoami --short` (or --json)."""
    from wire_cli import whoami as impl

    raise typer.Exit(impl.run(json_flag=json_, short=not json_))


@identity_app.command("rename")
def identity_rename(
    name: Annotated[str | None, typer.Option("--name", help="Nickname you see for yourself.")] = None,
    emoji: Annotated[str | None, typer.Option("--emoji", help="Emoji you see for yourself.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Back to the DID-derived character.")] = False,
    random: Annotated[bool, typer.Option("--random", help="Same as --clear.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Rename yourself locally (statusline, here); peers keep seeing your DID-derived character."""
    with cli(json_) as ctx:
        agent = ctx.agent()
        if clear or random:
            override = agent.identity.set_display()
        elif name is None and emoji is None:
            raise CliError("nothing to do", hint="pass --name, --emoji or --clear", code="usage", exit_code=2)
        else:
            current = agent.identity.display()
            nickname = clean(name).strip() if name is not None else current.nickname
            glyph = clean(emoji, 16).strip() if emoji is not None else current.emoji
            if (name is not None and not nickname) or (emoji is not None and not glyph):
                raise CliError("the new name is empty once control characters are removed", code="usage", exit_code=2)
            override = agent.identity.set_display(nickname=nickname, emoji=glyph)
        character = agent.identity.character()
        data = {
            "did": agent.did,
            "character": character.to_json(),
            "overrides": {"nickname": override.nickname, "emoji": override.emoji},
        }
        ctx.out.note("local display only: your card (what peers see) is unchanged")
        ctx.out.emit(data, f"you now see yourself as {ctx.out.persona(character)}")


@identity_app.command("list")
def identity_list(json_: JsonOpt = False) -> None:
    """Same as `wire session list`."""
    from wire_cli.commands.sessions import session_list

    session_list(json_=json_)


@identity_app.command("publish")
def identity_publish(
    nick: Annotated[str | None, typer.Argument(help="Your handle (relays accept no other nick).")] = None,
    public_url: Annotated[str | None, typer.Option("--public-url")] = None,
    hidden: Annotated[bool, typer.Option("--hidden")] = False,
    json_: JsonOpt = False,
) -> None:
    """Same as `wire claim`."""
    claim(nick=nick, public_url=public_url, hidden=hidden, json_=json_)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(whoami)
    app.command()(here)
    app.command()(peers)
    app.command()(whois)
    app.command()(claim)
    app.add_typer(profile_app, name="profile")
    app.add_typer(identity_app, name="identity")
