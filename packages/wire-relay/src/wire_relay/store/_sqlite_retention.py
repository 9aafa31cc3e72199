# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQLite store: acknowledgements (the backlog quota) and the bounded deletion of old events.

``slots.bytes_used`` counts the slot's *backlog*: the bytes of events stored after ``acked_seq``.
An acknowledgement moves ``acked_seq`` forward, subtracts the bytes it covers and notes
``(slot, through_seq, at)`` in ``acks``; :func:`purge_op` later deletes what the notes cover once
they are old enough, and (when the operator sets a retention) events older than that, in batches
of at most :data:`PURGE_BATCH` rows per call so the writer never blocks the event loop for long.
Ops run on the writer (see ``_sqlite_writer``) inside its group transaction.
"""

from __future__ import annotations

from wire_relay.store._sqlite_writer import Group
from wire_relay.store.base import AckResult

__all__ = ["ACK_COALESCE_SECONDS", "PURGE_BATCH", "ack_op", "purge_op"]

PURGE_BATCH = 5000
#: acknowledgements of one slot within this many seconds share one note (bounds the ``acks`` table)
ACK_COALESCE_SECONDS = 60


def ack_op(g: Group, slot_id: str, event_id: str, now: int) -> AckResult | None:
    slot = g.slot(slot_id)
    if slot is None:
        return None
    hit = g.conn.execute("SELECT seq FROM events WHERE slot = ? AND event_id = ?", (slot.key, event_id)).fetchone()
    if hit is None:
        return None
    through = int(hit[0])
    acked = int(g.conn.execute("SELECT acked_seq FROM slots WHERE id = ?", (slot.key,)).fetchone()[0])
    if through > acked:
        freed = int(
            g.conn.execute(
                "SELECT coalesce(sum(length(data)), 0) FROM events WHERE slot = ? AND seq > ? AND seq <= ?",
                (slot.key, acked, through),
            ).fetchone()[0]
        )
        g.conn.execute(
            "UPDATE slots SET acked_seq = ?, bytes_used = max(0, bytes_used - ?) WHERE id = ?",
            (through, freed, slot.key),
        )
        slot.bytes_used = max(0, slot.bytes_used - freed)
        last = g.conn.execute(
            "SELECT rowid, at FROM acks WHERE slot = ? ORDER BY rowid DESC LIMIT 1", (slot.key,)
        ).fetchone()
        if last is not None and now - last[1] < ACK_COALESCE_SECONDS:
            g.conn.execute("UPDATE acks SET through_seq = ? WHERE rowid = ?", (through, last[0]))
        else:
            g.conn.execute("INSERT INTO acks (slot, through_seq, at) VALUES (?, ?, ?)", (slot.key, through, now))
        acked = through
    return AckResult(acked_seq=acked, backlog_bytes=slot.bytes_used + slot.bytes_delta)


def purge_op(g: Group, now: int, acked_retention: float, event_retention: float | None) -> int:
    budget = PURGE_BATCH
    due = g.conn.execute(
        "SELECT rowid, slot, through_seq FROM acks WHERE at <= ? ORDER BY at LIMIT 100", (now - acked_retention,)
    ).fetchall()
    for rowid, slot_key, through in due:
        if budget <= 0:
            break
        gone = g.conn.execute(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE slot = ? AND seq <= ? ORDER BY seq LIMIT ?)",
            (slot_key, through, budget),
        ).rowcount
        g.conn.execute("UPDATE slots SET event_count = max(0, event_count - ?) WHERE id = ?", (gone, slot_key))
        budget -= gone
        if budget > 0:  # everything this note covers is gone
            g.conn.execute("DELETE FROM acks WHERE rowid = ?", (rowid,))
    if event_retention is not None and budget > 0:
        budget -= _purge_older_than(g, now - event_retention, budget)
    g.slots.clear()  # cached slot rows may be stale now
    return PURGE_BATCH - budget


def _purge_older_than(g: Group, cutoff: float, budget: int) -> int:
    """Delete up to ``budget`` events stored before ``cutoff``. Events get ``at`` from a clock that
    never decreases and ``seq`` in insertion order, so they are sorted by both: a binary search over
    seq finds the last old one without an index on ``at`` (rows from before ``at`` existed count as
    oldest)."""
    bounds = g.conn.execute("SELECT min(seq), max(seq) FROM events").fetchone()
    if bounds[0] is None:
        return 0
    lo, hi, last_old = int(bounds[0]), int(bounds[1]), 0
    while lo <= hi:
        mid = (lo + hi) // 2
        row = g.conn.execute("SELECT seq, coalesce(at, 0) FROM events WHERE seq >= ? ORDER BY seq LIMIT 1", (mid,))
        found = row.fetchone()
        if found is None or found[1] >= cutoff:
            hi = mid - 1
        else:
            last_old = int(found[0])
            lo = int(found[0]) + 1
    if not last_old:
        return 0
    rows = g.conn.execute(
        "SELECT e.seq, e.slot, length(e.data), e.seq > s.acked_seq FROM events e JOIN slots s ON s.id = e.slot "
        "WHERE e.seq <= ? ORDER BY e.seq LIMIT ?",
        (last_old, budget),
    ).fetchall()
    if not rows:
        return 0
    per_slot: dict[int, list[int]] = {}
    for _seq, slot_key, size, unacked in rows:
        counts = per_slot.setdefault(slot_key, [0, 0])
        counts[0] += 1
        counts[1] += size if unacked else 0
    g.conn.execute("DELETE FROM events WHERE seq <= ?", (rows[-1][0],))
    g.conn.executemany(
        "UPDATE slots SET event_count = max(0, event_count - ?), bytes_used = max(0, bytes_used - ?) WHERE id = ?",
        [(n, size, key) for key, (n, size) in per_slot.items()],
    )
    return len(rows)
