# SPDX-License-Identifier: MIT
"""SPAKE2 + SAS code-phrase pairing (protocol §10.3), attached or driven by the daemon.

The math and the relay routes are the reference's (interoperable with its ``/v1/pair*``); what
happens after the bootstrap exchange is ours, designed so that the asymmetric finalize of the
2026-05-11 postmortem (one side pinned, the other never got the bootstrap) cannot happen.

State machine (``pending-pair/<session_id>.json`` ``status``)::

    request_host|request_guest ─post SPAKE2 msg─▶ polling ─peer msg─▶ sas_ready
    sas_ready ─operator types the PEER's digits─▶ confirmed          (mismatch ─▶ aborted, for good)
    confirmed ─post our sealed bootstrap─▶ bootstrap_sent
    bootstrap_sent ─open + verify the peer's bootstrap─▶ opened       (nothing pinned yet)
    opened ─our signed pair_drop_ack stored in the PEER's slot─▶ ack_sent
    ack_sent ─the peer's pair_drop_ack (signed by its bootstrap card, posted with our token)─▶ paired
    any active state ─deadline / cancel / pair slot gone─▶ aborted

Invariant: a side pins the peer (card + endpoints) only in ``paired``, i.e. only after (a) it
opened the peer's bootstrap and its own ack is durably stored in the peer's slot, and (b) it holds
the peer's ack — proof the peer opened OUR bootstrap and stored its ack in our slot. Each ack is
durable in a relay slot before its sender can reach ``paired``, so if one side is paired the other
holds everything it needs and completes on its next pull — even after its own deadline passed: a
timed-out ``ack_sent`` session keeps ``late_ok`` (24 h) and completes when the ack arrives. A
side killed at any step either resumes from the file (the SPAKE2 seed re-derives the same key) or
never sent an ack, in which case the other side never pins. There is nothing to roll back: no
step before ``paired`` touches trust or peer endpoints.

A v0.9.3 peer sends no ack; with it our side times out unpaired (documented limitation: the
reference removed the SAS client flow at v0.15).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import filelock

from wire_client._errors import PairingFailedError, RelayError, TransportError, TrustError
from wire_client._home.endpoints import Endpoint, RelayStateStore, Scope
from wire_client._home.files import FILE_MODE, lock_path_for, make_private_dirs
from wire_client._home.identity import Identity
from wire_client._home.mailbox import EventLog
from wire_client._home.paths import WireHome
from wire_client._home.pidfile import daemon_status
from wire_client._home.trust import TrustStore
from wire_client._pairing.deposits import DeliveryTokens
from wire_client._pairing.events import (
    advertised_endpoints,
    coords_body,
    ensure_endpoint,
    is_pairing_event,
    parse_coords,
    sign_pairing_event,
)
from wire_client._pairing.invites import InviteStore
from wire_client._pairing.requests import InboundStore
from wire_client._pairing.sas_records import (
    ACTIVE,
    TERMINAL,
    WAITING,
    SasRecords,
    SasSession,
    SasState,
    SasStatus,
    session_id_for,
)
from wire_client._relay.client import RelayPool
from wire_protocol import (
    CardError,
    CardTrust,
    EventType,
    JSONObject,
    PairingError,
    SasMismatchError,
    Spake2Session,
    Tier,
    VerificationError,
    bootstrap_key,
    build_bootstrap_payload,
    code_hash,
    compute_sas,
    confirm_sas,
    display_handle_from_did,
    generate_code_phrase,
    open_bootstrap,
    parse_bootstrap_payload,
    parse_code_phrase,
    seal_bootstrap,
    verify_card,
    verify_event,
)

__all__ = ["SasConfig", "SasDriver", "complete_from_ack"]

log = logging.getLogger(__name__)

_LOCKS: dict[str, asyncio.Lock] = {}
#: states whose next step needs the relay's pair slot (a 404 there means the relay lost it)
_NEEDS_PAIR_SLOT = (SasState.POLLING, SasState.CONFIRMED, SasState.BOOTSTRAP_SENT)
#: how often the daemon tick garbage-collects finished sessions and stale invite tombstones
_GC_PERIOD = 60.0


@dataclass(frozen=True, slots=True)
class SasConfig:
    """Deadlines (seconds) and the relay polling interval of SAS sessions."""

    sas_timeout: float = 600.0
    finalize_timeout: float = 120.0
    poll_interval: float = 0.25


def _session_key(session_id: str) -> str:
    """Where a SAS session's deposit token is filed until the peer's DID is known."""
    return f"sas-session:{session_id}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _spake2(session: SasSession) -> Spake2Session:
    return Spake2Session.from_seed(session.code, base64.b64decode(session.spake2_seed_b64))


def _find_ack(home: WireHome, session: SasSession) -> JSONObject | None:
    """The peer's verified ``pair_drop_ack`` among its held (or already inboxed) events."""
    peer_did, raw_card = session.peer_did, session.peer_card
    if peer_did is None or raw_card is None:
        return None
    handle = display_handle_from_did(peer_did)
    trust = CardTrust([verify_card(raw_card)])
    for log_ in (EventLog(home.held_dir), EventLog(home.inbox_dir)):
        if not log_.path(handle).exists():
            continue
        for event in log_.read(handle):
            if is_pairing_event(event, EventType.PAIR_DROP_ACK) and event.get("from") == peer_did:
                with contextlib.suppress(VerificationError):
                    verify_event(event, trust)
                    return event
    return None


