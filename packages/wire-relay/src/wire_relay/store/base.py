# SPDX-License-Identifier: AGPL-3.0-or-later
"""The relay's storage interface: one :class:`Store` protocol, two implementations (SQLite, PostgreSQL).

Rules every implementation follows (the conformance suite ``tests/relay/store_contract.py`` checks them):

* **Acknowledged = committed.** A coroutine that mutates state returns only after the change is
  durable in the store (for SQLite: the transaction holding it committed; several concurrent calls
  may share one transaction — group commit). A caller that got a result may tell its client so.
* **The store is the authority** for uniqueness: slot ids, ``(slot, event_id)`` dedupe, nick
  ownership, pair-slot roles and invite use counts are decided inside one transaction, so several
  relay processes on one database behave as one relay.
* **Time is passed in** (``now`` = Unix seconds as float) wherever an answer depends on it, so
  tests can move the clock without sleeping.
* **Bytes in, bytes out** for events: the route serialises an event once (``compact_json``) and the
  store keeps and returns those exact bytes; it never parses them.
* **No start-up scan.** Opening a store with a million events must not read them (ready < 1 s).
* Slot tokens are kept only as SHA-256 hashes (:func:`hash_token`) and compared with
  :func:`hmac.compare_digest`; a raw token is never stored or logged.
* **Sequence numbers**: every stored event gets a ``seq`` (int) that strictly increases within its
  slot, in commit order: once an event with ``seq = n`` is visible, every event of that slot with a
  smaller seq is visible too (no reader can observe n+1 before n). Seqs need not be contiguous.
  They are the SSE replay cursor, so they must survive restarts.
* **Wake-ups**: after a transaction that stored events for a slot commits, the store wakes every
  :class:`Subscription` of that slot — in this process (:class:`LocalNotifier`) and, for a shared
  database, in every other relay process too (PostgreSQL: LISTEN/NOTIFY). A wake-up carries no
  data; the subscriber re-reads with :meth:`Store.list_since_seq`. Spurious wake-ups are allowed.

Decisions recorded here:

* ``last_pull_at`` (the slot-state attentiveness field) may be kept in process memory, as the
  reference does (null after a restart). A multi-process store should keep it in the database.
* Rate-limit buckets go through :meth:`Store.rate_take` so a shared database can share them; the
  SQLite store answers from memory (:class:`MemoryRateBuckets`; one process, nothing to share).
  Buckets are approximate abuse damping: losing them on restart is fine.
* Stats *history* (``/stats.history``) is a bounded in-memory ring in the app, not in the store;
  the five ``*_total`` counters are in the store (persisted, shared).
* Pair slots are ephemeral (TTL :data:`~wire_protocol.PAIR_SLOT_TTL_SECONDS` since the last touch).
  SQLite keeps them in memory ("pair slots start empty" after a restart); PostgreSQL keeps them in a
  table so every replica sees the same pair slot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from wire_protocol import JSON, SLOT_QUOTA_BYTES, JSONObject
from wire_relay.store._deposits import DepositCheck, DepositToken
from wire_relay.store._memory_rates import MemoryRateBuckets

__all__ = [
    "COUNTER_NAMES",
    "AckResult",
    "AppendResult",
    "AppendStatus",
    "ClaimResult",
    "EventItem",
    "HandleRecord",
    "InviteLookup",
    "InviteRecord",
    "LocalNotifier",
    "MemoryRateBuckets",
    "PairOpenResult",
    "PairPeer",
    "SlotExistsError",
    "SlotState",
    "Store",
    "StoreError",
    "StoreStats",
    "StoredEvent",
    "Subscription",
    "TokenCache",
    "TokenCheck",
    "claim_conflicts",
    "hash_token",
    "listing_facts",
    "merge_claim",
    "token_matches",
]

#: the persisted ``*_total`` counters of ``/stats`` (reference names)
COUNTER_NAMES = (
    "handle_claims_total",
    "handle_first_claims_total",
    "slot_allocations_total",
    "pair_opens_total",
    "events_posted_total",
)

Role = Literal["host", "guest"]


class StoreError(Exception):
    """Root of the store's own errors (anything else escaping a store is a bug or an outage)."""


class SlotExistsError(StoreError):
    """:meth:`Store.allocate_slot` was given a slot id that already exists."""


