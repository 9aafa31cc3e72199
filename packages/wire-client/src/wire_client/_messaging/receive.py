# SPDX-License-Identifier: MIT
"""Receiving: verify events from our slots and append each once to ``inbox/<sender>.jsonl``.

Per event, in order (protocol §7.1, the receiver's checks):

1. the event must be a JSON object;
2. pairing events (kind 1100 ``pair_drop`` / 1101 ``pair_drop_ack`` / 1201 ``wire_close``) not
   addressed to us are refused; the others go to the :class:`PairingHandler` first, which
   verifies what it applies and may consume them;
3. the event is verified against trust. A sender we have not pinned (or an unknown key) is
   *transient*: the event is parked in ``held/<handle>.jsonl`` and the cursor moves on; it is
   released when that sender gets pinned. Any other failure is rejected for good;
4. only now may an event hold the cursor: a *verified* event from a pinned peer with a
   ``schema_version`` of another major, or an unknown kind, is rejected and BLOCKS the cursor
   (a newer peer is talking; upgrading must let us read it). Junk from anyone else never does;
5. a verified event not addressed to us (``to``) is refused (a replay of a message someone
   signed to somebody else); everything else goes to the inbox, once per ``event_id``.

The cursor advances through the contiguous prefix of non-blocked events. Relays are not trusted
either: pages are capped per pull, a relay that returns more than it was asked for, repeats the
cursor event or sends a full page nobody can move past is reported, not looped on, and the
rejection log is bounded and rotated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wire_client._errors import HomeError
from wire_client._home.endpoints import CursorStore, Endpoint, RelayStateStore
from wire_client._home.files import LOG_MAX_BYTES, append_bounded, dump_line, read_json
from wire_client._home.identity import Identity
from wire_client._home.mailbox import EventLog, InboxEvent
from wire_client._home.paths import WireHome, safe_peer_name
from wire_client._home.trust import TrustStore
from wire_client._messaging.ack import Acknowledger
from wire_client._messaging.addressing import addressed_to_us
from wire_client._messaging.hook import PairingContext, PairingDecision, PairingHandler, PassThrough, is_hooked
from wire_client._messaging.probes import ProbeDesk
from wire_client._messaging.sealing import Opener, refuse_plaintext
from wire_client._relay.client import RelayPool
from wire_protocol import (
    JSON,
    JSONObject,
    VerificationError,
    check_schema_version,
    display_handle_from_did,
    format_timestamp,
    is_known_kind,
    verify_event,
)

__all__ = ["PullReport", "Puller", "Rejection"]

log = logging.getLogger(__name__)

#: at most this many events are parked per unknown sender (a stranger cannot fill the disk)
MAX_HELD_PER_SENDER = 256
#: events asked for per page, and pages fetched per pull of one endpoint (the rest waits for the next pull)
PAGE_LIMIT = 200
MAX_PAGES_PER_PULL = 50


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event we did not inbox: why, and whether it holds the cursor back."""

    event_id: str | None
    sender: str | None
    code: str
    reason: str
    blocking: bool

    def to_json(self) -> JSONObject:
        return {
            "event_id": self.event_id,
            "sender": self.sender,
            "code": self.code,
            "reason": self.reason,
            "blocking": self.blocking,
        }


@dataclass(slots=True)
class PullReport:
    """What one pull of one endpoint (or one batch of streamed events) did."""

    endpoint: Endpoint | None
    fetched: int = 0
    inboxed: list[InboxEvent] = field(default_factory=list)
    duplicates: int = 0
    held: list[str] = field(default_factory=list)
    consumed: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    cursor: str | None = None
    last_seen: str | None = None
    #: why this pull stopped early: a misbehaving relay, or more pages than one pull fetches
    relay_problem: str | None = None

    @property
    def blocked(self) -> bool:
        return any(r.blocking for r in self.rejected)


