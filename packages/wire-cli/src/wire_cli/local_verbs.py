# SPDX-License-Identifier: MIT
"""Local verbs answered without typer: ONE definition of their options, shared with the typer app.

Agents and status lines call ``wire peers`` / ``status`` / ``pending`` / ``tail`` constantly; importing
typer (and through its argument coercion pydantic) costs more than the verb. :data:`LOCAL_VERBS` names
each such verb, the typer-free function that does its work, the options it takes and its optional
positional argument; the typer commands build their parameters from the same :class:`Flag`,
:class:`Value` and :class:`Argument` objects (``wire_cli.commands.option`` / ``argument``), and
``tests/cli/test_fast_paths.py`` checks that each is the typer command's own (spelling, keyword,
help, type, default). :func:`dispatch` accepts only the verb followed by what it knows; anything else
(``--help``, an unknown option such as ``tail --follow``, a missing or non-integer value) returns
``False`` and typer parses the command line, with its usual messages.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple

__all__ = [
    "DOCTOR_OFFLINE_FLAG",
    "INCLUDE_HANDSHAKE_FLAG",
    "JSON_FLAG",
    "LIMIT_OPTION",
    "LOCAL_VERBS",
    "OFFLINE_FLAG",
    "SINCE_OPTION",
    "TAIL_PEER",
    "Argument",
    "Flag",
    "LocalVerb",
    "Value",
    "dispatch",
]


class Flag(NamedTuple):
    """A boolean option: its spellings, the keyword it sets to ``True`` and its help text."""

    names: tuple[str, ...]
    dest: str
    help: str


class Value(NamedTuple):
    """An option that takes a value (``--limit 5`` or ``--limit=5``) of type ``kind``."""

    names: tuple[str, ...]
    dest: str
    help: str
    kind: type[str] | type[int]
    default: str | int | None


class Argument(NamedTuple):
    """An optional positional argument."""

    dest: str
    help: str


class LocalVerb(NamedTuple):
    """``module.function(**options)`` does the verb's work (a typer-free module)."""

    module: str
    function: str
    options: tuple[Flag | Value, ...]
    argument: Argument | None = None


JSON_FLAG = Flag(
    ("--json",),
    "json_",
    "Print JSON (the default when stdout is not a terminal; WIRE_NO_AUTO_JSON=1 opts out).",
)
TAIL_PEER = Argument("peer", "Only this peer.")
SINCE_OPTION = Value(("--since",), "since", "After this event id, time, or duration (30m).", str, None)
LIMIT_OPTION = Value(("--limit",), "limit", "Last N events (0 = all).", int, 50)
OFFLINE_FLAG = Flag(("--offline",), "offline", "Do not fetch from the relay first.")
DOCTOR_OFFLINE_FLAG = Flag(("--offline",), "offline", "Skip the relay checks (no network): local files only.")
INCLUDE_HANDSHAKE_FLAG = Flag(
    ("--include-handshake",), "include_handshake", "Also pair_drop, pair_drop_ack, heartbeat."
)

LOCAL_VERBS: dict[str, LocalVerb] = {
    "here": LocalVerb("wire_cli.local_views", "here", (JSON_FLAG,)),
    "peers": LocalVerb("wire_cli.local_views", "peers", (JSON_FLAG,)),
    "status": LocalVerb("wire_cli.local_status", "status", (JSON_FLAG,)),
    "doctor": LocalVerb("wire_cli.local_status", "doctor", (JSON_FLAG, DOCTOR_OFFLINE_FLAG)),
    "pending": LocalVerb("wire_cli.local_inbox", "pending", (JSON_FLAG,)),
    "tail": LocalVerb(
        "wire_cli.local_inbox",
        "tail",
        (SINCE_OPTION, LIMIT_OPTION, OFFLINE_FLAG, INCLUDE_HANDSHAKE_FLAG, JSON_FLAG),
        TAIL_PEER,
    ),
}


def parse(verb: LocalVerb, args: list[str]) -> dict[str, object] | None:
    """The keyword arguments ``args`` give ``verb``, or ``None`` when typer must parse them."""
    by_name = {name: option for option in verb.options for name in option.names}
    kwargs: dict[str, object] = {
        option.dest: option.default if isinstance(option, Value) else False for option in verb.options
    }
    if verb.argument is not None:
        kwargs[verb.argument.dest] = None
    pending = list(args)
    while pending:
        arg = pending.pop(0)
        if not arg.startswith("-"):
            if verb.argument is None or kwargs[verb.argument.dest] is not None:
                return None
            kwargs[verb.argument.dest] = arg
            continue
        name, has_value, inline = arg.partition("=")
        option = by_name.get(name)
        if isinstance(option, Flag) and not has_value:
            kwargs[option.dest] = True
        elif isinstance(option, Value):
            if not has_value:
                if not pending:
                    return None
                inline = pending.pop(0)
            if option.kind is int:
                try:
                    kwargs[option.dest] = int(inline)
                except ValueError:
                    return None
            else:
                kwargs[option.dest] = inline
        else:
            return None
    return kwargs


def dispatch(argv: list[str]) -> bool:
    """Run ``argv`` if it is a local verb with only what it knows; ``False`` means typer must."""
    verb = LOCAL_VERBS.get(argv[0]) if argv else None
    if verb is None:
        return False
    kwargs = parse(verb, argv[1:])
    if kwargs is None:
        return False
    run: Callable[..., None] = getattr(importlib.import_module(verb.module), verb.function)
    run(**kwargs)
    return True
