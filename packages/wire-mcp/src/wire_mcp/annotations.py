# SPDX-License-Identifier: MIT
"""MCP tool annotations for every tool, and which names are deprecated aliases.

Hints for the host (MCP ``ToolAnnotations``): read-only tools change nothing; a destructive one can
remove something (a pending request, a pin, a pairing aborted by wrong digits); idempotent means a
repeat with the same arguments adds no effect (``wire_send`` counts as one: an exact retry within the
window is reported as a duplicate, docs/PROTOCOL.md §6.6); open-world tools talk to a relay.
The table is the one place to add a tool's hints: a tool missing from it fails the server build.
"""

from __future__ import annotations

from mcp_types import ToolAnnotations

__all__ = ["ALIASES", "annotations_for"]

#: deprecated names: callable, but not advertised in tools/list
ALIASES = frozenset({"wire_add", "wire_pair_list_inbound", "wire_pair_accept", "wire_pair_reject"})


def _read(*, open_world: bool = False) -> ToolAnnotations:
    return ToolAnnotations(read_only_hint=True, open_world_hint=open_world)


def _write(*, destructive: bool, idempotent: bool, open_world: bool) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False, destructive_hint=destructive, idempotent_hint=idempotent, open_world_hint=open_world
    )


_TABLE: dict[str, ToolAnnotations] = {
    "wire_whoami": _read(),
    "wire_here": _read(),
    "wire_peers": _read(),
    "wire_whois": _read(open_world=True),  # nick@domain asks that relay's directory
    "wire_tail": _read(),
    "wire_verify": _read(),
    "wire_pending": _read(),
    "wire_wait": _read(),
    "wire_ping": _write(destructive=False, idempotent=True, open_world=True),  # posts a liveness probe
    "wire_init": _write(destructive=False, idempotent=True, open_world=True),
    "wire_send": _write(destructive=False, idempotent=True, open_world=True),
    "wire_dial": _write(destructive=False, idempotent=False, open_world=True),
    "wire_accept": _write(destructive=False, idempotent=False, open_world=True),
    "wire_reject": _write(destructive=True, idempotent=True, open_world=True),  # tells the dialer
    "wire_forget": _write(destructive=True, idempotent=True, open_world=False),
    "wire_pair_initiate": _write(destructive=False, idempotent=False, open_world=True),
    "wire_pair_join": _write(destructive=False, idempotent=False, open_world=True),
    "wire_pair_check": _write(destructive=False, idempotent=True, open_world=True),
    "wire_pair_confirm": _write(destructive=True, idempotent=False, open_world=True),
    "wire_invite": _write(destructive=False, idempotent=False, open_world=True),
    "wire_accept_invite": _write(destructive=False, idempotent=False, open_world=True),
}
_TARGETS = {
    "wire_add": "wire_dial",
    "wire_pair_list_inbound": "wire_pending",
    "wire_pair_accept": "wire_accept",
    "wire_pair_reject": "wire_reject",
}


def annotations_for(name: str) -> ToolAnnotations:
    """The hints for ``name`` (an alias has its target's); ``KeyError`` for a tool nobody annotated."""
    return _TABLE[_TARGETS.get(name, name)]