def _complete(home: WireHome, session: SasSession, ack: JSONObject) -> SasSession | None:
    """Pin the peer (card + endpoints) and mark the session paired. Returns the new session."""
    records, trust, relay_state = SasRecords(home), TrustStore(home), RelayStateStore(home)
    card = verify_card(session.peer_card)
    handle = display_handle_from_did(card.did)
    stored = [ep for ep in (Endpoint.from_json(e) for e in session.peer_endpoints) if ep is not None]
    endpoints = parse_coords(ack.get("body")) or stored
    try:
        trust.pin_card(card, Tier.VERIFIED)
    except TrustError as exc:
        aborted = {"status": SasState.ABORTED, "reason": "trust_conflict", "last_error": exc.message, "late_ok": False}
        return records.transition(session.session_id, (*ACTIVE, SasState.ABORTED), aborted)
    current = [ep.slot_id for ep in relay_state.peer_endpoints(handle)]
    if InboundStore(home).accept_coordinates(handle, [ep.slot_id for ep in endpoints], current):
        relay_state.pin_peer_endpoints(handle, endpoints)
    InboundStore(home).forgive(card.did)
    done = records.transition(
        session.session_id, (SasState.ACK_SENT, SasState.ABORTED), {"status": SasState.PAIRED, "reason": None}
    )
    log.info("SAS pairing %s complete: paired with %s", session.session_id, handle)
    return done


async def complete_from_ack(home: WireHome, event: JSONObject) -> bool:
    """Receive-pipeline hook: an ack from a SAS peer completes its session (our ack already stored)."""
    sender = event.get("from")
    for session in SasRecords(home).all():
        if session.peer_did != sender or not session.finishes_late:
            continue
        try:
            verify_event(event, CardTrust([verify_card(session.peer_card)]))
        except (VerificationError, CardError):
            continue
        return _complete(home, session, event) is not None
    return False


