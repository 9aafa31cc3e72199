# SPDX-License-Identifier: AGPL-3.0-or-later
"""Deposit tokens (our extension): write-only, per-peer, revocable bearer tokens for one slot.

The slot owner mints one per peer (a free-form ``label``, e.g. the peer's DID); a deposit token
authorises posting events (single and batch) to its slot and nothing else. Like slot tokens they
are stored only as SHA-256 hashes; lookups go by that hash, so the presented token is never
compared byte by byte. Revocation keeps the row (``revoked_unix``) so a revoked token gets a clear
401 rather than looking like a wrong token. Nothing is cached: a revocation takes effect at once in
every relay process sharing the store.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

__all__ = [
    "DEPOSIT_LABEL_MAX_CHARS",
    "DEPOSIT_TOKENS_PER_SLOT_MAX",
    "DEPOSIT_TOKEN_ID_RE",
    "DepositCheck",
    "DepositToken",
]

#: live (unrevoked) deposit tokens one slot may hold; minting beyond answers 409
DEPOSIT_TOKENS_PER_SLOT_MAX = 1024
DEPOSIT_LABEL_MAX_CHARS = 256
#: token ids are 16 lowercase hex characters (64 random bits; not secret)
DEPOSIT_TOKEN_ID_RE = re.compile(r"[0-9a-f]{16}")


class DepositCheck(enum.Enum):
    """Verdict of ``Store.check_deposit_token`` for one slot."""

    OK = "ok"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DepositToken:
    """A deposit token as the owner may see it (never the token itself after minting)."""

    token_id: str
    label: str
    created_unix: int
    revoked_unix: int | None

    def to_json(self) -> dict[str, object]:
        return {
            "token_id": self.token_id,
            "label": self.label,
            "created_unix": self.created_unix,
            "revoked_unix": self.revoked_unix,
        }
