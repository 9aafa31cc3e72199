# SPDX-License-Identifier: MIT
"""Sending: sign, post to the peer's best endpoint with fallback, and say what happened.

Every send ends in a verdict: ``delivered`` (a relay stored it), ``duplicate`` (a relay already
had this exact event: idempotent retry) or ``queued`` with the reason, in which case the signed
event sits in ``outbox/<peer>.jsonl`` and :meth:`Sender.push` (the daemon) delivers it later.
Per peer, events leave in the order they were sent: a send waits behind an existing backlog.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from wire_client._errors import CapabilityError, PeerNotFoundError, RelayError, TransportError, WireClientError
from wire_client._home.dials import not_refused, raise_if_refused
from wire_client._home.endpoints import Endpoint, RelayStateStore, order_for_sending
from wire_client._home.files import read_jsonl
from wire_client._home.identity import Identity
from wire_client._home.mailbox import OutboxCursor, OutboxStore, SentLog, async_locked
from wire_client._home.paths import WireHome, safe_peer_name
from wire_client._home.trust import TrustStore
from wire_client._messaging.retry import RETRY_WINDOW, RetryIndex, retry_key
from wire_client._messaging.sealing import seal_to_peer, sealing_card
from wire_client._relay.client import PostResult, RelayPool
from wire_protocol import (
    DID_PREFIX,
    JSON,
    MAX_EVENT_BYTES,
    MAX_SEALED_PLAINTEXT_BYTES,
    CanonicalizationError,
    EventError,
    JSONObject,
    bare_handle,
    build_event,
    canonical_bytes,
    compact_json,
    display_handle_from_did,
    kind_for_name,
    sign_event,
)

__all__ = ["SendResult", "Sender"]

log = logging.getLogger(__name__)

SendStatus = Literal["delivered", "duplicate", "queued", "rejected"]
#: how many outbox lines one push round signs and posts together when the relay states no batch limits
PUSH_BATCH = 200
PUSH_BATCH_BYTES = 4 * 1024 * 1024
#: ceilings on what a relay's advertised batch limits (``/v1/info``) can make one push request carry
MAX_PUSH_BATCH = 1000
MAX_PUSH_BATCH_BYTES = 8 * 1024 * 1024
#: ``send_many`` signs, queues and pushes this many bodies at a time, so the peer is already
#: receiving the first ones while the next are signed
SEND_MANY_CHUNK = 1000
_PERMANENT_STATUSES = frozenset({400, 415, 422})


@dataclass(frozen=True, slots=True)
class SendResult:
    """The fate of one event. ``endpoint`` names where it landed (scope and relay URL, never the token)."""

    event_id: str
    status: SendStatus
    peer: str
    reason: str | None = None
    endpoint: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def delivered(self) -> bool:
        """True when a relay holds the event (``delivered`` or ``duplicate``)."""
        return self.status in ("delivered", "duplicate")

    def to_json(self) -> JSONObject:
        data: JSONObject = {"event_id": self.event_id, "status": self.status, "peer": self.peer}
        if self.reason is not None:
            data["reason"] = self.reason
        if self.endpoint is not None:
            data["endpoint"] = self.endpoint
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data


class _Undeliverable(Exception):  # noqa: N818 - internal control flow
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def parse_deadline(value: datetime | timedelta | str | None, now: datetime) -> datetime | str | None:
    """``time_sensitive_until`` from a datetime, a delay, ``"30m"``/``"2h"``/``"1d"``, or RFC 3339 text."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, timedelta):
        return now + value
    text = value.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(text) > 1 and text[-1] in units and text[:-1].isdigit():
        return now + timedelta(seconds=int(text[:-1]) * units[text[-1]])
    return text


