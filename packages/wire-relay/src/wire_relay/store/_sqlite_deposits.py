# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQLite store: deposit tokens (see ``_deposits``).

The ``deposit_tokens`` table is part of the ``CREATE TABLE IF NOT EXISTS`` schema, so opening an
older database adds it in place. Checks are point reads by primary key (the token's hash) on the
loop thread's connection; mint and revoke go through the writer like every other write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from wire_relay.store._deposits import DEPOSIT_TOKENS_PER_SLOT_MAX, DepositCheck, DepositToken
from wire_relay.store._sqlite_writer import Group
from wire_relay.store.base import hash_token

__all__ = ["DepositOps"]

T = TypeVar("T")

_COLUMNS = "token_id, label, created_unix, revoked_unix"


def _token(row: Any) -> DepositToken:
    return DepositToken(str(row[0]), str(row[1]), int(row[2]), None if row[3] is None else int(row[3]))


class DepositOps:
    """Mixed into :class:`~wire_relay.store.sqlite.SQLiteStore` (needs ``_read`` and ``_write``)."""

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:  # pragma: no cover - SQLiteStore
        raise NotImplementedError

    async def _write(self, op: Callable[[Group], T]) -> T:  # pragma: no cover - SQLiteStore
        raise NotImplementedError

    async def mint_deposit_token(self, slot_id: str, token_id: str, token: str, label: str, now: float) -> bool:
        digest = hash_token(token)

        def op(g: Group) -> bool:
            live = g.conn.execute(
                "SELECT count(*) FROM deposit_tokens WHERE slot_id = ? AND revoked_unix IS NULL", (slot_id,)
            ).fetchone()[0]
            if live >= DEPOSIT_TOKENS_PER_SLOT_MAX:
                return False
            g.conn.execute(
                "INSERT INTO deposit_tokens (token_hash, slot_id, token_id, label, created_unix) "
                "VALUES (?, ?, ?, ?, ?)",
                (digest, slot_id, token_id, label, int(now)),
            )
            return True

        return await self._write(op)

    async def list_deposit_tokens(self, slot_id: str) -> list[DepositToken]:
        rows = self._read(
            lambda c: c.execute(
                f"SELECT {_COLUMNS} FROM deposit_tokens WHERE slot_id = ? ORDER BY created_unix, rowid",  # noqa: S608
                (slot_id,),
            ).fetchall()
        )
        return [_token(row) for row in rows]

    async def revoke_deposit_token(self, slot_id: str, token_id: str, now: float) -> DepositToken | None:
        def op(g: Group) -> DepositToken | None:
            g.conn.execute(
                "UPDATE deposit_tokens SET revoked_unix = coalesce(revoked_unix, ?) WHERE slot_id = ? AND token_id = ?",
                (int(now), slot_id, token_id),
            )
            row = g.conn.execute(
                f"SELECT {_COLUMNS} FROM deposit_tokens WHERE slot_id = ? AND token_id = ?",  # noqa: S608
                (slot_id, token_id),
            ).fetchone()
            return None if row is None else _token(row)

        return await self._write(op)

    async def check_deposit_token(self, slot_id: str, token: str) -> DepositCheck:
        digest = hash_token(token)
        row = self._read(
            lambda c: c.execute(
                "SELECT slot_id, revoked_unix FROM deposit_tokens WHERE token_hash = ?", (digest,)
            ).fetchone()
        )
        if row is None or row[0] != slot_id:
            return DepositCheck.UNKNOWN
        return DepositCheck.OK if row[1] is None else DepositCheck.REVOKED
