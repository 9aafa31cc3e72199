# SPDX-License-Identifier: MIT
"""The trust ring (``trust.json``): pinned cards and their keys, tiers with one-way promotion.

The file keeps the reference's shape, ``{"version":1,"agents":{handle:{tier, did, public_keys:
[{key_id,key,added_at,active}], card, pinned_at}}}``, so a v0.9.3 ``wire`` reads it. Unlike the
reference, every write is atomic and locked, and a card whose DID differs from the one already
pinned under its handle is refused (no nick-collision hijack), and a pin holds the exact key bytes
it was made with: a card for the same DID with another key is a conflict, never a second key.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from wire_client._errors import TrustConflictError, TrustError
from wire_client._home.files import read_json, update_json
from wire_client._home.paths import WireHome, safe_peer_name
from wire_protocol import (
    JSON,
    AgentCard,
    CardError,
    Character,
    JSONObject,
    KeyFormatError,
    Tier,
    TrustedKey,
    b64decode_exact,
    b64encode,
    character_for,
    display_handle_from_did,
    format_timestamp,
    make_key_id,
    verify_card,
)

__all__ = ["PinResult", "TrustRecord", "TrustStore", "card_character"]


def card_character(did: str | None, card: Mapping[str, JSON] | None) -> Character:
    """A peer's character, honouring its card's ``display.nickname`` / ``display.emoji`` (sanitized)."""
    display = card.get("display") if card else None
    nickname = display.get("nickname") if isinstance(display, dict) else None
    emoji = display.get("emoji") if isinstance(display, dict) else None
    return character_for(
        did or None,
        nickname_override=nickname if isinstance(nickname, str) else None,
        emoji_override=emoji if isinstance(emoji, str) else None,
    )


log = logging.getLogger(__name__)

TRUST_FILE_VERSION = 1


def _now() -> str:
    return format_timestamp(datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class TrustRecord:
    """One pinned agent."""

    handle: str
    did: str
    tier: Tier
    keys: tuple[TrustedKey, ...]
    card: JSONObject | None
    pinned_at: str | None

    @property
    def capabilities(self) -> list[str]:
        caps = self.card.get("capabilities") if self.card else None
        return [c for c in caps if isinstance(c, str)] if isinstance(caps, list) else []

    @classmethod
    def from_json(cls, handle: str, record: Mapping[str, JSON]) -> TrustRecord:
        keys: list[TrustedKey] = []
        raw_keys = record.get("public_keys")
        for entry in raw_keys if isinstance(raw_keys, list) else []:
            if not isinstance(entry, dict) or not isinstance(entry.get("key_id"), str):
                continue
            try:
                public_key = b64decode_exact(entry.get("key"), 32, what="trusted key")
            except KeyFormatError:
                log.warning("trust.json: key %r of %r is malformed; ignored", entry.get("key_id"), handle)
                continue
            # the key id is derived from the key itself, never taken from the file or a card
            keys.append(
                TrustedKey(
                    key_id=make_key_id(handle, public_key),
                    public_key=public_key,
                    active=entry.get("active") is not False,
                )
            )
        card = record.get("card")
        did = record.get("did")
        pinned_at = record.get("pinned_at")
        return cls(
            handle=handle,
            did=did if isinstance(did, str) else "",
            tier=Tier.parse(record.get("tier")),
            keys=tuple(keys),
            card=copy.deepcopy(card) if isinstance(card, dict) else None,
            pinned_at=pinned_at if isinstance(pinned_at, str) else None,
        )


@dataclass(frozen=True, slots=True)
class PinResult:
    handle: str
    did: str
    tier: Tier
    status: Literal["pinned", "promoted", "updated", "unchanged"]


class TrustStore:
    """Read and change ``trust.json``; also the :class:`wire_protocol.TrustLookup` used to verify events.

    Reads are cached and refreshed whenever the file changes on disk (another process pinned
    someone), so a long-running daemon sees pins made by the CLI without restarting.
    """

    def __init__(self, home: WireHome) -> None:
        self._home = home
        self._path = home.trust
        self._cache_key: tuple[int, int, int] | None = None
        self._records: dict[str, TrustRecord] = {}

    # --- reading -----------------------------------------------------------------------------

    def _stat_key(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> dict[str, TrustRecord]:
        key = self._stat_key()
        if key is not None and key == self._cache_key:
            return self._records
        data = read_json(self._path, {})
        agents = data.get("agents") if isinstance(data, dict) else None
        records: dict[str, TrustRecord] = {}
        for handle, record in (agents if isinstance(agents, dict) else {}).items():
            if isinstance(record, dict):
                records[handle] = TrustRecord.from_json(handle, record)
        self._records = records
        self._cache_key = key
        return records

    def agents(self) -> dict[str, TrustRecord]:
        """Every pinned agent (self included), keyed by handle."""
        return dict(self._load())

    def get(self, handle: str) -> TrustRecord | None:
        return self._load().get(handle)

    def keys_for(self, handle: str) -> Sequence[TrustedKey] | None:
        """:class:`wire_protocol.TrustLookup`: the keys pinned for ``handle``, ``None`` if not pinned."""
        record = self._load().get(handle)
        return record.keys if record is not None else None

    def tier_of(self, handle: str) -> Tier:
        record = self._load().get(handle)
        return record.tier if record is not None else Tier.UNTRUSTED

    # --- writing -----------------------------------------------------------------------------

    def pin_card(self, card: AgentCard | Mapping[str, JSON], tier: Tier = Tier.VERIFIED) -> PinResult:
        """Verify ``card`` and pin it at ``tier`` (a re-pin never lowers an existing tier).

        Refused with :class:`TrustConflictError` when the handle is already pinned to another DID,
        and with :class:`TrustError` when the card's handle is not the handle of its own DID.
        """
        if not isinstance(card, AgentCard):
            try:
                card = verify_card(dict(card))
            except CardError as exc:
                raise TrustError(f"refusing to pin an invalid card: {exc.message}") from exc
        handle = display_handle_from_did(card.did)
        if card.handle != handle:
            raise TrustError(f"card handle {card.handle!r} does not match its DID {card.did!r}; refusing to pin")
        safe_peer_name(handle)
        verified_card = card

        def modify(current: JSON) -> tuple[JSON, PinResult]:
            data = _normalized(current)
            agents = data["agents"]
            assert isinstance(agents, dict)  # noqa: S101 - _normalized guarantees it
            now = _now()
            existing = agents.get(handle)
            new_key: JSONObject = {
                "key_id": make_key_id(handle, verified_card.public_key),
                "key": b64encode(verified_card.public_key),
                "added_at": now,
                "active": True,
            }
            if isinstance(existing, dict):
                if existing.get("did") != verified_card.did:
                    raise TrustConflictError(
                        f"{handle!r} is already pinned to {existing.get('did')!r}; a card for "
                        f"{verified_card.did!r} cannot take over that handle. `forget` the old pin first "
                        "if this really is the same agent with a new key."
                    )
                old_tier = Tier.parse(existing.get("tier"))
                new_tier = old_tier.promoted_to(tier)
                old_keys = existing.get("public_keys")
                keys: list[JSON] = [k for k in old_keys if isinstance(k, dict)] if isinstance(old_keys, list) else []
                _require_same_key(handle, verified_card, keys)
                changed_card = existing.get("card") != verified_card.data
                record = dict(existing)
                record.update({"tier": new_tier.name, "public_keys": keys, "card": verified_card.to_json()})
                agents[handle] = record
                status: Literal["pinned", "promoted", "updated", "unchanged"]
                status = "promoted" if new_tier > old_tier else "updated" if changed_card else "unchanged"
                return data, PinResult(handle=handle, did=verified_card.did, tier=new_tier, status=status)
            agents[handle] = {
                "tier": tier.name,
                "did": verified_card.did,
                "public_keys": [new_key],
                "card": verified_card.to_json(),
                "pinned_at": now,
            }
            return data, PinResult(handle=handle, did=verified_card.did, tier=tier, status="pinned")

        return update_json(self._path, modify, default={})

    def forget(self, handle: str) -> bool:
        """Remove a pin; ``False`` (a soft miss) when there was none."""

        def modify(current: JSON) -> tuple[JSON, bool]:
            data = _normalized(current)
            agents = data["agents"]
            assert isinstance(agents, dict)  # noqa: S101
            return data, agents.pop(handle, None) is not None

        return update_json(self._path, modify, default={})


def _require_same_key(handle: str, card: AgentCard, pinned_keys: list[JSON]) -> None:
    """A pin holds the exact key bytes it was made with: another key for the same DID is a conflict.

    The DID suffix binds only 32 bits of the key, so a second key with a colliding suffix is
    possible; it must never be appended to the pin (or replace its card) without the operator.
    """
    pinned = [k.get("key") for k in pinned_keys if isinstance(k, dict)]
    if not pinned or b64encode(card.public_key) in pinned:
        return
    raise TrustConflictError(
        f"{card.did} is pinned with a different key (pinned key fingerprint "
        f"{_full_fingerprint(pinned[0])}, offered key {hashlib.sha256(card.public_key).hexdigest()}); "
        f"refusing the new key. If {handle!r} really changed its key, check with its operator, then "
        f"`wire forget {handle}` and pair again.",
    )


def _full_fingerprint(key_b64: JSON) -> str:
    try:
        return hashlib.sha256(b64decode_exact(key_b64, 32, what="trusted key")).hexdigest()
    except KeyFormatError:
        return "(unreadable)"


def _normalized(current: JSON) -> JSONObject:
    data: JSONObject = dict(current) if isinstance(current, dict) else {}
    data.setdefault("version", TRUST_FILE_VERSION)
    if not isinstance(data.get("agents"), dict):
        data["agents"] = {}
    return data
