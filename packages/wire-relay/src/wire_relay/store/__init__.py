# SPDX-License-Identifier: AGPL-3.0-or-later
"""Store selection: ``open_store(url)`` picks the implementation from the URL scheme.

* ``sqlite:///abs/path/relay.sqlite3`` — the embedded default (``sqlite://:memory:`` for tests);
* ``postgresql://user:pass@host:port/db`` (or ``postgres://``) — shared by several relay processes.

Each implementation module exposes ``async def open_store(url: str) -> Store``.
"""

from __future__ import annotations

import os
from pathlib import Path

from wire_relay.store._deposits import DEPOSIT_LABEL_MAX_CHARS, DEPOSIT_TOKEN_ID_RE, DepositCheck, DepositToken
from wire_relay.store._urls import redact_url
from wire_relay.store.base import (
    COUNTER_NAMES,
    AckResult,
    AppendResult,
    ClaimResult,
    EventItem,
    HandleRecord,
    InviteLookup,
    InviteRecord,
    PairOpenResult,
    PairPeer,
    SlotExistsError,
    SlotState,
    Store,
    StoredEvent,
    StoreError,
    StoreStats,
    Subscription,
    TokenCheck,
    hash_token,
)

__all__ = [
    "COUNTER_NAMES",
    "DEPOSIT_LABEL_MAX_CHARS",
    "DEPOSIT_TOKEN_ID_RE",
    "AckResult",
    "AppendResult",
    "ClaimResult",
    "DepositCheck",
    "DepositToken",
    "EventItem",
    "HandleRecord",
    "InviteLookup",
    "InviteRecord",
    "PairOpenResult",
    "PairPeer",
    "SlotExistsError",
    "SlotState",
    "Store",
    "StoreError",
    "StoreStats",
    "StoredEvent",
    "Subscription",
    "TokenCheck",
    "default_store_url",
    "hash_token",
    "open_store",
    "redact_url",
]


def default_store_url() -> str:
    """``sqlite:///<state dir>/relay.sqlite3``: ``$WIRE_HOME/state/wire-relay`` if ``WIRE_HOME`` is
    set, else ``platformdirs.user_state_dir("wire-relay")``."""
    wire_home = os.environ.get("WIRE_HOME")
    if wire_home:
        base = Path(wire_home) / "state" / "wire-relay"
    else:
        import platformdirs

        base = Path(platformdirs.user_state_dir("wire-relay"))
    return f"sqlite:///{(base / 'relay.sqlite3').resolve()}"


async def open_store(url: str) -> Store:
    """Open the store named by ``url`` (see the module docstring); raises ValueError if unsupported."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from wire_relay.store import sqlite

        return await sqlite.open_store(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from wire_relay.store import postgres  # type: ignore[attr-defined,unused-ignore]
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ValueError(f"PostgreSQL store unavailable ({exc}); install wire-relay[postgres]") from exc
        store: Store = await postgres.open_store(url)
        return store
    raise ValueError(f"unsupported store URL {redact_url(url)!r}: use sqlite:///PATH or postgresql://...")
