# SPDX-License-Identifier: MIT
"""Where a wire identity lives on disk (features notes §3) and the names of every file in it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wire_client._errors import HomeError
from wire_client._home.files import DIR_MODE, make_private_dirs

__all__ = ["WireHome", "safe_peer_name"]

_APP = "wire"
_PEER_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def safe_peer_name(name: str) -> str:
    """Check that ``name`` can be a file name under inbox/outbox/held (no ``/``, no ``..``, no dot-files)."""
    if not _PEER_NAME_RE.fullmatch(name) or ".." in name:
        raise HomeError(f"{name!r} is not a usable peer handle (letters, digits, '_', '-', '.' only)")
    return name


@dataclass(frozen=True, slots=True)
class WireHome:
    """The config and state directories of one identity.

    With ``WIRE_HOME`` (or :meth:`at`) they are ``<root>/config/wire`` and ``<root>/state/wire``;
    otherwise the platform's user config/state directories (the same dir on macOS).
    """

    config_dir: Path
    state_dir: Path
    root: Path | None = None

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> WireHome:
        """The home rooted at ``root`` (what ``WIRE_HOME=root`` selects)."""
        base = Path(root).expanduser().absolute()
        return cls(config_dir=base / "config" / _APP, state_dir=base / "state" / _APP, root=base)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WireHome:
        """``WIRE_HOME`` when set and non-empty, else the platform defaults."""
        environ = os.environ if env is None else env
        override = environ.get("WIRE_HOME", "").strip()
        if override:
            return cls.at(override)
        import platformdirs  # here: a WIRE_HOME (every session, most agents) never needs it

        return cls(
            config_dir=Path(platformdirs.user_config_dir(_APP, appauthor=False)),
            state_dir=Path(platformdirs.user_state_dir(_APP, appauthor=False)),
        )

    # --- roots -------------------------------------------------------------------------------

    @property
    def sessions_root(self) -> Path:
        """``$WIRE_HOME/sessions`` (or the enclosing ``sessions`` dir of a session home), else state/sessions."""
        if self.root is not None:
            if self.root.parent.name == "sessions":
                return self.root.parent
            return self.root / "sessions"
        return self.state_dir / "sessions"

    # --- config files ------------------------------------------------------------------------

    @property
    def private_key(self) -> Path:
        return self.config_dir / "private.key"

    @property
    def agent_card(self) -> Path:
        return self.config_dir / "agent-card.json"

    @property
    def trust(self) -> Path:
        return self.config_dir / "trust.json"

    @property
    def relay_state(self) -> Path:
        return self.config_dir / "relay.json"

    @property
    def deposit_tokens(self) -> Path:
        """Per peer DID, the write-only deposit tokens of our slots we handed it (secrets: 0600)."""
        return self.config_dir / "deposit-tokens.json"

    @property
    def display(self) -> Path:
        return self.config_dir / "display.json"

    @property
    def policy(self) -> Path:
        return self.config_dir / "policy.json"

    # --- state files -------------------------------------------------------------------------

    @property
    def inbox_dir(self) -> Path:
        return self.state_dir / "inbox"

    @property
    def outbox_dir(self) -> Path:
        return self.state_dir / "outbox"

    @property
    def held_dir(self) -> Path:
        """Events from senders we have not pinned yet, parked until they are (or forgotten)."""
        return self.state_dir / "held"

    @property
    def sent_dir(self) -> Path:
        """Verdict lines: every outbox delivery, and every send that was queued or refused."""
        return self.state_dir / "sent"

    @property
    def pending_inbound_dir(self) -> Path:
        return self.state_dir / "pending-inbound-pairs"

    @property
    def pending_invites_dir(self) -> Path:
        """``<nonce>.json`` per invite we minted (kept as tombstones once used up or expired)."""
        return self.state_dir / "pending-invites"

    @property
    def sas_sessions_dir(self) -> Path:
        """``<session_id>.json`` per SPAKE2 + SAS pairing session (mode 0600)."""
        return self.state_dir / "pending-pair"

    @property
    def pair_rejections(self) -> Path:
        """DIDs and event ids of pair requests the operator rejected."""
        return self.state_dir / "pair-rejections.json"

    @property
    def pair_dials(self) -> Path:
        """Our outgoing pair requests (event id, key, address) and any refusal they got."""
        return self.state_dir / "pair-dials.json"

    @property
    def peer_coords(self) -> Path:
        """Per peer, the slot ids it moved away from (replayed coordinates are refused)."""
        return self.state_dir / "peer-coords.json"

    @property
    def pair_rejected_log(self) -> Path:
        """Diagnostics: pairing events we refused, and why."""
        return self.state_dir / "pair-rejected.jsonl"

    @property
    def notify_cursor(self) -> Path:
        """How far ``wire notify`` has read each inbox file (byte offsets)."""
        return self.state_dir / "notify.cursor"

    @property
    def cursors(self) -> Path:
        """Per-endpoint pull cursors: ``{"<scope>|<relay_url>|<slot_id>": {...}}``."""
        return self.state_dir / "cursors.json"

    @property
    def outbox_cursors(self) -> Path:
        """Per-peer outbox progress: byte offset delivered so far plus the batch in flight."""
        return self.state_dir / "outbox-cursors.json"

    @property
    def reintroduce_marker(self) -> Path:
        """Present while our card changed (e.g. gained ``dh_pubkey``) and peers have not been told yet."""
        return self.state_dir / "reintroduce-pending"

    @property
    def rejected_log(self) -> Path:
        return self.state_dir / "rejected.jsonl"

    @property
    def daemon_pid(self) -> Path:
        return self.state_dir / "daemon.pid"

    @property
    def daemon_lock(self) -> Path:
        return self.state_dir / "daemon.lock"

    @property
    def daemon_log(self) -> Path:
        return self.state_dir / "daemon.log"

    def inbox_path(self, peer: str) -> Path:
        return self.inbox_dir / f"{safe_peer_name(peer)}.jsonl"

    def outbox_path(self, peer: str) -> Path:
        return self.outbox_dir / f"{safe_peer_name(peer)}.jsonl"

    def held_path(self, peer: str) -> Path:
        return self.held_dir / f"{safe_peer_name(peer)}.jsonl"

    def sent_path(self, peer: str) -> Path:
        return self.sent_dir / f"{safe_peer_name(peer)}.jsonl"

    def pending_inbound_path(self, peer: str) -> Path:
        return self.pending_inbound_dir / f"{safe_peer_name(peer)}.json"

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def is_initialized(self) -> bool:
        """An identity exists iff both the private key and the agent-card exist (as in the reference)."""
        return self.private_key.is_file() and self.agent_card.is_file()

    def ensure_dirs(self) -> None:
        """Create the directory tree, every directory 0700 whatever the umask (it holds keys and tokens)."""
        for directory in (self.config_dir, self.state_dir, self.inbox_dir, self.outbox_dir):
            make_private_dirs(directory)
        for directory in (self.config_dir, self.state_dir):
            os.chmod(directory, DIR_MODE)