def hash_token(token: str) -> bytes:
    """The only form in which a slot token is stored: SHA-256 of its UTF-8 bytes (32 bytes)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def token_matches(token: str, stored_hash: bytes) -> bool:
    """Constant-time comparison of a presented token against a stored hash."""
    return hmac.compare_digest(hash_token(token), stored_hash)


class TokenCheck(enum.Enum):
    """Verdict of :meth:`Store.check_token` (maps to 200 / 404 / 403)."""

    OK = "ok"
    UNKNOWN_SLOT = "unknown_slot"
    BAD_TOKEN = "bad_token"  # noqa: S105 - a verdict, not a secret


class TokenCache:
    """Slot id → token hash, bounded (the oldest entry leaves first).

    Tokens never change and slots are never deleted, so an entry can never go stale, and several
    relay processes may each keep their own cache over one database.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self._hashes: dict[str, bytes] = {}
        self._limit = limit

    def __contains__(self, slot_id: object) -> bool:
        return slot_id in self._hashes

    def get(self, slot_id: str) -> bytes | None:
        return self._hashes.get(slot_id)

    def remember(self, slot_id: str, digest: bytes) -> None:
        if len(self._hashes) >= self._limit:
            del self._hashes[next(iter(self._hashes))]
        self._hashes[slot_id] = digest

    @staticmethod
    def verdict(token: str, digest: bytes | None) -> TokenCheck:
        """``UNKNOWN_SLOT`` without a hash, else ``OK`` / ``BAD_TOKEN`` (constant-time compare)."""
        if digest is None:
            return TokenCheck.UNKNOWN_SLOT
        return TokenCheck.OK if token_matches(token, digest) else TokenCheck.BAD_TOKEN


# --------------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class EventItem:
    """One event to append: its dedupe key (``event.event_id`` if that is a string) and its bytes.

    ``data`` is ``compact_json(event)``; ``len(data)`` is the size counted against the slot quota.
    """

    event_id: str | None
    data: bytes


AppendStatus = Literal["stored", "duplicate", "quota_exceeded", "unknown_slot"]


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Verdict of one append.

    * ``stored``: committed with ``seq``;
    * ``duplicate``: an event with the same ``event_id`` is already in the slot (``seq`` is None);
    * ``quota_exceeded``: ``slot_bytes_used + len(data)`` would exceed the quota (nothing stored);
    * ``unknown_slot``: the slot does not exist.

    ``slot_bytes_used`` is the slot's usage after the operation (for the 413 body).
    """

    status: AppendStatus
    seq: int | None = None
    slot_bytes_used: int = 0


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as read back for SSE: its seq, its dedupe key (if any) and its stored bytes."""

    seq: int
    event_id: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class AckResult:
    """Verdict of :meth:`Store.ack`: everything through ``acked_seq`` is acknowledged; the slot's
    backlog (unacknowledged bytes, what the quota counts) is ``backlog_bytes``."""

    acked_seq: int
    backlog_bytes: int


@dataclass(frozen=True, slots=True)
class SlotState:
    """What ``GET /v1/slot/:id/state`` reports (besides the slot id)."""

    event_count: int
    last_pull_at_unix: int | None
    responder_health: JSONObject | None


# -------------------------------------------------------------------------------------------- handles


@dataclass(frozen=True, slots=True)
class HandleRecord:
    """A claimed nick: what ``/.well-known/wire/agent`` serves (plus ``discoverable``).

    ``card`` is the verified, signed agent-card object; ``claimed_at`` is RFC 3339 whole seconds.
    """

    nick: str
    did: str
    card: JSONObject
    slot_id: str
    relay_url: str | None
    claimed_at: str
    discoverable: bool = True
    #: the claim proof (``wire_protocol.build_claim_proof``) the claim carried, served with the record
    proof: JSONObject | None = None
    #: True when the claim carried a valid proof of key possession; False for a claim let through by
    #: ``--accept-unproven-claims`` (or made before proofs existed)
    proven: bool = False

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> HandleRecord:
        """A record from the row every store selects: nick, did, card (JSON text), slot_id,
        relay_url, claimed_at, discoverable, proof (JSON text or NULL), proven."""
        return cls(
            nick=row[0],
            did=row[1],
            card=json.loads(row[2]),
            slot_id=row[3],
            relay_url=row[4],
            claimed_at=row[5],
            discoverable=bool(row[6]),
            proof=json.loads(row[7]) if row[7] is not None else None,
            proven=bool(row[8]),
        )

    def proof_text(self) -> str | None:
        return json.dumps(self.proof, separators=(",", ":"), sort_keys=True) if self.proof is not None else None


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """Verdict of :meth:`Store.claim_handle`.

    ``status`` is ``claimed`` (first claim, or a proven claim replacing another DID's unproven one),
    ``re-claimed`` (same DID claimed again; slot, card, relay_url, proof and claimed_at replaced;
    ``discoverable`` kept when the claim gave None) or ``conflict`` (held by another DID, and not an
    unproven claim that this proven one may replace). ``record`` is the stored record afterwards (on
    conflict: the current holder's record, unchanged).
    """

    status: Literal["claimed", "re-claimed", "conflict"]
    record: HandleRecord


