# SPDX-License-Identifier: MIT
"""Receiving: verify events from our slots and append each once to ``inbox/<sender>.jsonl``.

Per event, in order (protocol notes §2.8, with the §7.6 stuck-cursor bug fixed):

1. a ``schema_version`` of another major, or an unknown kind, is rejected and BLOCKS the cursor
   (a newer peer is talking; upgrading must let us read it, so we must not skip it);
2. pairing events (kind 1100 ``pair_drop`` / 1101 ``pair_drop_ack`` / 1201 ``wire_close``) go
   to the :class:`PairingHandler` first; it may consume them;
3. the event is verified against trust. Verified → inbox (once, by ``event_id``). A sender we
   have not pinned (or an unknown key) is *transient*: the event is parked in
   ``held/<handle>.jsonl`` and the cursor moves on; it is released into the inbox when that
   sender gets pinned. Anything else (tampered, bad signature) is rejected for good.

The cursor advances through the contiguous prefix of non-blocked events only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wire_client._errors import HomeError
from wire_client._home.endpoints import CursorStore, Endpoint, RelayStateStore
from wire_client._home.files import append_lines, dump_line
from wire_client._home.identity import Identity
from wire_client._home.mailbox import EventLog, InboxEvent
from wire_client._home.paths import WireHome, safe_peer_name
from wire_client._home.trust import TrustStore
from wire_client._messaging.ack import Acknowledger
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
        schema_problem = check_schema_version(event)
        if schema_problem is not None:
            return Rejection(str(event_id), sender, "schema_mismatch", schema_problem, blocking=True)
        kind = event.get("kind")
        if not is_known_kind(kind):
            return Rejection(str(event_id), sender, "unknown_kind", f"unknown_kind={kind}", blocking=True)
        if is_hooked(event):
            context = PairingContext(self.home, self.identity, self.trust, self.relay_state, endpoint, self.pool)
            decision = await self.pairing_handler.handle_pairing_event(event, context)
            if decision is PairingDecision.CONSUMED:
                report.consumed += 1
                return None
        try:
            verified = verify_event(event, self.trust)
        except VerificationError as exc:
            if exc.transient and sender is not None:
                try:
                    safe_peer_name(sender)
                except HomeError:
                    return Rejection(event_id, sender, "bad_sender", "sender handle is not a valid name", False)
                to_hold.setdefault(sender, []).append(event)
                return None
            return Rejection(event_id, sender, exc.code, exc.message, blocking=False)
        if self.probes is not None and await self.probes.handle(verified):
            report.consumed += 1  # a probe (answered) or a probe answer (recorded for `wire ping`)
            return None
        opened = self.opener.open(verified, event)  # verify first, then the `to` check, then open
        if opened.refusal is not None:
            return Rejection(event_id, sender, *opened.refusal, blocking=False)
        to_inbox.setdefault(verified.sender_handle, []).append(opened.line)
        return None

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
            append_lines(self.home.rejected_log, lines, fsync=False)
        except OSError as exc:  # pragma: no cover - diagnostics must not stop receiving
            log.warning("could not record rejections: %s", exc)
        for r in rejections:
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

    async def pull_endpoint(self, endpoint: Endpoint, *, since: str | None = None, limit: int = 1000) -> PullReport:
        """Fetch everything after the cursor (or ``since``) from one of our slots, page by page."""
        client = self.pool.client(endpoint.relay_url)
        position = since if since is not None else self.cursors.get(endpoint)
        total = PullReport(endpoint=endpoint)
        while True:
            events = await client.list_events(endpoint, since=position, limit=limit)
            report = await self.process(events, endpoint, advance_cursor=not total.blocked)
            _merge(total, report)
            if report.last_seen is None or len(events) < limit:
                await self.acks.flush()
                return total
            position = report.last_seen

    async def pull(self) -> list[PullReport]:
        """Pull every one of our endpoints (UDS, local, LAN and federation alike)."""
        self.release_if_trust_changed()
        return [await self.pull_endpoint(ep) for ep in self.relay_state.self_endpoints()]


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