class Sender:
    """Builds, signs and delivers events for one identity."""

    def __init__(self, home: WireHome, identity: Identity, pool: RelayPool) -> None:
        self.home = home
        self.identity = identity
        self.pool = pool
        self.trust = TrustStore(home)
        self.relay_state = RelayStateStore(home)
        self.outbox = OutboxStore(home)
        self.sent = SentLog(home)
        self.retries = RetryIndex(home)
        self._peer_locks: dict[str, asyncio.Lock] = {}
        self._stuck: dict[str, str] = {}  # per peer: why the last push left the backlog in place

    def _lock(self, peer: str) -> asyncio.Lock:
        lock = self._peer_locks.get(peer)
        if lock is None:
            lock = self._peer_locks[peer] = asyncio.Lock()
        return lock

    # --- building ----------------------------------------------------------------------------

    def build(
        self,
        peer: str,
        body: JSON,
        *,
        type: str = "claim",
        kind: int | None = None,
        time_sensitive_until: datetime | timedelta | str | None = None,
    ) -> JSONObject:
        """A signed event addressed to ``peer``'s full pinned DID (receivers check it), its body sealed
        when the peer's pinned card can open it. A body too large to seal or a bad ``dh_pubkey`` raise
        here, before anything is posted (never a plaintext fallback).
        """
        now = datetime.now(UTC)
        record = self.trust.get(peer)
        to = record.did if record is not None and record.did else f"{DID_PREFIX}{bare_handle(peer)}"
        try:
            resolved_kind = kind if kind is not None else kind_for_name(type)
            card = sealing_card(self.trust, bare_handle(peer), resolved_kind)
            event = build_event(
                from_did=self.identity.did,
                to=card.did if card is not None else to,
                type=type,
                kind=resolved_kind,
                body=body,
                timestamp=now,
                time_sensitive_until=parse_deadline(time_sensitive_until, now),
            )
            if card is not None:
                event = seal_to_peer(event, self.identity, card)
            signed = sign_event(event, self.identity.key, self.identity.did)
        except EventError as exc:
            raise WireClientError(f"cannot build the event: {exc.message}") from exc
        if len(compact_json(signed)) > MAX_EVENT_BYTES:
            raise WireClientError(f"event is larger than the relay limit of {MAX_EVENT_BYTES} bytes; send less")
        return signed

    def sign_partial(self, peer: str, partial: JSONObject) -> JSONObject:
        """Complete and sign an agent-written partial event (``{"type":..,"body":..}``; ``to`` optional)."""
        if "signature" in partial and "event_id" in partial:
            return partial
        type_ = partial.get("type", "claim")
        kind = partial.get("kind")
        deadline = partial.get("time_sensitive_until")
        return self.build(
            peer,
            partial.get("body"),
            type=type_ if isinstance(type_, str) else "claim",
            kind=kind if isinstance(kind, int) and not isinstance(kind, bool) else None,
            time_sensitive_until=deadline if isinstance(deadline, str) else None,
        )

    def check_capability(self, peer: str, capability: str, policy: Literal["refuse", "warn"]) -> str | None:
        """``None`` if the peer's pinned card lists ``capability``; else refuse or return a warning."""
        record = self.trust.get(peer)
        if record is not None and capability in record.capabilities:
            return None
        message = f"peer {peer!r} does not advertise capability {capability!r}" + (
            f" (it advertises {record.capabilities})" if record is not None else " (not pinned)"
        )
        if policy == "refuse":
            raise CapabilityError(message)
        log.warning("%s", message)
        return message

    # --- sending -----------------------------------------------------------------------------

    async def send(
        self,
        peer: str,
        body: JSON,
        *,
        type: str = "claim",
        kind: int | None = None,
        time_sensitive_until: datetime | timedelta | str | None = None,
        check_cap: str | None = None,
        cap_policy: Literal["refuse", "warn"] = "refuse",
        queue_only: bool = False,
        repeat: bool = False,
    ) -> SendResult:
        """Sign and deliver one event now; on failure queue it and say why.

        The same peer, type, kind, body and deadline within :data:`RETRY_WINDOW` seconds is an exact retry:
        nothing is signed or sent, the earlier event id comes back as ``duplicate``. ``repeat=True`` sends anyway.
        """
        peer = safe_peer_name(bare_handle(peer))
        if self.trust.get(peer) is None and not self.relay_state.peer_endpoints(peer):
            raise PeerNotFoundError(f"no peer {peer!r}: pin it (pair) first; see `wire peers` for who you know")
        raise_if_refused(self.home, self.relay_state, peer)
        warnings: list[str] = []
        if check_cap is not None:
            warning = self.check_capability(peer, check_cap, cap_policy)
            if warning:
                warnings.append(warning)
        event = self.build(peer, body, type=type, kind=kind, time_sensitive_until=time_sensitive_until)
        if repeat:
            return await self.send_signed(peer, event, queue_only=queue_only, warnings=tuple(warnings))
        key = retry_key(peer, type, kind, body, time_sensitive_until)
        event_id = str(event["event_id"])
        earlier = self.retries.claim(key, event_id)
        if earlier is not None:
            reason = (
                f"exact retry: the same {type} went to {peer} {earlier.age_seconds:.0f} s ago as event "
                f"{earlier.event_id[:12]}; nothing new was sent (within {RETRY_WINDOW} s)"
            )
            return SendResult(earlier.event_id, "duplicate", peer, reason=reason, warnings=tuple(warnings))
        try:
            result = await self.send_signed(peer, event, queue_only=queue_only, warnings=tuple(warnings))
        except BaseException:
            self.retries.release(key, event_id)
            raise
        return result

    async def send_signed(
        self, peer: str, event: JSONObject, *, queue_only: bool = False, warnings: tuple[str, ...] = ()
    ) -> SendResult:
        """Deliver an already signed event (retrying the same event is idempotent: the id is the key)."""
        peer = safe_peer_name(bare_handle(peer))
        async with self._lock(peer):
            if not queue_only and not self.outbox.has_backlog(peer):
                # fast path: nothing of ours is waiting, so posting now keeps per-peer order
                try:
                    return await self._send_now(peer, event, warnings)
                except _Undeliverable as exc:
                    if exc.permanent:
                        raise self._refused(peer, event, exc) from None
                    reason: str | None = exc.reason
            else:
                reason = "queued on request" if queue_only else None
            async with async_locked(self.outbox.push_lock_target(peer)):
                if reason is None:
                    await self._push_locked(peer)
                    if self.outbox.has_backlog(peer):
                        stuck = self._stuck.get(peer)
                        reason = "earlier events to this peer are still queued" + (f" ({stuck})" if stuck else "")
                    else:
                        try:
                            return await self._send_now(peer, event, warnings)
                        except _Undeliverable as exc:
                            if exc.permanent:
                                raise self._refused(peer, event, exc) from None
                            reason = exc.reason
                self.outbox.enqueue(peer, event)
            verdict = SendResult(str(event["event_id"]), "queued", peer, reason=reason, warnings=warnings)
            self.sent.record(peer, [verdict.to_json()])
            return verdict

    async def send_many(
        self, peer: str, bodies: Sequence[JSON], *, type: str = "claim", kind: int | None = None
    ) -> list[SendResult]:
        """Sign ``bodies`` as events to ``peer``, queue them in order, and push them.

        For bursts: the outbox path (durable once queued, delivered in order behind anything queued
        before, batch posts where the relay supports them) at one disk flush per
        :data:`SEND_MANY_CHUNK` events instead of one POST (or one flush) per event. Chunk after
        chunk is signed, queued and pushed, so the peer opens the first events while the next are
        signed. Every body is checked before the first one is queued: a body that cannot be sent
        raises and nothing is queued. Verdicts are per event, in order: ``delivered`` /
        ``duplicate`` for what a push confirmed, ``queued`` (with the reason) for the rest.
        """
        peer = safe_peer_name(bare_handle(peer))
        if self.trust.get(peer) is None and not self.relay_state.peer_endpoints(peer):
            raise PeerNotFoundError(f"no peer {peer!r}: pin it (pair) first; see `wire peers` for who you know")
        raise_if_refused(self.home, self.relay_state, peer)
        first = [self.build(peer, body, type=type, kind=kind) for body in bodies[:SEND_MANY_CHUNK]]
        if len(bodies) > SEND_MANY_CHUNK:
            self._check_bodies(first[0], bodies, start=SEND_MANY_CHUNK)
        events: list[JSONObject] = []
        confirmed: dict[str, SendResult] = {}
        async with self._lock(peer), async_locked(self.outbox.push_lock_target(peer)):
            for start in range(0, len(bodies), SEND_MANY_CHUNK):
                part = bodies[start : start + SEND_MANY_CHUNK]
                try:
                    chunk = first if start == 0 else [self.build(peer, body, type=type, kind=kind) for body in part]
                except WireClientError as exc:  # only if the peer's card changed mid-burst: say what left
                    raise WireClientError(
                        f"{exc.message} (in bodies {start:,} to {start + SEND_MANY_CHUNK - 1:,}); the {start:,} "
                        "bodies before them were queued and are delivered in order"
                    ) from exc
                self.outbox.enqueue_many(peer, chunk)
                events.extend(chunk)
                if start == 0 or peer not in self._stuck:  # once a push is stuck, queue the rest without retrying
                    confirmed.update((r.event_id, r) for r in await self._push_locked(peer) if r.event_id)
        reason = self._stuck.get(peer, "still queued")
        verdicts = [
            confirmed.get(str(e["event_id"])) or SendResult(str(e["event_id"]), "queued", peer, reason=reason)
            for e in events
        ]
        queued = [v.to_json() for v in verdicts if v.status == "queued"]
        self.sent.record(peer, queued)
        return verdicts

    @staticmethod
    def _check_bodies(example: JSONObject, bodies: Sequence[JSON], *, start: int) -> None:
        """Refuse what :meth:`build` would refuse in ``bodies[start:]``, before anything is queued.

        ``example`` is the first event built for this burst: every other event differs from it only
        in its body (and timestamp), so only the body can fail — it must canonicalize (no floats in
        a clear body), and fit a sealed body or, in the clear, the relay's event size.
        """
        sealed = "enc" in example
        envelope = len(compact_json(example)) - len(compact_json(example.get("body"))) + 16  # timestamps vary
        for index in range(start, len(bodies)):
            body = bodies[index]
            try:  # in the clear the body is signed as it is: no floats (the list keeps its members whole)
                size = len(compact_json(body) if sealed else canonical_bytes([body], strict=False)[1:-1])
            except CanonicalizationError as exc:
                raise WireClientError(f"body {index} cannot be sent: {exc.message}; nothing was queued") from exc
            limit = MAX_SEALED_PLAINTEXT_BYTES if sealed else MAX_EVENT_BYTES - envelope
            if size > limit:
                raise WireClientError(
                    f"body {index} is {size:,} bytes of JSON, over the {limit:,} an event can carry; nothing was queued"
                )

    async def _send_now(self, peer: str, event: JSONObject, warnings: tuple[str, ...]) -> SendResult:
        results, endpoint = await self._deliver(peer, [event])
        status: SendStatus = "duplicate" if results[0].status == "duplicate" else "delivered"
        return SendResult(str(event["event_id"]), status, peer, endpoint=endpoint, warnings=warnings)

    def _refused(self, peer: str, event: JSONObject, exc: _Undeliverable) -> WireClientError:
        self.sent.record(peer, [{"event_id": event.get("event_id"), "status": "rejected", "reason": exc.reason}])
        return WireClientError(f"the relay refused the event: {exc.reason}")

    async def _deliver(self, peer: str, events: Sequence[JSONObject]) -> tuple[list[PostResult], str]:
        """Post ``events`` to the first endpoint that takes them, in priority order."""
        endpoints = order_for_sending(self.relay_state.peer_endpoints(peer), self.relay_state.self_endpoints())
        if not endpoints:
            raise _Undeliverable(f"no usable endpoint for {peer!r} yet (pairing not completed?)", permanent=False)
        reasons: list[str] = []
        for endpoint in endpoints:
            try:
                client = self.pool.client(endpoint.relay_url)
                if len(events) == 1:
                    results = [await client.post_event(endpoint, events[0])]
                else:
                    results = await client.post_batch(endpoint, events)
            except TransportError as exc:
                reasons.append(f"{_describe(endpoint)}: {exc.message}")
                continue
            except RelayError as exc:
                if exc.status in _PERMANENT_STATUSES or (exc.status == 413 and "max_bytes" in str(exc.body)):
                    raise _Undeliverable(f"{_describe(endpoint)}: {exc.message}", permanent=True) from exc
                label = "slot_stale" if exc.status in (401, 403, 404) else f"relay error {exc.status}"
                reasons.append(f"{_describe(endpoint)}: {label}: {exc.message}")
                continue
            return results, _describe(endpoint)
        raise _Undeliverable("; ".join(reasons), permanent=False)

    # --- the outbox --------------------------------------------------------------------------

    async def push(self, peer: str | None = None) -> list[SendResult]:
        """Deliver queued outbox lines (all peers, or one), in order, each at most until confirmed once."""
        peers = [peer] if peer is not None else sorted(self.outbox.backlog())
        # a peer that declined our pair request keeps its queued lines (reported by `status`), unpushed
        peers = not_refused(self.home, self.relay_state, peers)
        results: list[SendResult] = []
        for name in peers:
            async with self._lock(name), async_locked(self.outbox.push_lock_target(name)):
                results.extend(await self._push_locked(name))
        return results

    async def _push_limits(self, peer: str) -> tuple[int, int]:
        """Events and bytes per push request: the first endpoint's relay's advertised batch limits
        (``/v1/info``), never above our own ceilings; the defaults for a relay that states none."""
        endpoints = order_for_sending(self.relay_state.peer_endpoints(peer), self.relay_state.self_endpoints())
        if not endpoints:
            return PUSH_BATCH, PUSH_BATCH_BYTES
        try:
            info = await self.pool.client(endpoints[0].relay_url).info()
        except (TransportError, RelayError):
            return PUSH_BATCH, PUSH_BATCH_BYTES
        limits = info.raw.get("limits")
        events = _positive_int(limits.get("max_batch_events")) if isinstance(limits, dict) else None
        body_bytes = _positive_int(limits.get("max_batch_body_bytes")) if isinstance(limits, dict) else None
        if not info.supports("batch") or events is None or body_bytes is None:
            return PUSH_BATCH, PUSH_BATCH_BYTES
        # a batch may pass the byte budget by one event: keep that much room under the relay's limit
        budget = min(MAX_PUSH_BATCH_BYTES, body_bytes - MAX_EVENT_BYTES - 4096)
        return min(events, MAX_PUSH_BATCH), max(1, budget)

    async def _push_locked(self, peer: str) -> list[SendResult]:
        results: list[SendResult] = []
        self._stuck.pop(peer, None)
        limits = await self._push_limits(peer)
        while True:
            cursor = self.outbox.cursor(peer)
            if cursor.inflight_start is not None and cursor.inflight_start == cursor.offset and cursor.inflight_events:
                batch, ends = list(cursor.inflight_events), list(cursor.inflight_ends)
            else:
                batch, ends, skipped_to, rejected, signed_here = self._next_batch(peer, cursor.offset, limits)
                results.extend(rejected)
                if not batch:
                    if skipped_to != cursor.offset:
                        self.outbox.save_cursor(peer, OutboxCursor(offset=skipped_to))
                    return results
                if signed_here:
                    # persist what we signed before posting: after a crash the same ids are re-posted
                    # (lines that were signed when queued re-read as the same events: nothing to keep)
                    self.outbox.save_cursor(peer, OutboxCursor.inflight(cursor.offset, batch, ends))
            try:
                posted, endpoint = await self._deliver(peer, batch)
            except _Undeliverable as exc:
                if not exc.permanent or len(batch) > 1:
                    self._stuck[peer] = exc.reason
                    return results  # transient: retry later; permanent in a batch: isolate it one by one
                posted, endpoint = [PostResult(None, f"rejected: {exc.reason}")], ""
            verdicts: list[SendResult] = []
            done = 0
            for event, result in zip(batch, posted, strict=True):
                event_id = str(event.get("event_id"))
                if result.status in ("stored", "duplicate"):
                    status: SendStatus = "duplicate" if result.status == "duplicate" else "delivered"
                    verdicts.append(SendResult(event_id, status, peer, endpoint=endpoint))
                elif _transient_batch_error(result.status):
                    break
                else:
                    verdicts.append(SendResult(event_id, "rejected", peer, reason=result.status))
                done += 1
            results.extend(verdicts)
            self.sent.record(peer, [{**v.to_json(), "source": "outbox"} for v in verdicts])
            if done == len(batch):
                self.outbox.save_cursor(peer, OutboxCursor(offset=ends[-1]))
                continue
            if done:
                self.outbox.save_cursor(peer, OutboxCursor.inflight(ends[done - 1], batch[done:], ends[done:]))
            return results

    def _next_batch(
        self, peer: str, offset: int, limits: tuple[int, int]
    ) -> tuple[list[JSONObject], list[int], int, list[SendResult], bool]:
        """Read, complete and sign the next outbox lines (at most ``limits``: events, bytes).

        Returns the signed events, the byte offset where each one's line ends, how far the cursor may
        skip when no event was usable, the verdicts for unusable lines (reported, then skipped), and
        whether any event was signed now (a partial line: its id exists only in this batch).
        """
        max_events, max_bytes = limits
        chunk = read_jsonl(self.outbox.path(peer), offset, max_bytes=MAX_PUSH_BATCH_BYTES, max_lines=max_events)
        batch: list[JSONObject] = []
        ends: list[int] = []
        rejected: list[SendResult] = []
        size = 0
        signed_here = False
        lines = sorted([*chunk.records, *((o, None) for o in chunk.bad_lines)], key=lambda item: item[0])
        skipped_to = offset
        for position, (line_offset, record) in enumerate(lines):
            if len(batch) >= max_events or size >= max_bytes:
                break
            line_end = lines[position + 1][0] if position + 1 < len(lines) else chunk.end_offset
            problem: str | None = None
            if not isinstance(record, dict):
                problem = "is not a JSON object"
            else:
                target = record.get("to")
                if isinstance(target, str) and display_handle_from_did(bare_handle(target)) != peer:
                    problem = f"is addressed to {target!r}, not {peer!r}"
                else:
                    try:
                        signed = self.sign_partial(peer, record)
                    except WireClientError as exc:
                        problem = exc.message
                    else:
                        fresh = signed is not record
                        signed_here = signed_here or fresh
                        batch.append(signed)
                        ends.append(line_end)
                        # a line queued signed is the event's compact JSON already: its length is the size
                        size += len(compact_json(signed)) if fresh else line_end - line_offset
            if problem is not None:
                reason = f"outbox line at byte {line_offset} {problem}"
                rejected.append(SendResult("", "rejected", peer, reason=reason))
                if not batch:
                    skipped_to = line_end
                elif ends:
                    ends[-1] = line_end  # a skipped line after an event is done when that event is
        if rejected:
            self.sent.record(peer, [{**r.to_json(), "source": "outbox"} for r in rejected])
        return batch, ends, skipped_to, rejected, signed_here


def _positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _transient_batch_error(status: str) -> bool:
    return status == "" or "quota" in status or "unknown slot" in status


def _describe(endpoint: Endpoint) -> str:
    return f"{endpoint.scope.value} {endpoint.relay_url}"
