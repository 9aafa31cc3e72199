# SPDX-License-Identifier: AGPL-3.0-or-later
"""PostgreSQL store: acknowledgements (the backlog quota) and the bounded deletion of old events.

Same model as the SQLite store (``_sqlite_retention``): ``wire_slots.bytes_used`` is the backlog
(bytes after ``acked_seq``); an acknowledgement locks the slot row (as ``wire_append`` does, so the
two serialise), moves ``acked_seq``, subtracts the bytes it covers and notes ``(slot, through_seq,
at)`` in ``wire_acks``; :meth:`RetentionOps.purge` deletes what old notes cover and, with an
operator retention, events whose ``at`` is older (``at`` has a BRIN index: it grows with time).
"""

from __future__ import annotations

from typing import Any

from wire_relay.store.base import AckResult

__all__ = ["RetentionOps"]

PURGE_BATCH = 5000
ACK_COALESCE_SECONDS = 60


class RetentionOps:
    """Mixed into :class:`~wire_relay.store.postgres.PostgresStore` (needs ``pool``)."""

    @property
    def pool(self) -> Any:  # pragma: no cover - provided by PostgresStore
        raise NotImplementedError

    async def ack(self, slot_id: str, event_id: str, now: float) -> AckResult | None:
        at = int(now)
        async with self.pool.acquire() as conn, conn.transaction():
            slot = await conn.fetchrow(
                "SELECT id, acked_seq, bytes_used FROM wire_slots WHERE slot_id = $1 FOR UPDATE", slot_id
            )
            if slot is None:
                return None
            through = await conn.fetchval(
                "SELECT seq FROM wire_events WHERE slot = $1 AND event_id = $2", slot["id"], event_id
            )
            if through is None:
                return None
            if through <= slot["acked_seq"]:
                return AckResult(acked_seq=slot["acked_seq"], backlog_bytes=slot["bytes_used"])
            backlog = await conn.fetchval(
                "UPDATE wire_slots SET acked_seq = $2, bytes_used = GREATEST(0, bytes_used - ("
                "SELECT coalesce(sum(octet_length(data)), 0) FROM wire_events "
                "WHERE slot = $1 AND seq > $3 AND seq <= $2)) WHERE id = $1 RETURNING bytes_used",
                slot["id"],
                through,
                slot["acked_seq"],
            )
            updated = await conn.fetchval(
                "UPDATE wire_acks SET through_seq = $2 WHERE id = (SELECT id FROM wire_acks WHERE slot = $1 "
                "ORDER BY id DESC LIMIT 1) AND $3 - at < $4 RETURNING 1",
                slot["id"],
                through,
                at,
                ACK_COALESCE_SECONDS,
            )
            if updated is None:
                await conn.execute(
                    "INSERT INTO wire_acks (slot, through_seq, at) VALUES ($1, $2, $3)", slot["id"], through, at
                )
            return AckResult(acked_seq=through, backlog_bytes=backlog)

    async def purge(self, now: float, *, acked_retention: float, event_retention: float | None) -> int:
        budget = PURGE_BATCH
        async with self.pool.acquire() as conn:
            due = await conn.fetch(
                "SELECT id, slot, through_seq FROM wire_acks WHERE at <= $1 ORDER BY at LIMIT 100",
                int(now - acked_retention),
            )
            for note in due:
                if budget <= 0:
                    break
                async with conn.transaction():
                    gone = await conn.fetchval(
                        "WITH gone AS (DELETE FROM wire_events WHERE slot = $1 AND seq IN (SELECT seq FROM wire_events "
                        "WHERE slot = $1 AND seq <= $2 ORDER BY seq LIMIT $3) RETURNING 1) SELECT count(*) FROM gone",
                        note["slot"],
                        note["through_seq"],
                        budget,
                    )
                    await conn.execute(
                        "UPDATE wire_slots SET event_count = GREATEST(0, event_count - $2) WHERE id = $1",
                        note["slot"],
                        gone,
                    )
                    budget -= gone
                    if budget > 0:
                        await conn.execute("DELETE FROM wire_acks WHERE id = $1", note["id"])
            if event_retention is not None and budget > 0:
                async with conn.transaction():
                    gone = await conn.fetchval(
                        "WITH gone AS (DELETE FROM wire_events WHERE ctid IN (SELECT ctid FROM wire_events "
                        "WHERE coalesce(at, 0) < $1 LIMIT $2) RETURNING slot, seq, octet_length(data) AS size), "
                        "per AS (SELECT g.slot, count(*) AS n, "
                        "sum(CASE WHEN g.seq > s.acked_seq THEN g.size ELSE 0 END) AS unacked "
                        "FROM gone g JOIN wire_slots s ON s.id = g.slot GROUP BY g.slot), "
                        "upd AS (UPDATE wire_slots s SET event_count = GREATEST(0, s.event_count - per.n), "
                        "bytes_used = GREATEST(0, s.bytes_used - per.unacked) FROM per WHERE s.id = per.slot) "
                        "SELECT coalesce(sum(n), 0) FROM per",
                        int(now - event_retention),
                        budget,
                    )
                    budget -= int(gone)
        return PURGE_BATCH - budget