def merge_claim(current: HandleRecord | None, record: HandleRecord, discoverable: bool | None) -> HandleRecord:
    """The record a (non-conflicting) claim writes over ``current``.

    The same DID may re-claim and replace slot, card, relay_url and claimed_at; ``discoverable=None``
    keeps the previous choice (``True`` for a first claim). Shared by every store so the rule lives
    in one place; the caller has already refused a nick held by another DID.
    """
    keep = current.discoverable if current is not None and current.did == record.did else True
    return dataclasses.replace(record, discoverable=keep if discoverable is None else discoverable)


def claim_conflicts(current: HandleRecord | None, record: HandleRecord) -> bool:
    """Whether ``record`` may not replace ``current``: another DID holds the nick, unless that hold is
    unproven and ``record`` is proven (a proven claim replaces a squatter's or a reference client's)."""
    return current is not None and current.did != record.did and (current.proven or not record.proven)


def listing_facts(record: HandleRecord) -> tuple[bool, list[str]]:
    """``(listed, vibes)`` for the directory: shared by every store so filters agree.

    Not listed: nicks starting ``demo-``/``test-``, ``discoverable`` false, ``profile.listed`` false.
    ``vibes`` are the card's ``profile.vibe`` strings, lower-cased (the ``vibe=`` filter is
    case-insensitive).
    """
    profile = record.card.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    listed = (
        record.discoverable and not record.nick.startswith(("demo-", "test-")) and profile.get("listed") is not False
    )
    raw: JSON = profile.get("vibe")
    vibes = [tag.lower() for tag in raw if isinstance(tag, str)] if isinstance(raw, list) else []
    return listed, vibes


# ----------------------------------------------------------------------------------------- pair slots


@dataclass(frozen=True, slots=True)
class PairOpenResult:
    """``pair_id`` of the (new or existing) pair slot; ``conflict`` when the role was already set;
    ``full`` (and no pair id) when a new pair slot was needed but ``max_open`` are already open."""

    pair_id: str
    conflict: bool = False
    full: bool = False


@dataclass(frozen=True, slots=True)
class PairPeer:
    """The OTHER role's data of a pair slot (base64 strings as posted, or None)."""

    peer_msg: str | None
    peer_bootstrap: str | None


# -------------------------------------------------------------------------------------------- invites


@dataclass(frozen=True, slots=True)
class InviteRecord:
    """A registered short-URL invite. ``uses_remaining`` None = unlimited."""

    token: str
    invite_url: str
    expires_unix: int
    uses_remaining: int | None
    created_unix: int


@dataclass(frozen=True, slots=True)
class InviteLookup:
    """Verdict of :meth:`Store.invite_take`: ``ok`` carries the URL; others map to 404/410."""

    status: Literal["ok", "unknown", "expired", "used_up"]
    invite_url: str | None = None


