# SPDX-License-Identifier: MIT
"""Local verbs answered without typer: ONE definition of their flags, shared with the typer app.

Agents and status lines call ``wire peers`` / ``wire here`` constantly; importing typer (and through
its argument coercion pydantic) costs more than the verb. :data:`LOCAL_VERBS` names each such verb,
the typer-free function that does its work and its flags; the typer app builds the same options from
the same :class:`Flag` objects (``wire_cli.commands.JsonOpt`` is made from :data:`JSON_FLAG`), and
``tests/cli/test_fast_paths.py`` checks that every flag here is a boolean option of the typer command
of that name. :func:`dispatch` accepts only the verb followed by its known flags; anything else
(``--help``, an unknown option, an argument) returns ``False`` and typer parses the command line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["JSON_FLAG", "LOCAL_VERBS", "Flag", "LocalVerb", "dispatch"]


@dataclass(frozen=True, slots=True)
class Flag:
    """A boolean option: its spellings, the keyword it sets to ``True`` and its help text."""

    names: tuple[str, ...]
    dest: str
    help: str


@dataclass(frozen=True, slots=True)
class LocalVerb:
    """``module.function(**flags)`` does the verb's work (a typer-free module)."""

    module: str
    function: str
    flags: tuple[Flag, ...]


JSON_FLAG = Flag(
    ("--json",),
    "json_",
    "Print JSON (the default when stdout is not a terminal; WIRE_NO_AUTO_JSON=1 opts out).",
)

LOCAL_VERBS: dict[str, LocalVerb] = {
    "here": LocalVerb("wire_cli.local_views", "here", (JSON_FLAG,)),
    "peers": LocalVerb("wire_cli.local_views", "peers", (JSON_FLAG,)),
}


def dispatch(argv: list[str]) -> bool:
    """Run ``argv`` if it is a local verb with only its known flags; ``False`` means typer must."""
    verb = LOCAL_VERBS.get(argv[0]) if argv else None
    if verb is None:
        return False
    by_name = {name: flag for flag in verb.flags for name in flag.names}
    kwargs = dict.fromkeys((flag.dest for flag in verb.flags), False)
    for arg in argv[1:]:
        flag = by_name.get(arg)
        if flag is None:
            return False
        kwargs[flag.dest] = True
    run: Callable[..., None] = getattr(importlib.import_module(verb.module), verb.function)
    run(**kwargs)
    return True
