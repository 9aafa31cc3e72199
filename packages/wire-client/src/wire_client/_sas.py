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

from wire_client._daemon import daemon_status
from wire_client._endpoints import Endpoint, RelayStateStore, Scope
from wire_client._errors import PairingFailedError, RelayError, TransportError, TrustError
from wire_client._fs import FILE_MODE, lock_path_for, make_private_dirs
from wire_client._home import WireHome
from wire_client._identity import Identity
from wire_client._inbound import InboundStore
from wire_client._invites import InviteStore
from wire_client._mailbox import EventLog
from wire_client._pairmsg import (
    KIND_ACK,
    advertised_endpoints,
    coords_body,
    ensure_endpoint,
    parse_coords,
    sign_pairing_event,
)
from wire_client._relay import RelayPool
from wire_client._sas_state import ACTIVE, TERMINAL, SasRecords, SasStatus, session_id_for
from wire_client._trust import TrustStore
from wire_protocol import (
    JSON,
    CardError,
    CardTrust,
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
#: how often the daemon tick garbage-collects finished sessions and stale invite tombstones
_GC_PERIOD = 60.0


@dataclass(frozen=True, slots=True)
class SasConfig:
    """Deadlines (seconds) and the relay polling interval of SAS sessions."""

    sas_timeout: float = 600.0
    finalize_timeout: float = 120.0
    poll_interval: float = 0.25


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _session(record: JSONObject) -> Spake2Session:
    seed = base64.b64decode(str(record["spake2_seed_b64"]))
    return Spake2Session.from_seed(str(record["code"]), seed)


def _find_ack(home: WireHome, record: JSONObject) -> JSONObject | None:
    """The peer's verified ``pair_drop_ack`` among its held (or already inboxed) events."""
    peer_did, raw_card = record.get("peer_did"), record.get("peer_card")
    if not isinstance(peer_did, str) or not isinstance(raw_card, dict):
        return None
    handle = display_handle_from_did(peer_did)
    trust = CardTrust([verify_card(raw_card)])
    for log_ in (EventLog(home.held_dir), EventLog(home.inbox_dir)):
        if not log_.path(handle).exists():
            continue
        for event in log_.read(handle):
            if event.get("kind") == KIND_ACK and event.get("type") == "pair_drop_ack" and event.get("from") == peer_did:
                with contextlib.suppress(VerificationError):
                    verify_event(event, trust)
                    return event
    return None


def _complete(home: WireHome, record: JSONObject, ack: JSONObject) -> JSONObject | None:
    """Pin the peer (card + endpoints) and mark the session paired. Returns the new record."""
    records, trust, relay_state = SasRecords(home), TrustStore(home), RelayStateStore(home)
    card = verify_card(record.get("peer_card"))
    handle = display_handle_from_did(card.did)
    stored = [ep for ep in (Endpoint.from_json(e) for e in _list(record.get("peer_endpoints"))) if ep is not None]
    endpoints = parse_coords(ack.get("body")) or stored
    try:
        trust.pin_card(card, Tier.VERIFIED)
    except TrustError as exc:
        return records.transition(
            str(record["session_id"]), (*ACTIVE, "aborted"), {"status": "aborted", "reason": "trust_conflict",
                                                             "last_error": exc.message, "late_ok": False}
        )  # fmt: skip
    current = [ep.slot_id for ep in relay_state.peer_endpoints(handle)]
    if InboundStore(home).accept_coordinates(handle, [ep.slot_id for ep in endpoints], current):
        relay_state.pin_peer_endpoints(handle, endpoints)
    InboundStore(home).forgive(card.did)
    done = records.transition(str(record["session_id"]), ("ack_sent", "aborted"), {"status": "paired", "reason": None})
    log.info("SAS pairing %s complete: paired with %s", record.get("session_id"), handle)
    return done


def _list(value: JSON) -> list[JSON]:
    return value if isinstance(value, list) else []


async def complete_from_ack(home: WireHome, event: JSONObject) -> bool:
    """Receive-pipeline hook: an ack from a SAS peer completes its session (our ack already stored)."""
    sender = event.get("from")
    for record in SasRecords(home).all():
        if record.get("peer_did") != sender:
            continue
        if not (record.get("status") == "ack_sent" or (record.get("status") == "aborted" and record.get("late_ok"))):
            continue
        try:
            verify_event(event, CardTrust([verify_card(record.get("peer_card"))]))
        except (VerificationError, CardError):
            continue
        return _complete(home, record, event) is not None
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
        record: JSONObject = {
            "session_id": session_id_for(code),
            "code": code,
            "code_hash": code_hash(code),
            "role": role,
            "relay_url": relay,
            "status": f"request_{role}",
            "created_at": now,
            "updated_at": now,
            "deadline": now + self.config.sas_timeout,
            "spake2_seed_b64": _b64(os.urandom(32)),
        }
        self.records.create(record)
        sid = str(record["session_id"])
        if detach:
            return SasStatus.from_record(record)
        return await self.drive(sid, ("sas_ready", *TERMINAL), wait_seconds)

    async def confirm(self, session: str, typed_digits: str, wait_seconds: float) -> SasStatus:
        sid = self.records.resolve_id(session)
        record = self.records.get(sid)
        status = record.get("status")
        if status == "aborted":
            raise PairingFailedError(f"pairing {sid} was aborted ({record.get('reason')})", reason="aborted")
        if status != "sas_ready":
            reason = "sas_not_ready" if status in ("request_host", "request_guest", "polling") else "already_confirmed"
            raise PairingFailedError(f"pairing {sid} is {status}, not waiting for digits", reason=reason)
        try:
            confirm_sas(str(record.get("sas")), typed_digits)
        except SasMismatchError as exc:
            await self._abort(record, "sas_mismatch", exc.message)
            raise PairingFailedError(exc.message, reason="sas_mismatch") from exc
        changes: JSONObject = {"status": "confirmed", "deadline": time.time() + self.config.finalize_timeout}
        if self.records.transition(sid, ("sas_ready",), changes) is None:
            raise PairingFailedError(f"pairing {sid} changed state meanwhile; check it", reason="already_confirmed")
        result = await self.drive(sid, TERMINAL, wait_seconds)
        if result.status == "aborted":
            detail = f": {result.detail}" if result.detail else ""
            raise PairingFailedError(f"pairing aborted ({result.reason}){detail}", reason=result.reason or "aborted")
        return result

    async def cancel(self, session: str) -> SasStatus:
        record = self.records.get(self.records.resolve_id(session))
        if record.get("status") in ACTIVE:
            record = await self._abort(record, "cancelled", "cancelled by the operator") or record
        return SasStatus.from_record(record)

    def sessions(self) -> list[SasStatus]:
        return [SasStatus.from_record(r) for r in self.records.all()]

    async def tick_all(self) -> list[SasStatus]:
        """One step for every active session (the daemon calls this); returns those that changed."""
        changed: list[SasStatus] = []
        for record in self.records.all():
            if record.get("status") not in ACTIVE:
                continue
            after = await self.step(str(record["session_id"]))
            if after.get("status") != record.get("status"):
                changed.append(SasStatus.from_record(after))
        if time.monotonic() - self._last_gc > _GC_PERIOD:
            self._last_gc = time.monotonic()
            self.records.gc()
            InviteStore(self.home).gc()
        return changed

    async def drive(self, session: str, targets: tuple[str, ...], wait_seconds: float) -> SasStatus:
        """Step at least once, then keep stepping (and pulling our slots while we wait for the peer's
        ack, when no daemon does it) until a target or terminal status, or ``wait_seconds`` passed."""
        sid = self.records.resolve_id(session)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, wait_seconds)
        while True:
            record = await self.step(sid)
            status = record.get("status")
            if status in targets or status in TERMINAL or loop.time() >= deadline:
                return SasStatus.from_record(record)
            if status == "ack_sent" and self._pull is not None and not _daemon_running(self.home):
                with contextlib.suppress(TransportError, RelayError):
                    await self._pull()
                record = self.records.get(sid)
                if record.get("status") in (*targets, *TERMINAL):
                    return SasStatus.from_record(record)
            await asyncio.sleep(self.config.poll_interval)

    # --- one step ----------------------------------------------------------------------------

    async def step(self, sid: str) -> JSONObject:
        """Advance one session by at most one transition (no-op if another driver holds it)."""
        async with self._driving(sid) as mine:
            record = self.records.get(sid)
            if not mine or record.get("status") not in ACTIVE:
                return record
            deadline = record.get("deadline")
            if isinstance(deadline, (int, float)) and time.time() > deadline:
                return await self._abort(record, "timeout", "the peer did not finish in time") or record
            try:
                return await self._advance(record) or self.records.get(sid)
            except RelayError as exc:
                if exc.status == 404 and record.get("status") in ("polling", "confirmed", "bootstrap_sent"):
                    msg = "the relay lost this pairing (restarted or expired); start again with a new code phrase"
                    return await self._abort(record, "pair_slot_lost", msg) or record
                if exc.status == 409 and str(record.get("status")).startswith("request_"):
                    return await self._abort(record, "code_in_use", exc.message) or record
                return self._note(record, exc.message)
            except TransportError as exc:
                return self._note(record, exc.message)
            except (PairingError, CardError) as exc:
                return await self._abort(record, getattr(exc, "code", "pairing_error"), exc.message) or record

    async def _advance(self, record: JSONObject) -> JSONObject | None:
        sid, status, role = str(record["session_id"]), record.get("status"), str(record["role"])
        relay = self.pool.client(str(record["relay_url"]))
        if status in ("request_host", "request_guest"):
            own = await ensure_endpoint(self.pool, self.relay_state, relay.relay_url, self.identity.handle)
            ours = next(ep for ep in own if ep.relay_url == relay.relay_url)
            pair_id = await relay.pair_open(str(record["code_hash"]), _b64(_session(record).message), role)
            changes: JSONObject = {"status": "polling", "pair_id": pair_id, "our_endpoint": ours.to_json()}
            return self.records.transition(sid, (str(status),), changes)
        if status == "polling":
            peer_msg, _ = await relay.pair_get(str(record["pair_id"]), role)
            if peer_msg is None:
                return None
            sas = compute_sas(_session(record).finish(base64.b64decode(peer_msg)))
            return self.records.transition(sid, ("polling",), {"status": "sas_ready", "peer_msg": peer_msg, "sas": sas})
        if status == "confirmed":
            mine = Endpoint.from_json(record.get("our_endpoint"))
            if mine is None:
                raise PairingError("the session lost its own slot coordinates", code="session_corrupt")
            plain = build_bootstrap_payload(self.identity.card, mine.relay_url, mine.slot_id, mine.slot_token)
            sealed = seal_bootstrap(self._aead_key(record), plain, os.urandom(12))
            await relay.pair_bootstrap(str(record["pair_id"]), role, sealed)
            return self.records.transition(sid, ("confirmed",), {"status": "bootstrap_sent"})
        if status == "bootstrap_sent":
            _, sealed_peer = await relay.pair_get(str(record["pair_id"]), role)
            if sealed_peer is None:
                return None
            payload = parse_bootstrap_payload(open_bootstrap(self._aead_key(record), sealed_peer))
            if not (payload.relay_url and payload.slot_id and payload.slot_token):
                raise PairingError("the peer's bootstrap carries no slot", code="bootstrap_no_slot")
            if payload.card.did == self.identity.did:
                raise PairingError("the bootstrap is our own (reflected)", code="bootstrap_reflected")
            peer = Endpoint(payload.relay_url.rstrip("/"), payload.slot_id, payload.slot_token, Scope.FEDERATION)
            own = advertised_endpoints(self.relay_state.self_endpoints(), include_local=False)
            our_ack = sign_pairing_event(self.identity, payload.card.did, "pair_drop_ack", KIND_ACK, coords_body(own))
            return self.records.transition(
                sid,
                ("bootstrap_sent",),
                {"status": "opened", "peer_did": payload.card.did, "peer_card": payload.card.to_json(),
                 "peer_endpoints": [peer.to_json()], "ack_event": our_ack},
            )  # fmt: skip
        if status == "opened":
            targets = [Endpoint.from_json(e) for e in _list(record.get("peer_endpoints"))]
            target, ack_event = next((ep for ep in targets if ep is not None), None), record.get("ack_event")
            if target is None or not isinstance(ack_event, dict):
                raise PairingError("the session lost the peer's coordinates", code="session_corrupt")
            await self.pool.client(target.relay_url).post_event(target, ack_event)
            moved = self.records.transition(sid, ("opened",), {"status": "ack_sent", "late_ok": True})
            record = moved if moved is not None else record
        if record.get("status") == "ack_sent":
            ack = _find_ack(self.home, record)
            if ack is not None:
                done = _complete(self.home, record, ack)
                if done is not None and self._on_pinned is not None:
                    self._on_pinned(display_handle_from_did(str(record["peer_did"])))
                await self._abandon(record)
                return done
            return record
        return None

    # --- helpers -----------------------------------------------------------------------------

    def _default_relay(self) -> str:
        own = self.relay_state.self_endpoints()
        chosen = next((ep for ep in own if ep.scope is Scope.FEDERATION), own[0] if own else None)
        if chosen is None:
            raise PairingFailedError("no relay to pair through: pass relay_url or bind a relay first", reason="no_slot")
        return chosen.relay_url

    def _aead_key(self, record: JSONObject) -> bytes:
        key = _session(record).finish(base64.b64decode(str(record["peer_msg"])))
        return bootstrap_key(key, str(record["code_hash"]))

    def _note(self, record: JSONObject, error: str) -> JSONObject:
        status = str(record.get("status"))
        return self.records.transition(str(record["session_id"]), (status,), {"last_error": error}) or record

    async def _abort(self, record: JSONObject, reason: str, detail: str) -> JSONObject | None:
        late_ok = record.get("status") == "ack_sent"
        changes: JSONObject = {"status": "aborted", "reason": reason, "last_error": detail, "late_ok": late_ok}
        done = self.records.transition(str(record["session_id"]), ACTIVE, changes)
        log.info("SAS pairing %s aborted: %s (%s)", record.get("session_id"), reason, detail)
        await self._abandon(record)
        return done

    async def _abandon(self, record: JSONObject) -> None:
        with contextlib.suppress(TransportError, RelayError):
            await self.pool.client(str(record["relay_url"])).pair_abandon(str(record["code_hash"]))

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
