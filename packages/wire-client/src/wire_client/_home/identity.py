# SPDX-License-Identifier: MIT
"""The local identity: private key, signed agent-card, profile, local display overrides, character."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from wire_client._errors import HomeError, IdentityMismatchError, NotInitializedError
from wire_client._home.files import atomic_write_bytes, atomic_write_json, dump_pretty, locked, read_json
from wire_client._home.paths import WireHome
from wire_client._home.trust import TrustStore
from wire_protocol import (
    JSON,
    AgentCard,
    CardError,
    Character,
    HandleError,
    JSONObject,
    KeyFormatError,
    SigningKey,
    Tier,
    build_agent_card,
    character_for,
    sign_card,
    validate_handle,
    verify_card,
    with_profile_field,
)

__all__ = ["DisplayOverride", "Identity", "InitResult"]


@dataclass(frozen=True, slots=True)
class InitResult:
    """What :meth:`Identity.create` did: ``created`` a new identity or found it ``already_initialized``."""

    status: Literal["created", "already_initialized"]
    did: str
    handle: str


@dataclass(frozen=True, slots=True)
class DisplayOverride:
    """Local-only persona override from ``display.json`` (never sent to peers)."""

    nickname: str | None = None
    emoji: str | None = None


class Identity:
    """A loaded identity: its signing key and its current signed card."""

    def __init__(self, home: WireHome, key: SigningKey, card: AgentCard) -> None:
        self.home = home
        self.key = key
        self.card = card

    @property
    def did(self) -> str:
        return self.card.did

    @property
    def handle(self) -> str:
        return self.card.handle

    # --- create / load -----------------------------------------------------------------------

    @classmethod
    def create(
        cls, home: WireHome, handle: str, *, name: str | None = None, key: SigningKey | None = None
    ) -> tuple[Identity, InitResult]:
        """Create the identity, or return the existing one when it already has this handle.

        Never re-keys: a home that already holds an identity with a *different* handle raises
        :class:`IdentityMismatchError`. A key without a card (an interrupted init) is reused.
        """
        try:
            validate_handle(handle)
        except HandleError as exc:
            raise HomeError(exc.message) from exc
        home.ensure_dirs()
        with locked(home.private_key):
            if home.is_initialized:
                existing = cls.load(home)
                if existing.handle != handle:
                    raise IdentityMismatchError(
                        f"this home already holds identity {existing.handle!r} ({existing.did}); "
                        f"refusing to re-key it as {handle!r}. Use another WIRE_HOME or a session."
                    )
                return existing, InitResult(status="already_initialized", did=existing.did, handle=handle)
            if home.private_key.exists():
                signing_key = _read_key(home)
            else:
                signing_key = key if key is not None else SigningKey.generate()
                atomic_write_bytes(home.private_key, signing_key.seed, mode=0o600)
            from wire_protocol import card_with_dh_pubkey  # here: sealing code loads only when a card is signed

            card = card_with_dh_pubkey(build_agent_card(signing_key, handle, name=name), signing_key)
            atomic_write_bytes(home.agent_card, dump_pretty(card.to_json()))
        identity = cls(home, signing_key, card)
        TrustStore(home).pin_card(card, Tier.ATTESTED)
        return identity, InitResult(status="created", did=card.did, handle=handle)

    @classmethod
    def load(cls, home: WireHome) -> Identity:
        if not home.is_initialized:
            raise NotInitializedError(f"no wire identity in {home.config_dir}; run `wire init <handle>` first")
        signing_key = _read_key(home)
        try:
            card = verify_card(read_json(home.agent_card))
        except CardError as exc:
            raise HomeError(f"{home.agent_card} does not verify: {exc.message}") from exc
        if card.public_key != signing_key.public_key:
            raise HomeError(f"{home.agent_card} was not signed by {home.private_key}; the home is inconsistent")
        identity = cls(home, signing_key, card)
        if "dh_pubkey" not in card.data:  # a home from before sealing: publish our X25519 key now
            identity._store_card(card)
        return identity

    # --- card and profile --------------------------------------------------------------------

    def _store_card(self, card: AgentCard) -> AgentCard:
        had_dh_pubkey = "dh_pubkey" in self.card.data
        from wire_protocol import card_with_dh_pubkey

        card = card_with_dh_pubkey(card, self.key)  # every re-sign publishes our X25519 key
        with locked(self.home.agent_card):
            atomic_write_bytes(self.home.agent_card, dump_pretty(card.to_json()))
            if not had_dh_pubkey:  # peers pinned the card without it: re-introduce us (daemon / reintroduce())
                self.home.ensure_dirs()
                atomic_write_bytes(self.home.reintroduce_marker, b"dh_pubkey\n")
        self.card = card
        TrustStore(self.home).pin_card(card, Tier.ATTESTED)
        return card

    def rebuild_card(self) -> AgentCard:
        """Re-sign the current card (e.g. after editing it by hand); all fields are kept."""
        return self._store_card(sign_card(self.card.to_json(), self.key))

    def set_profile(self, field: str, value: JSON) -> AgentCard:
        """Set one profile field (``None`` removes it) and re-sign the card."""
        try:
            card = with_profile_field(self.card, field, value, self.key)
        except CardError as exc:
            raise HomeError(exc.message) from exc
        return self._store_card(card)

    def profile(self) -> JSONObject:
        return self.card.profile

    # --- local display -----------------------------------------------------------------------

    def display(self) -> DisplayOverride:
        data = read_json(self.home.display, {})
        if not isinstance(data, dict):
            return DisplayOverride()
        nickname, emoji = data.get("nickname"), data.get("emoji")
        return DisplayOverride(
            nickname=nickname if isinstance(nickname, str) and nickname else None,
            emoji=emoji if isinstance(emoji, str) and emoji else None,
        )

    def set_display(self, *, nickname: str | None = None, emoji: str | None = None) -> DisplayOverride:
        """Local-only rename: what *we* see for ourselves. Peers keep seeing the DID-derived character."""
        data: JSONObject = {}
        if nickname:
            data["nickname"] = nickname
        if emoji:
            data["emoji"] = emoji
        atomic_write_json(self.home.display, data)
        return self.display()

    def character(self) -> Character:
        override = self.display()
        return character_for(self.did, nickname_override=override.nickname, emoji_override=override.emoji)


def _read_key(home: WireHome) -> SigningKey:
    try:
        seed = home.private_key.read_bytes()
        mode = os.stat(home.private_key).st_mode & 0o777
    except OSError as exc:
        raise HomeError(f"cannot read {home.private_key}: {exc}") from exc
    if mode & 0o077:
        os.chmod(home.private_key, 0o600)
    try:
        return SigningKey(seed)
    except KeyFormatError as exc:
        raise HomeError(f"{home.private_key} is not a 32-byte Ed25519 seed") from exc