# ---------------------------------------------------------------------------------------------- stats


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Gauges and the persisted counters (:data:`COUNTER_NAMES` → value)."""

    handles_active: int
    slots_active: int
    pair_slots_open: int
    counters: dict[str, int]


# -------------------------------------------------------------------------------------- notification


class Subscription:
    """A wake-up channel for one slot. Use as a context manager (``with store.subscribe(s) as sub``)."""

    __slots__ = ("_event", "_notifier", "slot_id")

    def __init__(self, notifier: LocalNotifier, slot_id: str) -> None:
        self._notifier = notifier
        self.slot_id = slot_id
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Mark the subscription woken (called by the notifier, on the event loop thread)."""
        self._event.set()

    async def wait(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - a bounded wake-up wait
        """Wait for a wake-up; True if woken (the flag is then cleared), False on timeout."""
        if not self._event.is_set():
            try:
                async with asyncio.timeout(timeout):
                    await self._event.wait()
            except TimeoutError:
                return False
        self._event.clear()
        return True

    def close(self) -> None:
        """Stop receiving wake-ups (idempotent)."""
        self._notifier.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class LocalNotifier:
    """In-process fan-out of slot wake-ups; every store embeds one (must be used on the loop thread)."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}

    def subscribe(self, slot_id: str) -> Subscription:
        sub = Subscription(self, slot_id)
        self._subs.setdefault(slot_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.slot_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.slot_id]

    def notify(self, slot_id: str) -> None:
        """Wake every subscription of ``slot_id`` (no-op when nobody listens)."""
        for sub in self._subs.get(slot_id, ()):
            sub.wake()

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subs.values())


# ---------------------------------------------------------------------------------------------- store


@runtime_checkable
class Store(Protocol):
    """Everything the routes need from persistent (or shared) state. See the module docstring."""

    #: the store URL with any password removed (for the start-up line and logs)
    display_url: str

    # -- lifecycle ---------------------------------------------------------------------------------

    async def close(self) -> None:
        """Finish queued writes, commit, release connections/threads. Idempotent."""

    async def sweep(self, now: float) -> None:
        """Periodic housekeeping (the app calls it every 60 s): evict idle pair slots, expired invites,
        stale rate buckets. Correctness never depends on it (expiry is also checked inline)."""

    # -- slots -------------------------------------------------------------------------------------

    async def allocate_slot(self, slot_id: str, token: str, now: float) -> None:
        """Create a slot holding ``hash_token(token)``; counts ``slot_allocations_total``.
        Raises :class:`SlotExistsError` if ``slot_id`` exists. Durable on return."""

    async def check_token(self, slot_id: str, token: str) -> TokenCheck:
        """``UNKNOWN_SLOT`` if the slot does not exist, ``BAD_TOKEN`` if the token's hash differs
        (compared with :func:`hmac.compare_digest`), else ``OK``. Implementations may cache
        slot → hash (tokens never change)."""

    async def slot_exists(self, slot_id: str) -> bool:
        """True if the slot was allocated."""

    # -- deposit tokens (see ``_deposits``) --------------------------------------------------------

    async def mint_deposit_token(self, slot_id: str, token_id: str, token: str, label: str, now: float) -> bool:
        """Store ``hash_token(token)`` as a deposit token of an existing slot; False (nothing stored)
        when the slot already holds ``DEPOSIT_TOKENS_PER_SLOT_MAX`` live ones. Durable on return."""

    async def list_deposit_tokens(self, slot_id: str) -> list[DepositToken]:
        """The slot's deposit tokens (revoked ones included), oldest first; bounded by the mint cap
        plus revoked rows."""

    async def revoke_deposit_token(self, slot_id: str, token_id: str, now: float) -> DepositToken | None:
        """Mark the token revoked (idempotent: keeps the first revocation time); None if the slot
        has no such token id."""

    async def check_deposit_token(self, slot_id: str, token: str) -> DepositCheck:
        """Look the token up by its hash: ``OK`` if it is a live deposit token of ``slot_id``,
        ``REVOKED`` if it was one and was revoked, else ``UNKNOWN``. Never cached."""

    # -- events ------------------------------------------------------------------------------------

    async def append(
        self, slot_id: str, item: EventItem, *, quota: int = SLOT_QUOTA_BYTES, count_posted: bool = True
    ) -> AppendResult:
        """Append one event. Order of checks: unknown slot → quota (``bytes_used + len(data) >
        quota``) → duplicate ``event_id`` in this slot → store with the next seq.
        ``count_posted`` adds stored events to ``events_posted_total`` (False for intro drops, as in
        the reference). Wakes the slot's subscribers after commit. Durable on return."""

    async def append_batch(
        self, slot_id: str, items: Sequence[EventItem], *, quota: int = SLOT_QUOTA_BYTES
    ) -> list[AppendResult]:
        """Append up to 1000 events in ONE transaction, in order, with a verdict each (same rules as
        :meth:`append`; a repeat inside the batch is a duplicate; counts ``events_posted_total``).
        Either every ``stored`` verdict is committed or the call raises."""

    async def list_events(self, slot_id: str, since: str | None, limit: int) -> list[bytes]:
        """Stored bytes of up to ``limit`` events in seq order, strictly after the event whose
        ``event_id == since``; when ``since`` is None or not found in the slot, from the first event.
        ``limit`` 0 → []. Unknown slot → []."""

    async def seq_of(self, slot_id: str, event_id: str) -> int | None:
        """Seq of the event with that ``event_id`` in the slot, or None."""

    async def list_since_seq(self, slot_id: str, after_seq: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` events with ``seq > after_seq``, in seq order (SSE replay and wake-ups)."""

    async def last_seq(self, slot_id: str) -> int:
        """Highest seq stored in the slot, 0 if none (the SSE live cursor when no replay is asked)."""

    def subscribe(self, slot_id: str) -> Subscription:
        """Register for wake-ups of ``slot_id`` (see module docstring). Subscribe BEFORE reading
        the replay, then dedupe by seq: that gives no gap and no duplicate."""

    async def ack(self, slot_id: str, event_id: str, now: float) -> AckResult | None:
        """The owner read through ``event_id``: every event of the slot up to it no longer counts
        against the quota (the quota is a backlog quota) and becomes due for deletion after the
        acknowledged-retention window, counted from ``now``. Acknowledging backwards changes
        nothing. None if the slot holds no event with that id. Durable on return."""

    async def purge(self, now: float, *, acked_retention: float, event_retention: float | None) -> int:
        """Delete (in bounded batches; the caller repeats on its schedule) events acknowledged at
        least ``acked_retention`` seconds ago and, when ``event_retention`` is set, events stored more
        than that long ago whether acknowledged or not (their bytes leave the backlog). Returns the
        number of events deleted."""

    # -- slot state ------------------------------------------------------------------------------

    async def touch_pull(self, slot_id: str, now: float) -> None:
        """Record that the slot's owner pulled at ``now`` (``last_pull_at_unix``)."""

    async def slot_state(self, slot_id: str) -> SlotState | None:
        """Event count, last pull (whole seconds or None) and responder health; None if no slot."""

    async def set_responder_health(self, slot_id: str, record: JSONObject) -> None:
        """Persist (replace) the slot's responder-health record."""

    # -- handles -----------------------------------------------------------------------------------

    async def claim_handle(self, record: HandleRecord, *, discoverable: bool | None) -> ClaimResult:
        """First-come-first-served claim of ``record.nick`` (atomic). Same DID → ``re-claimed``
        (``discoverable`` None keeps the stored value; a first claim with None means True). Counts
        ``handle_claims_total`` on success and ``handle_first_claims_total`` on a first claim."""

    async def get_handle(self, nick: str) -> HandleRecord | None:
        """The record of a claimed nick, or None."""

    async def list_handles(self, *, cursor: str | None, limit: int, vibe: str | None) -> list[HandleRecord]:
        """Listed records (see :func:`listing_facts`) with ``nick > cursor`` (byte order), sorted by
        nick, at most ``limit``; ``vibe`` (already lower-cased) keeps records whose vibes contain it."""

    async def unclaim_handle(self, nick: str, slot_id: str) -> bool:
        """Delete the claim if it is still bound to ``slot_id``; True if something was deleted."""

    # -- pair slots --------------------------------------------------------------------------------

    async def pair_open(
        self, code_hash: str, role: Role, msg: str, new_pair_id: str, now: float, *, max_open: int | None = None
    ) -> PairOpenResult:
        """Find the live pair slot for ``code_hash`` or create one with id ``new_pair_id`` (unless
        ``max_open`` pair slots are open: ``full=True``); set this role's msg unless already set
        (→ ``conflict=True``, nothing changed). Touches the TTL and counts ``pair_opens_total`` on
        success. Idle (> TTL) slots are treated as absent."""

    async def pair_get(self, pair_id: str, role: Role, now: float) -> PairPeer | None:
        """The other role's msg/bootstrap; None if unknown or expired. A read never extends the TTL."""

    async def pair_set_bootstrap(self, pair_id: str, role: Role, sealed: str, now: float) -> bool:
        """Store (overwrite) this role's sealed bootstrap; False if unknown or expired."""

    async def pair_abandon(self, code_hash: str) -> None:
        """Forget the pair slot of ``code_hash`` (no-op if none)."""

    # -- invites -----------------------------------------------------------------------------------

    async def invite_register(self, record: InviteRecord) -> bool:
        """Store a new invite; False (nothing changed) if the token is taken by a live invite."""

    async def invite_take(self, token: str, now: float, *, consume: bool) -> InviteLookup:
        """Look up ``token`` (case-insensitive hex): ``unknown``, ``expired`` (now >= expires),
        ``used_up`` (uses_remaining == 0), else ``ok``; with ``consume`` a limited invite's
        ``uses_remaining`` is decremented atomically and durably before returning ``ok``."""

    # -- rate limits, stats ------------------------------------------------------------------------

    async def rate_take(self, key: str, capacity: float, refill_per_second: float, now: float) -> float:
        """Take one token from bucket ``key``: 0.0 if allowed, else seconds until one is available."""

    async def stats(self, now: float) -> StoreStats:
        """Gauges (claimed handles, slots, live pair slots) and the persisted counters."""
