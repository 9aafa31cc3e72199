# SPDX-License-Identifier: AGPL-3.0-or-later
"""PostgreSQL store: deposit tokens (see ``_deposits``).

``wire_deposit_tokens`` is created by the start-up migration whatever the schema version
(``CREATE TABLE IF NOT EXISTS``), so an existing database gains it in place. Checks are one
primary-key read by the token's hash and are never cached: a revocation made through one relay
process holds at once in all of them.
"""

from __future__ import annotations

from typing import Any

from wire_relay.store._deposits import DEPOSIT_TOKENS_PER_SLOT_MAX, DepositCheck, DepositToken
from wire_relay.store.base import hash_token

__all__ = ["DEPOSIT_TABLE", "DepositOps"]

DEPOSIT_TABLE = """
CREATE TABLE IF NOT EXISTS wire_deposit_tokens (
    token_hash BYTEA PRIMARY KEY,
    slot_id TEXT NOT NULL,
    token_id TEXT NOT NULL,
    label TEXT NOT NULL,
    created_unix BIGINT NOT NULL,
    revoked_unix BIGINT,
    UNIQUE (slot_id, token_id)
);
"""

_COLUMNS = "token_id, label, created_unix, revoked_unix"
_REVOKE_SQL = (
    "UPDATE wire_deposit_tokens SET revoked_unix = coalesce(revoked_unix, $3) "
    "WHERE slot_id = $1 AND token_id = $2 RETURNING token_id, label, created_unix, revoked_unix"
)


def _token(row: Any) -> DepositToken:
    revoked = row["revoked_unix"]
    return DepositToken(
        row["token_id"], row["label"], int(row["created_unix"]), None if revoked is None else int(revoked)
    )


class DepositOps:
    """Mixed into :class:`~wire_relay.store.postgres.PostgresStore` (needs ``pool``)."""

    @property
    def pool(self) -> Any:  # pragma: no cover - provided by PostgresStore
        raise NotImplementedError

    async def mint_deposit_token(self, slot_id: str, token_id: str, token: str, label: str, now: float) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            # the slot row lock serialises concurrent mints of one slot, so the cap holds
            await conn.execute("SELECT 1 FROM wire_slots WHERE slot_id = $1 FOR UPDATE", slot_id)
            live = await conn.fetchval(
                "SELECT count(*) FROM wire_deposit_tokens WHERE slot_id = $1 AND revoked_unix IS NULL", slot_id
            )
            if live >= DEPOSIT_TOKENS_PER_SLOT_MAX:
                return False
            await conn.execute(
                "INSERT INTO wire_deposit_tokens (token_hash, slot_id, token_id, label, created_unix) "
                "VALUES ($1, $2, $3, $4, $5)",
                hash_token(token),
                slot_id,
                token_id,
                label,
                int(now),
            )
            return True

    async def list_deposit_tokens(self, slot_id: str) -> list[DepositToken]:
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM wire_deposit_tokens WHERE slot_id = $1 ORDER BY created_unix, token_id",  # noqa: S608
            slot_id,
        )
        return [_token(row) for row in rows]

    async def revoke_deposit_token(self, slot_id: str, token_id: str, now: float) -> DepositToken | None:
        row = await self.pool.fetchrow(_REVOKE_SQL, slot_id, token_id, int(now))
        return None if row is None else _token(row)

    async def check_deposit_token(self, slot_id: str, token: str) -> DepositCheck:
        row = await self.pool.fetchrow(
            "SELECT slot_id, revoked_unix FROM wire_deposit_tokens WHERE token_hash = $1", hash_token(token)
        )
        if row is None or row["slot_id"] != slot_id:
            return DepositCheck.UNKNOWN
        return DepositCheck.OK if row["revoked_unix"] is None else DepositCheck.REVOKED