class SasDriver:
    """Runs SAS sessions of one identity: the attached verbs and the daemon's :meth:`tick_all`."""

    def __init__(
        self,
        home: WireHome,
        identity: Identity,
        pool: RelayPool,
        *,
        config: SasConfig | None = None,
        pull: Callable[[], Awaitable[object]] | None = None,
        on_pinned: Callable[[str], object] | None = None,
    ) -> None:
        self.home = home
        self.identity = identity
        self.pool = pool
        self.config = config or SasConfig()
        self.records = SasRecords(home)
        self.relay_state = RelayStateStore(home)
        self._tokens = DeliveryTokens(home, pool)
        self._pull = pull
        self._on_pinned = on_pinned
        self._last_gc = -_GC_PERIOD

    # --- verbs -------------------------------------------------------------------------------

    async def start(
        self, role: str, code: str | None, relay_url: str | None, *, wait_seconds: float, detach: bool
    ) -> SasStatus:
        """``pair_host`` (``code=None``) / ``pair_join``: open a session, post (or queue) our SPAKE2 message."""
        code = generate_code_phrase() if code is None else parse_code_phrase(code)
        relay = relay_url.rstrip("/") if relay_url else self._default_relay()
        now = time.time()
        session = SasSession(
            session_id=session_id_for(code),
            code=code,
            code_hash=code_hash(code),
            role=role,
            relay_url=relay,
            status=SasState.REQUEST_HOST if role == "host" else SasState.REQUEST_GUEST,
            created_at=now,
            updated_at=now,
            deadline=now + self.config.sas_timeout,
            spake2_seed_b64=_b64(os.urandom(32)),
        )
        self.records.create(session)
        if detach:
            return SasStatus.from_session(session)
        return await self.drive(session.session_id, (SasState.SAS_READY, *TERMINAL), wait_seconds)

    async def confirm(self, session: str, typed_digits: str, wait_seconds: float) -> SasStatus:
        sid = self.records.resolve_id(session)
        current = self.records.get(sid)
        status = current.status
        if status is SasState.ABORTED:
            raise PairingFailedError(f"pairing {sid} was aborted ({current.reason})", reason="aborted")
        if status is not SasState.SAS_READY:
            reason = "sas_not_ready" if status in WAITING else "already_confirmed"
            raise PairingFailedError(f"pairing {sid} is {status}, not waiting for digits", reason=reason)
        try:
            confirm_sas(str(current.sas), typed_digits)
        except SasMismatchError as exc:
            await self._abort(current, "sas_mismatch", exc.message)
            raise PairingFailedError(exc.message, reason="sas_mismatch") from exc
        changes = {"status": SasState.CONFIRMED, "deadline": time.time() + self.config.finalize_timeout}
        if self.records.transition(sid, (SasState.SAS_READY,), changes) is None:
            raise PairingFailedError(f"pairing {sid} changed state meanwhile; check it", reason="already_confirmed")
        result = await self.drive(sid, TERMINAL, wait_seconds)
        if result.status == SasState.ABORTED:
            detail = f": {result.detail}" if result.detail else ""
            raise PairingFailedError(f"pairing aborted ({result.reason}){detail}", reason=result.reason or "aborted")
        return result

    async def cancel(self, session: str) -> SasStatus:
        current = self.records.get(self.records.resolve_id(session))
        if current.active:
            current = await self._abort(current, "cancelled", "cancelled by the operator") or current
        return SasStatus.from_session(current)

    def sessions(self) -> list[SasStatus]:
        return [SasStatus.from_session(s) for s in self.records.all()]

    async def tick_all(self) -> list[SasStatus]:
        """One step for every active session (the daemon calls this); returns those that changed."""
        changed: list[SasStatus] = []
        for before in self.records.all():
            if not before.active:
                continue
            after = await self.step(before.session_id)
            if after.status is not before.status:
                changed.append(SasStatus.from_session(after))
        if time.monotonic() - self._last_gc > _GC_PERIOD:
            self._last_gc = time.monotonic()
            self.records.gc()
            InviteStore(self.home).gc()
        return changed

    async def drive(self, session: str, targets: tuple[SasState, ...], wait_seconds: float) -> SasStatus:
        """Step at least once, then keep stepping (and pulling our slots while we wait for the peer's
        ack, when no daemon does it) until a target or terminal status, or ``wait_seconds`` passed."""
        sid = self.records.resolve_id(session)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, wait_seconds)
        while True:
            current = await self.step(sid)
            if current.status in targets or current.status in TERMINAL or loop.time() >= deadline:
                return SasStatus.from_session(current)
            if current.status is SasState.ACK_SENT and self._pull is not None and not _daemon_running(self.home):
                with contextlib.suppress(TransportError, RelayError):
                    await self._pull()
                current = self.records.get(sid)
                if current.status in (*targets, *TERMINAL):
                    return SasStatus.from_session(current)
            await asyncio.sleep(self.config.poll_interval)

    # --- one step ----------------------------------------------------------------------------

    async def step(self, sid: str) -> SasSession:
        """Advance one session by at most one transition (no-op if another driver holds it)."""
        async with self._driving(sid) as mine:
            current = self.records.get(sid)
            if not mine or not current.active:
                return current
            if current.deadline is not None and time.time() > current.deadline:
                return await self._abort(current, "timeout", "the peer did not finish in time") or current
            try:
                return await self._advance(current) or self.records.get(sid)
            except RelayError as exc:
                if exc.status == 404 and current.status in _NEEDS_PAIR_SLOT:
                    msg = "the relay lost this pairing (restarted or expired); start again with a new code phrase"
                    return await self._abort(current, "pair_slot_lost", msg) or current
                if exc.status == 409 and current.status in (SasState.REQUEST_HOST, SasState.REQUEST_GUEST):
                    return await self._abort(current, "code_in_use", exc.message) or current
                return self._note(current, exc.message)
            except TransportError as exc:
                return self._note(current, exc.message)
            except (PairingError, CardError) as exc:
                return await self._abort(current, getattr(exc, "code", "pairing_error"), exc.message) or current

    async def _advance(self, session: SasSession) -> SasSession | None:
        """The one network step the session's state calls for, then its transition (None: nothing yet)."""
        sid, status, role = session.session_id, session.status, session.role
        relay = self.pool.client(session.relay_url)
        if status in (SasState.REQUEST_HOST, SasState.REQUEST_GUEST):
            own = await ensure_endpoint(self.pool, self.relay_state, relay.relay_url, self.identity.handle)
            ours = next(ep for ep in own if ep.relay_url == relay.relay_url)
            pair_id = await relay.pair_open(session.code_hash, _b64(_spake2(session).message), role)
            changes = {"status": SasState.POLLING, "pair_id": pair_id, "our_endpoint": ours.to_json()}
            return self.records.transition(sid, (status,), changes)
        if status is SasState.POLLING:
            peer_msg, _ = await relay.pair_get(str(session.pair_id), role)
            if peer_msg is None:
                return None
            sas = compute_sas(_spake2(session).finish(base64.b64decode(peer_msg)))
            changes = {"status": SasState.SAS_READY, "peer_msg": peer_msg, "sas": sas}
            return self.records.transition(sid, (SasState.POLLING,), changes)
        if status is SasState.CONFIRMED:
            mine = Endpoint.from_json(session.our_endpoint)
            if mine is None:
                raise PairingError("the session lost its own slot coordinates", code="session_corrupt")
            # the peer's DID is not known yet: its deposit token is filed under the session until it is
            shown = (await self._tokens.for_peer([mine], _session_key(sid)))[0]
            plain = build_bootstrap_payload(self.identity.card, shown.relay_url, shown.slot_id, shown.slot_token)
            sealed = seal_bootstrap(self._aead_key(session), plain, os.urandom(12))
            await relay.pair_bootstrap(str(session.pair_id), role, sealed)
            return self.records.transition(sid, (SasState.CONFIRMED,), {"status": SasState.BOOTSTRAP_SENT})
        if status is SasState.BOOTSTRAP_SENT:
            _, sealed_peer = await relay.pair_get(str(session.pair_id), role)
            if sealed_peer is None:
                return None
            payload = parse_bootstrap_payload(open_bootstrap(self._aead_key(session), sealed_peer))
            if not (payload.relay_url and payload.slot_id and payload.slot_token):
                raise PairingError("the peer's bootstrap carries no slot", code="bootstrap_no_slot")
            if payload.card.did == self.identity.did:
                raise PairingError("the bootstrap is our own (reflected)", code="bootstrap_reflected")
            peer = Endpoint(payload.relay_url.rstrip("/"), payload.slot_id, payload.slot_token, Scope.FEDERATION)
            self._tokens.reassign(_session_key(sid), payload.card.did)
            own = await self._tokens.for_peer(
                advertised_endpoints(self.relay_state.self_endpoints(), include_local=False), payload.card.did
            )
            our_ack = sign_pairing_event(self.identity, payload.card.did, EventType.PAIR_DROP_ACK, coords_body(own))
            opened = {
                "status": SasState.OPENED,
                "peer_did": payload.card.did,
                "peer_card": payload.card.to_json(),
                "peer_endpoints": [peer.to_json()],
                "ack_event": our_ack,
            }
            return self.records.transition(sid, (SasState.BOOTSTRAP_SENT,), opened)
        if status is SasState.OPENED:
            targets = [Endpoint.from_json(e) for e in session.peer_endpoints]
            target = next((ep for ep in targets if ep is not None), None)
            if target is None or session.ack_event is None:
                raise PairingError("the session lost the peer's coordinates", code="session_corrupt")
            await self.pool.client(target.relay_url).post_event(target, session.ack_event)
            moved = self.records.transition(sid, (SasState.OPENED,), {"status": SasState.ACK_SENT, "late_ok": True})
            session = moved if moved is not None else session
        if session.status is SasState.ACK_SENT:
            ack = _find_ack(self.home, session)
            if ack is not None:
                done = _complete(self.home, session, ack)
                if done is not None and self._on_pinned is not None:
                    self._on_pinned(display_handle_from_did(str(session.peer_did)))
                await self._abandon(session)
                return done
            return session
        return None

    # --- helpers -----------------------------------------------------------------------------

    def _default_relay(self) -> str:
        own = self.relay_state.self_endpoints()
        chosen = next((ep for ep in own if ep.scope is Scope.FEDERATION), own[0] if own else None)
        if chosen is None:
            raise PairingFailedError("no relay to pair through: pass relay_url or bind a relay first", reason="no_slot")
        return chosen.relay_url

    def _aead_key(self, session: SasSession) -> bytes:
        key = _spake2(session).finish(base64.b64decode(str(session.peer_msg)))
        return bootstrap_key(key, session.code_hash)

    def _note(self, session: SasSession, error: str) -> SasSession:
        return self.records.transition(session.session_id, (session.status,), {"last_error": error}) or session

    async def _abort(self, session: SasSession, reason: str, detail: str) -> SasSession | None:
        late_ok = session.status is SasState.ACK_SENT
        changes = {"status": SasState.ABORTED, "reason": reason, "last_error": detail, "late_ok": late_ok}
        done = self.records.transition(session.session_id, ACTIVE, changes)
        log.info("SAS pairing %s aborted: %s (%s)", session.session_id, reason, detail)
        await self._abandon(session)
        return done

    async def _abandon(self, session: SasSession) -> None:
        with contextlib.suppress(TransportError, RelayError):
            await self.pool.client(session.relay_url).pair_abandon(session.code_hash)

    @contextlib.asynccontextmanager
    async def _driving(self, sid: str) -> AsyncIterator[bool]:
        """Exclusive right to run network steps for ``sid`` (in-process lock + non-blocking file lock)."""
        path = self.records.path(sid)
        lock = _LOCKS.setdefault(str(path), asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            make_private_dirs(path.parent)
            file_lock = filelock.FileLock(lock_path_for(path.with_suffix(".driver")), timeout=0, mode=FILE_MODE)
            try:
                file_lock.acquire()
            except filelock.Timeout:
                yield False
                return
            try:
                yield True
            finally:
                file_lock.release()


def _daemon_running(home: WireHome) -> bool:
    status = daemon_status(home)
    return status is not None and status.running
