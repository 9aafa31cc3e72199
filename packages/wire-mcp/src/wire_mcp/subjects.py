# SPDX-License-Identifier: MIT
"""Who a consent prompt is about: the peer a pending request, an invite, a SAS session or a pin names.

Each builder reads the exact card that the following step pins (or the pin it removes), so the DID
and key the operator approves are the ones that end up trusted.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

from wire_client import WireAgent
from wire_mcp.consent import Subject, peer_text
from wire_protocol import INVITE_URL_PREFIX, AgentCard, CardError, InviteError, parse_invite, verify_card

__all__ = [
    "directory_subject",
    "invite_subject",
    "pending_subject",
    "pinned_subject",
    "resolve_invite_url",
    "sas_subject",
]

_PAIR = "PAIR WITH"
_PROFILE_FIELDS = 3
_PAIR_EFFECT = "Pairing pins this peer's key: it can then send your agent signed messages and receive its messages."


def _claimed(card: AgentCard | None, handle: str | None) -> dict[str, Any]:
    """The peer-chosen text worth showing: its handle, its card's name and a few profile fields (all cleaned
    and bounded when the prompt is written)."""
    claimed: dict[str, Any] = {"handle": handle or (card.handle if card else None)}
    if card is not None:
        claimed["name"] = card.name
        texts = [(k, v) for k, v in card.profile.items() if isinstance(v, str) and k not in claimed]
        claimed |= dict(texts[:_PROFILE_FIELDS])
    return claimed


def _card(data: object) -> AgentCard | None:
    try:
        return verify_card(data)
    except CardError:
        return None


def pending_subject(agent: WireAgent, name: str) -> Subject:
    """The pending pair request ``name`` matches (exactly, as accepting does), else a clear error."""
    request = agent.pairing.inbound.find(name)
    if request is None:
        raise ToolError(f"no pending pair request from {name!r} (names must match exactly); wire_pending lists them")
    card = _card(request.record.get("peer_card"))
    if card is None:
        raise ToolError(f"the pair request from {request.peer_did} carries no valid card; reject it")
    return Subject(_PAIR, card.did, card.public_key, _claimed(card, request.peer_handle), effect=_PAIR_EFFECT)


def directory_subject(card: AgentCard, address: str, *, proven: bool) -> Subject:
    """The card a directory gives for ``address`` (its signature checked): dialing pins it."""
    effect = (
        f"Dialing {peer_text(address, 120)} pins this key and sends it a signed pair request; "
        "once they accept, it can message your agent and receive its messages."
    )
    if not proven:
        effect += " WARNING: the directory cannot show that this DID itself claimed that name."
    return Subject(_PAIR, card.did, card.public_key, _claimed(card, None), effect=effect)


def pinned_subject(agent: WireAgent, name: str) -> Subject:
    """The pinned peer ``name`` names (for unpairing), else a clear error."""
    handle = agent.pairing.find_peer(name)
    record = agent.trust.get(handle) if handle is not None else None
    if handle is None or record is None:
        raise ToolError(f"no pinned peer {name!r}; wire_peers lists them")
    key = record.keys[0].public_key if record.keys else None
    return Subject(
        "UNPAIR FROM",
        record.did,
        key,
        _claimed(_card(record.card), handle),
        effect="Unpairing drops this peer's pin: its later messages are refused until you pair again.",
    )


async def resolve_invite_url(agent: WireAgent, url: str) -> str:
    """A short ``http(s)://…/i/<token>`` invite URL fetched once into its ``wire://pair?…`` form (what
    is shown is then exactly what is accepted); a ``wire://`` URL as it is."""
    text = url.strip()
    if not text.startswith(("http://", "https://")):
        return text
    split = urllib.parse.urlsplit(text)
    full = await agent.pairing.parts.pool.client(f"{split.scheme}://{split.netloc}").invite_url(split.path)
    if not full.startswith(INVITE_URL_PREFIX):
        raise ToolError(f"{text} did not return a wire invite URL")
    return full


def invite_subject(url: str) -> Subject:
    """The issuer an invite URL pins (signature and expiry checked), else a clear error."""
    try:
        invite = parse_invite(url, now_unix=int(time.time()))
    except InviteError as exc:
        raise ToolError(f"not a valid invite: {exc.message}") from None
    card = invite.card
    return Subject("ACCEPT THE INVITE OF", card.did, card.public_key, _claimed(card, None), effect=_PAIR_EFFECT)


def sas_subject(sas: str) -> Subject:
    """A SAS session at ``sas_ready``: the operator compares the code; the peer's identity is sent over the
    channel that code protects once both sides confirmed, and that exact card is pinned."""
    effect = (
        "The peer's identity is sent over the channel this code protects, right after both sides confirm; "
        "wire pins exactly that key."
    )
    return Subject(_PAIR, None, sas=sas, effect=effect)
