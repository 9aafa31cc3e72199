# SPDX-License-Identifier: AGPL-3.0-or-later
"""The PostgreSQL store's rendezvous state: pair slots (a table with TTL, so every relay process
sees the same pair slot) and short-URL invites (use counts decremented under a row lock).

A mixin of :class:`~wire_relay.store.postgres.PostgresStore` (which provides ``pool``).
"""

from __future__ import annotations

from typing import Any, Literal

from wire_protocol import PAIR_SLOT_TTL_SECONDS
from wire_relay.store._pg_schema import BUMP_SQL
from wire_relay.store.base import InviteLookup, InviteRecord, PairOpenResult, PairPeer, StoreError

__all__ = ["RendezvousOps"]

Role = Literal["host", "guest"]


class RendezvousOps:
    """Pair-slot and invite methods of the :class:`~wire_relay.store.base.Store` protocol."""

    @property
    def pool(self) -> Any:  # pragma: no cover - provided by PostgresStore
        raise NotImplementedError

    # -- pair slots (a table with TTL: every replica sees the same pair slot) ------------------------

    async def pair_open(
        self, code_hash: str, role: Role, msg: str, new_pair_id: str, now: float, *, max_open: int | None = None
    ) -> PairOpenResult:
        ttl = float(PAIR_SLOT_TTL_SECONDS)
        async with self.pool.acquire() as conn, conn.transaction():
            for _attempt in range(5):
                row = await conn.fetchrow(
                    "SELECT pair_id, touched, host_msg, guest_msg FROM wire_pairs WHERE code_hash = $1 FOR UPDATE",
                    code_hash,
                )
                if row is not None and now - row[1] > ttl:
                    await conn.execute("DELETE FROM wire_pairs WHERE pair_id = $1", row[0])
                    row = None
                if row is None:
                    if max_open is not None:
                        live = await conn.fetchval(
                            "SELECT count(*) FROM (SELECT 1 FROM wire_pairs WHERE $1 - touched <= $2 LIMIT $3) AS p",
                            now,
                            ttl,
                            max_open,
                        )
                        if live >= max_open:
                            return PairOpenResult("", full=True)
                    pair_id = await conn.fetchval(
                        "INSERT INTO wire_pairs (pair_id, code_hash, touched) VALUES ($1, $2, $3) "
                        "ON CONFLICT DO NOTHING RETURNING pair_id",
                        new_pair_id,
                        code_hash,
                        now,
                    )
                    if pair_id is None:
                        continue  # a concurrent open created it (or the id is taken): look again
                elif row[f"{role}_msg"] is not None:
                    return PairOpenResult(row[0], conflict=True)
                else:
                    pair_id = row[0]
                await conn.execute(
                    "UPDATE wire_pairs SET touched = GREATEST(touched, $3), "
                    "host_msg = CASE WHEN $4 = 'host' THEN $2 ELSE host_msg END, "
                    "guest_msg = CASE WHEN $4 = 'guest' THEN $2 ELSE guest_msg END WHERE pair_id = $1",
                    pair_id,
                    msg,
                    now,
                    role,
                )
                await conn.execute(BUMP_SQL, "pair_opens_total", 1)
                return PairOpenResult(pair_id)
        raise StoreError("pair open kept racing with concurrent changes")

    async def _pair_touch(self, pair_id: str, now: float, role: Role, bootstrap: str | None) -> Any:
        """Return a live pair slot's row, setting ``role``'s bootstrap and touching it unless
        ``bootstrap`` is None (a read never extends the TTL); evict it if idle."""
        ttl = float(PAIR_SLOT_TTL_SECONDS)
        row = await self.pool.fetchrow(
            "UPDATE wire_pairs SET touched = CASE WHEN $5::text IS NULL THEN touched ELSE GREATEST(touched, $2) END, "
            "host_boot = CASE WHEN $5::text IS NOT NULL AND $4 = 'host' THEN $5 ELSE host_boot END, "
            "guest_boot = CASE WHEN $5::text IS NOT NULL AND $4 = 'guest' THEN $5 ELSE guest_boot END "
            "WHERE pair_id = $1 AND $2 - touched <= $3 RETURNING host_msg, guest_msg, host_boot, guest_boot",
            pair_id,
            now,
            ttl,
            role,
            bootstrap,
        )
        if row is None:
            await self.pool.execute(
                "DELETE FROM wire_pairs WHERE pair_id = $1 AND $2 - touched > $3", pair_id, now, ttl
            )
        return row

    async def pair_get(self, pair_id: str, role: Role, now: float) -> PairPeer | None:
        row = await self._pair_touch(pair_id, now, role, None)
        if row is None:
            return None
        other = "guest" if role == "host" else "host"
        return PairPeer(peer_msg=row[f"{other}_msg"], peer_bootstrap=row[f"{other}_boot"])

    async def pair_set_bootstrap(self, pair_id: str, role: Role, sealed: str, now: float) -> bool:
        return await self._pair_touch(pair_id, now, role, sealed) is not None

    async def pair_abandon(self, code_hash: str) -> None:
        await self.pool.execute("DELETE FROM wire_pairs WHERE code_hash = $1", code_hash)

    # -- invites -------------------------------------------------------------------------------------

    async def invite_register(self, record: InviteRecord) -> bool:
        done = await self.pool.fetchval(
            "INSERT INTO wire_invites AS i (token, invite_url, expires_unix, uses_remaining, created_unix) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token) DO UPDATE SET invite_url = EXCLUDED.invite_url, "
            "expires_unix = EXCLUDED.expires_unix, uses_remaining = EXCLUDED.uses_remaining, "
            "created_unix = EXCLUDED.created_unix WHERE i.expires_unix <= EXCLUDED.created_unix RETURNING 1",
            record.token.lower(),
            record.invite_url,
            record.expires_unix,
            record.uses_remaining,
            record.created_unix,
        )
        return done is not None

    @staticmethod
    def _invite_verdict(row: Any, now: float) -> InviteLookup:
        if row is None:
            return InviteLookup("unknown")
        if now >= row[1]:
            return InviteLookup("expired")
        if row[2] is not None and row[2] <= 0:
            return InviteLookup("used_up")
        return InviteLookup("ok", row[0])

    async def invite_take(self, token: str, now: float, *, consume: bool) -> InviteLookup:
        token = token.lower()
        select = "SELECT invite_url, expires_unix, uses_remaining FROM wire_invites WHERE token = $1"
        if not consume:
            return self._invite_verdict(await self.pool.fetchrow(select, token), now)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(select + " FOR UPDATE", token)
            verdict = self._invite_verdict(row, now)
            if verdict.status == "ok" and row[2] is not None:
                await conn.execute(
                    "UPDATE wire_invites SET uses_remaining = uses_remaining - 1 WHERE token = $1", token
                )
            return verdict