class Puller:
    """Processes events from our slots into the inbox; used by ``pull()``, the daemon and embedders."""

    def __init__(
        self,
        home: WireHome,
        identity: Identity,
        pool: RelayPool,
        *,
        pairing_handler: PairingHandler | None = None,
        on_inbox: Callable[[list[InboxEvent]], None] | None = None,
        probes: ProbeDesk | None = None,
    ) -> None:
        self.home = home
        self.identity = identity
        self.pool = pool
        self.trust = TrustStore(home)
        self.relay_state = RelayStateStore(home)
        self.cursors = CursorStore(home)
        self.inbox = EventLog(home.inbox_dir)
        self.held = EventLog(home.held_dir)
        self.pairing_handler: PairingHandler = pairing_handler or PassThrough()
        self.on_inbox = on_inbox
        self.probes = probes
        self.opener = Opener(identity, self.trust, refuse_plaintext=refuse_plaintext(home))
        self._trust_seen: dict[str, int] = {}
        self.acks = Acknowledger(pool)

    # --- processing --------------------------------------------------------------------------

    async def process(
        self, events: Sequence[JSON], endpoint: Endpoint | None, *, advance_cursor: bool = True
    ) -> PullReport:
        """Run the pipeline over ``events`` (in slot order) and advance the endpoint's cursor.

        Pass ``advance_cursor=False`` for events that follow a blocked event of the same slot.
        """
        report = PullReport(endpoint=endpoint, fetched=len(events))
        to_inbox: dict[str, list[JSONObject]] = {}
        to_hold: dict[str, list[JSONObject]] = {}
        prefix_open = True
        for raw in events:
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            event_id = event_id if isinstance(event_id, str) else None
            rejection = await self._classify(raw, endpoint, to_inbox, to_hold, report)
            if rejection is not None:
                report.rejected.append(rejection)
                if rejection.blocking:
                    prefix_open = False
            if event_id is not None:
                report.last_seen = event_id
                if prefix_open:
                    report.cursor = event_id
        for sender, batch in to_inbox.items():
            fresh = self.inbox.append(sender, batch)
            report.duplicates += len(batch) - len(fresh)
            report.inboxed.extend(InboxEvent(peer=sender, event=e) for e in fresh)
        for sender, batch in to_hold.items():
            self._park(sender, batch, report)
        if report.rejected:
            self._log_rejections(report.rejected)
        if endpoint is not None and report.cursor is not None and advance_cursor:
            self.cursors.set(endpoint, report.cursor)
            self.acks.note(endpoint, report.cursor)  # durably stored: the relay may stop counting them
        if report.inboxed and self.on_inbox is not None:
            self.on_inbox(report.inboxed)
        return report

    async def _classify(
        self,
        raw: JSON,
        endpoint: Endpoint | None,
        to_inbox: dict[str, list[JSONObject]],
        to_hold: dict[str, list[JSONObject]],
        report: PullReport,
    ) -> Rejection | None:
        if not isinstance(raw, dict):
            return Rejection(None, None, "malformed", "event is not a JSON object", blocking=False)
        event: JSONObject = raw
        raw_id = event.get("event_id")
        event_id = raw_id if isinstance(raw_id, str) else None
        sender_did = event.get("from")
        sender = display_handle_from_did(sender_did) if isinstance(sender_did, str) else None
        kind = event.get("kind")
        if is_hooked(event):
            if not self._for_us(event, sender):
                return self._not_for_us(event, event_id, sender)
            context = PairingContext(self.home, self.identity, self.trust, self.relay_state, endpoint, self.pool)
            decision = await self.pairing_handler.handle_pairing_event(event, context)
            if decision is PairingDecision.CONSUMED:
                report.consumed += 1
                return None
        try:
            verified = verify_event(event, self.trust)
        except VerificationError as exc:
            known = is_known_kind(kind) and check_schema_version(event) is None
            if exc.transient and known and sender is not None:
                try:
                    safe_peer_name(sender)
                except HomeError:
                    return Rejection(event_id, sender, "bad_sender", "sender handle is not a valid name", False)
                if isinstance(sender_did, str) and self._refused(sender_did):
                    return Rejection(event_id, sender, "refused", "we unpaired or refused this sender", False)
                to_hold.setdefault(sender, []).append(event)
                return None
            return Rejection(event_id, sender, exc.code, exc.message, blocking=False)
        # from here on the event is signed by a key we pinned: only such an event may hold the cursor
        schema_problem = check_schema_version(event)
        if schema_problem is not None:
            return Rejection(event_id, sender, "schema_mismatch", schema_problem, blocking=True)
        if not is_known_kind(kind):
            return Rejection(event_id, sender, "unknown_kind", f"unknown_kind={kind}", blocking=True)
        if not self._for_us(event, verified.sender_handle):
            return self._not_for_us(event, event_id, sender)
        if self.probes is not None and await self.probes.handle(verified):
            report.consumed += 1  # a probe (answered) or a probe answer (recorded for `wire ping`)
            return None
        opened = self.opener.open(verified, event)  # verified and addressed to us: now open it
        if opened.refusal is not None:
            return Rejection(event_id, sender, *opened.refusal, blocking=False)
        to_inbox.setdefault(verified.sender_handle, []).append(opened.line)
        return None

    def _refused(self, did: str) -> bool:
        """A DID we forgot (``wire forget``) or whose pair request we rejected: its events are refused,
        not parked for a pin that will not come (the table is the pairing layer's ``pair-rejections.json``)."""
        try:
            table = read_json(self.home.pair_rejections, {})
        except HomeError:
            return False
        dids = table.get("dids") if isinstance(table, dict) else None
        return isinstance(dids, dict) and did in dids

    def _for_us(self, event: JSONObject, sender: str | None) -> bool:
        record = self.trust.get(sender) if sender is not None else None
        card = record.card if record is not None and record.did == event.get("from") else None
        body = event.get("body")
        carried = body.get("card") if isinstance(body, dict) else None
        if card is None and isinstance(carried, dict):
            card = carried  # a stranger's pair_drop: its own card says which form it writes
        return addressed_to_us(event.get("to"), self.identity.did, self.identity.handle, card)

    @staticmethod
    def _not_for_us(event: JSONObject, event_id: str | None, sender: str | None) -> Rejection:
        to = event.get("to")
        shown = to[:200] if isinstance(to, str) else type(to).__name__
        return Rejection(event_id, sender, "not_for_us", f"addressed to {shown!r}, not to us", blocking=False)

    def _park(self, sender: str, batch: list[JSONObject], report: PullReport) -> None:
        existing = len(self.held.read(sender)) if self.held.path(sender).exists() else 0
        room = max(0, MAX_HELD_PER_SENDER - existing)
        parked = self.held.append(sender, batch[:room])
        report.held.extend(str(e.get("event_id")) for e in parked)
        for event in batch[room:]:
            report.rejected.append(
                Rejection(
                    str(event.get("event_id")), sender, "held_limit", "too many events from an unpinned sender", False
                )
            )

    def _log_rejections(self, rejections: list[Rejection]) -> None:
        stamp = format_timestamp(datetime.now(UTC))
        lines = [dump_line({"ts": stamp, **r.to_json()}) for r in rejections]
        try:
            append_bounded(self.home.rejected_log, lines, max_bytes=LOG_MAX_BYTES)
        except OSError as exc:  # pragma: no cover - diagnostics must not stop receiving
            log.warning("could not record rejections: %s", exc)
        for r in rejections[:20]:
            log.info(
                "rejected event %s from %s: %s (%s)",
                r.event_id,
                r.sender,
                r.reason,
                "blocking" if r.blocking else "skipped",
            )

    # --- held events -------------------------------------------------------------------------

    def release_held(self, handle: str | None = None) -> list[InboxEvent]:
        """Re-verify parked events of ``handle`` (or of every now-pinned sender) into the inbox."""
        released: list[InboxEvent] = []
        handles = [handle] if handle is not None else self.held.peers()
        for name in handles:
            if self.trust.get(name) is None:
                continue
            held = self.held.read(name)
            if not held:
                continue
            keep: list[JSONObject] = []
            verified: list[JSONObject] = []
            for event in held:
                try:
                    checked = verify_event(event, self.trust)
                except VerificationError as exc:
                    if exc.transient:
                        keep.append(event)
                    else:
                        self._log_rejections(
                            [Rejection(str(event.get("event_id")), name, exc.code, exc.message, False)]
                        )
                    continue
                opened = self.opener.open(checked, event)
                if opened.refusal is not None:
                    self._log_rejections([Rejection(str(event.get("event_id")), name, *opened.refusal, False)])
                    continue
                verified.append(opened.line)
            fresh = self.inbox.append(name, verified)
            self.held.replace(name, keep)
            released.extend(InboxEvent(peer=name, event=e) for e in fresh)
        if released and self.on_inbox is not None:
            self.on_inbox(released)
        return released

    def release_if_trust_changed(self) -> list[InboxEvent]:
        """Cheap check for the daemon: release held events when trust.json changed since last time."""
        try:
            stamp = self.home.trust.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        if self._trust_seen.get("trust") == stamp:
            return []
        self._trust_seen["trust"] = stamp
        return self.release_held() if self.held.peers() else []

    # --- polling -----------------------------------------------------------------------------

    async def pull_endpoint(
        self, endpoint: Endpoint, *, since: str | None = None, limit: int = PAGE_LIMIT
    ) -> PullReport:
        """Fetch what came after the cursor (or ``since``) from one of our slots: at most ``MAX_PAGES_PER_PULL`` pages.

        A relay that answers more events than asked for, sends back the event we asked to start
        after, repeats a page, or fills a page with events nobody can move past (no ``event_id``)
        is reported in ``relay_problem`` and not asked again in this pull.
        """
        client = self.pool.client(endpoint.relay_url)
        position = since if since is not None else self.cursors.get(endpoint)
        total = PullReport(endpoint=endpoint)
        previous: list[JSON] | None = None
        for _ in range(MAX_PAGES_PER_PULL):
            events: list[JSON] = list(await client.list_events(endpoint, since=position, limit=limit))
            problem = _page_problem(events, position, limit, previous)
            page = events[:limit]
            report = await self.process(page, endpoint, advance_cursor=not total.blocked)
            _merge(total, report)
            if problem is None and report.last_seen is None and len(page) >= limit:
                problem = "sent a full page without event ids; nothing to continue after"
            if problem is not None:
                total.relay_problem = f"relay {endpoint.relay_url} {problem}; stopped this pull"
                log.warning("%s", total.relay_problem)
                await self.acks.flush()
                return total
            if report.last_seen is None or len(page) < limit:
                await self.acks.flush()
                return total
            previous, position = page, report.last_seen
        await self.acks.flush()
        total.relay_problem = (
            f"relay {endpoint.relay_url} still had events after {MAX_PAGES_PER_PULL} pages; the next pull continues"
        )
        return total

    async def pull(self) -> list[PullReport]:
        """Pull every one of our endpoints (UDS, local, LAN and federation alike)."""
        self.release_if_trust_changed()
        return [await self.pull_endpoint(ep) for ep in self.relay_state.self_endpoints()]


def _page_problem(events: list[JSON], since: str | None, limit: int, previous: list[JSON] | None) -> str | None:
    """What is wrong with a listing page, if anything (the relay is not trusted to honour since/limit)."""
    if len(events) > limit:
        return f"answered {len(events)} events when asked for at most {limit} (it ignores limit)"
    if since is not None and any(isinstance(e, dict) and e.get("event_id") == since for e in events):
        return "sent back the event we asked to start after (it ignores since)"
    if previous is not None and events and events == previous:
        return "sent the same page twice (it ignores since)"
    return None


def _merge(total: PullReport, part: PullReport) -> None:
    if part.cursor is not None and not total.blocked:
        total.cursor = part.cursor
    total.fetched += part.fetched
    total.inboxed.extend(part.inboxed)
    total.duplicates += part.duplicates
    total.held.extend(part.held)
    total.consumed += part.consumed
    total.rejected.extend(part.rejected)
    total.last_seen = part.last_seen or total.last_seen
