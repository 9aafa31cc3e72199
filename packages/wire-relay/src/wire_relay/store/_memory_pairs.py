# SPDX-License-Identifier: AGPL-3.0-or-later
"""SPAKE2 pair slots held in process memory (single-process stores; empty after a restart).

A pair slot is found by ``code_hash``, holds each role's message and sealed bootstrap, and expires
:data:`~wire_protocol.PAIR_SLOT_TTL_SECONDS` after its last touch (checked inline on every access
and by :meth:`MemoryPairSlots.sweep`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wire_protocol import PAIR_SLOT_TTL_SECONDS
from wire_relay.store.base import PairOpenResult, PairPeer

__all__ = ["MemoryPairSlots"]

Role = Literal["host", "guest"]


@dataclass(slots=True)
class _PairSlot:
    pair_id: str
    code_hash: str
    touched: float
    msgs: dict[str, str]
    boots: dict[str, str]


class MemoryPairSlots:
    """The pair-slot part of the :class:`~wire_relay.store.base.Store` contract, in memory."""

    def __init__(self, ttl: float = PAIR_SLOT_TTL_SECONDS) -> None:
        self._ttl = ttl
        self._pairs: dict[str, _PairSlot] = {}
        self._codes: dict[str, str] = {}

    def _live(self, pair_id: str | None, now: float) -> _PairSlot | None:
        pair = self._pairs.get(pair_id) if pair_id is not None else None
        if pair is not None and now - pair.touched > self._ttl:
            self._drop(pair)
            return None
        return pair

    def _drop(self, pair: _PairSlot) -> None:
        self._pairs.pop(pair.pair_id, None)
        if self._codes.get(pair.code_hash) == pair.pair_id:
            del self._codes[pair.code_hash]

    def open(
        self, code_hash: str, role: Role, msg: str, new_pair_id: str, now: float, *, max_open: int | None = None
    ) -> PairOpenResult:
        pair = self._live(self._codes.get(code_hash), now)
        if pair is None:
            if max_open is not None and len(self._pairs) >= max_open:
                self.sweep(now)
                if len(self._pairs) >= max_open:
                    return PairOpenResult("", full=True)
            pair = _PairSlot(pair_id=new_pair_id, code_hash=code_hash, touched=now, msgs={}, boots={})
            self._pairs[new_pair_id] = pair
            self._codes[code_hash] = new_pair_id
        if role in pair.msgs:
            return PairOpenResult(pair.pair_id, conflict=True)
        pair.msgs[role] = msg
        pair.touched = now
        return PairOpenResult(pair.pair_id)

    def get(self, pair_id: str, role: Role, now: float) -> PairPeer | None:
        pair = self._live(pair_id, now)
        if pair is None:
            return None
        other = "guest" if role == "host" else "host"
        return PairPeer(peer_msg=pair.msgs.get(other), peer_bootstrap=pair.boots.get(other))

    def set_bootstrap(self, pair_id: str, role: Role, sealed: str, now: float) -> bool:
        pair = self._live(pair_id, now)
        if pair is None:
            return False
        pair.boots[role] = sealed
        pair.touched = now
        return True

    def abandon(self, code_hash: str) -> None:
        pair_id = self._codes.get(code_hash)
        if pair_id is not None and pair_id in self._pairs:
            self._drop(self._pairs[pair_id])

    def sweep(self, now: float) -> None:
        for pair in list(self._pairs.values()):
            if now - pair.touched > self._ttl:
                self._drop(pair)

    def count(self, now: float) -> int:
        return sum(1 for p in self._pairs.values() if now - p.touched <= self._ttl)
