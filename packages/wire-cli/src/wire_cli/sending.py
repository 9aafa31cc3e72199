# SPDX-License-Identifier: MIT
"""``wire send``: shared by the typer verb and the typer-free fast path in ``__main__`` (the send
budget is 300 ms wall, and typer's argument coercion alone imports pydantic). The agent posts through
wire-client's stdlib ``oneshot`` transport: importing aiohttp would cost more than the send itself."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wire_cli.context import Ctx, cli
from wire_cli.output import CliError, clean

if TYPE_CHECKING:
    from wire_client import SendResult, WireAgent

__all__ = ["parse_argv", "read_body", "run_send"]

_VALUE_OPTIONS = {"--deadline": "deadline", "--check-cap": "check_cap"}
_FLAG_OPTIONS = {"--queue": "queue", "--json": "json_flag", "--again": "again"}


def _json_container(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return None


def read_body(text: str) -> Any:
    """The body to send: ``-`` = stdin, ``@path`` = a file, else the text itself.

    A JSON object or array is sent as JSON; anything else as a string (stdin/file: trailing newline dropped).
    """
    if text == "-":
        raw = sys.stdin.read()
    elif text.startswith("@") and len(text) > 1:
        path = Path(text[1:]).expanduser()
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot read the body from {path}: {exc.strerror}", code="usage", exit_code=2) from None
    else:
        parsed = _json_container(text)
        return text if parsed is None else parsed
    parsed = _json_container(raw)
    return raw.removesuffix("\n") if parsed is None else parsed


def parse_argv(argv: list[str]) -> dict[str, Any] | None:
    """``send`` arguments for the fast path; ``None`` for anything unusual (typer then handles it)."""
    positional: list[str] = []
    options: dict[str, Any] = {}
    items = iter(argv)
    for arg in items:
        name, _, inline = arg.partition("=")
        if name in _VALUE_OPTIONS:
            value = inline or next(items, None)
            if value is None:
                return None
            options[_VALUE_OPTIONS[name]] = value
        elif arg in _FLAG_OPTIONS:
            options[_FLAG_OPTIONS[arg]] = True
        elif arg.startswith("-") and arg != "-":
            return None
        else:
            positional.append(arg)
    if len(positional) not in (2, 3):
        return None
    body = positional[2] if len(positional) == 3 else None
    return {"peer": positional[0], "kind_or_body": positional[1], "body": body, **options}


def _verdict_line(ctx: Ctx, result: SendResult, persona: str, *, daemon_running: bool) -> str:
    short = result.event_id[:12]
    if result.status == "delivered":
        return f"{ctx.out.mark(True)} delivered to {persona} — event {short} via {result.endpoint}"
    if result.status == "duplicate" and result.reason:
        return f"{ctx.out.mark(True)} not sent again to {persona}: {result.reason} (`--again` sends a new one)"
    if result.status == "duplicate":
        return f"{ctx.out.mark(True)} already delivered to {persona} (duplicate) — event {short}"
    return f"{ctx.out.mark(None)} queued for {persona}: {result.reason} — event {short}; " + (
        "the daemon delivers it when the relay answers"
        if daemon_running
        else "no daemon runs for this home: `wire push` now, or the next `wire send` or `wire pull`"
        " delivers it (or keep `wire daemon` running)"
    )


def _reachable(agent: WireAgent, handle: str) -> bool:
    return any(ep.is_ready for ep in agent.relay_state.peer_endpoints(handle))


async def _complete_pairing_first(agent: WireAgent, handle: str) -> bool:
    """Pull once when ``handle`` is pinned but has no endpoint yet and no daemon keeps this home current:
    the peer's pair acceptance (with its slot) is usually waiting on our relay. True when it pulled."""
    from wire_client import daemon_status

    status = daemon_status(agent.home)
    if (status is not None and status.running) or not agent.endpoints():
        return False
    if agent.trust.get(handle) is None or _reachable(agent, handle):
        return False
    await agent.pull()
    return True


def _target(agent: WireAgent, name: str) -> str:
    """The pinned handle for ``name``; an unpaired sister session or a miss goes to wire-client as typed
    (it pairs a local sister first, or raises ``PeerNotFoundError`` with did-you-mean candidates)."""
    from wire_cli.names import miss_error, resolve
    from wire_protocol import bare_handle

    match, candidates = resolve(agent, bare_handle(name) if "@" in name and not name.startswith("did:") else name)
    if match is None:
        raise miss_error(name, candidates)
    return match.handle if match.kind == "pinned_peer" else name


def run_send(
    peer: str,
    kind_or_body: str,
    body: str | None,
    *,
    deadline: str | None = None,
    check_cap: str | None = None,
    queue: bool = False,
    json_flag: bool = False,
    again: bool = False,
) -> None:
    """Sign and deliver one message; print the verdict (delivered / duplicate / queued + reason)."""
    with cli(json_flag) as ctx:
        kind, text = ("claim", kind_or_body) if body is None else (kind_or_body, body)
        payload = read_body(text)
        agent = ctx.agent(oneshot=True)  # a send makes one or two requests and exits: no aiohttp
        handle = _target(agent, peer)

        async def go() -> tuple[SendResult, bool]:
            async with agent:
                pulled = not queue and await _complete_pairing_first(agent, handle)
                sent = await agent.send(
                    handle,
                    payload,
                    type=kind,
                    deadline=deadline,
                    check_cap=check_cap,
                    queue_only=queue,
                    repeat=again,
                )
                return sent, pulled

        result, pulled = ctx.run(go())
        if pulled and _reachable(agent, result.peer):
            ctx.out.note(
                f"fetched {clean(result.peer)}'s pair acceptance from the relay first (no daemon runs for this home)"
            )
        for warning in result.warnings:
            ctx.out.warn(warning)
        from wire_cli.views import card_character

        record = agent.trust.get(result.peer)
        persona = ctx.out.persona(card_character(record.did if record else None, record.card if record else None))
        from wire_client import daemon_status

        daemon = daemon_status(agent.home)
        line = _verdict_line(
            ctx, result, f"{persona} ({clean(result.peer)})", daemon_running=daemon is not None and daemon.running
        )
        ctx.out.emit(result.to_json(), line)
