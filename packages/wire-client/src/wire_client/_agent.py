# SPDX-License-Identifier: MIT
"""The high-level async API for embedders: one object per identity.

async with await wire_client.open_home("/path/to/home") as agent:
    result = await agent.send("bob", "hi")
    async for event in agent.events():
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self

from wire_client._attach import attach_errors, checked_attach_url, checked_slot
from wire_client._errors import DaemonAlreadyRunningError, HandleClaimError, RelayError, WireClientError
from wire_client._home.dials import REFUSED, Refusal, peer_state, refusal_in_force
from wire_client._home.endpoints import Endpoint, RelayStateStore, Scope
from wire_client._home.identity import Identity, InitResult
from wire_client._home.mailbox import EventLog, InboxEvent
from wire_client._home.paths import WireHome
from wire_client._home.pidfile import DaemonLock, daemon_status
from wire_client._home.trust import PinResult, TrustStore
from wire_client._messaging.hook import PairingHandler
from wire_client._messaging.probes import PingResult, ProbeDesk, ping
from wire_client._messaging.receive import Puller, PullReport
from wire_client._messaging.receiver import Receiver
from wire_client._messaging.send import Sender, SendResult
from wire_client._pairing.deposits import DeliveryTokens, RevokeResult
from wire_client._pairing.handler import WirePairingHandler
from wire_client._pairing.parts import PairingParts
from wire_client._relay.client import RelayClient, RelayPool, Transport
from wire_protocol import (
    HANDSHAKE_TYPES,
    JSON,
    AgentCard,
    Character,
    EventType,
    JSONObject,
    Tier,
    bare_handle,
    character_for,
    display_handle_from_did,
)

if TYPE_CHECKING:
    from wire_client._pairing.api import Pairing

# The pairing verbs load on first use: a one-shot `wire send` to a pinned peer never needs them.

__all__ = ["PeerInfo", "RelayAttachment", "WireAgent", "open_home"]

#: inbox event types that are pairing machinery, not messages (``events()`` skips them by default)
_NOT_MESSAGES = HANDSHAKE_TYPES | {EventType.WIRE_CLOSE}


@dataclass(frozen=True, slots=True)
class RelayAttachment:
    """The outcome of :meth:`WireAgent.attach_relay` (no token: safe to show to agents and operators)."""

    endpoint: Endpoint
    newly_bound: bool
    claimed: bool

    def to_json(self) -> JSONObject:
        return {
            "relay_url": self.endpoint.relay_url,
            "slot_id": self.endpoint.slot_id,
            "newly_bound": self.newly_bound,
            "claimed": self.claimed,
        }


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """A pinned peer as front-ends show it (tokens never included)."""

    handle: str
    did: str
    tier: Tier
    endpoints: tuple[Endpoint, ...]
    character: Character
    refusal: Refusal | None = None

    @property
    def reachable(self) -> bool:
        return any(ep.is_ready for ep in self.endpoints)

    @property
    def state(self) -> str:
        """The one state front-ends show: ``REFUSED``, ``PENDING_ACK`` or the trust tier (see ``peer_state``)."""
        return peer_state(self.tier.name, self.endpoints, self.refusal)

    def to_json(self) -> JSONObject:
        data: JSONObject = {
            "handle": self.handle,
            "did": self.did,
            "tier": self.tier.name,
            "state": self.state,
            "reachable": self.reachable,
            "endpoints": [ep.redacted() for ep in self.endpoints],
            "character": {"nickname": self.character.nickname, "emoji": self.character.emoji},
        }
        if self.refusal is not None and self.state == REFUSED:
            data["refused_at"] = self.refusal.refused_at
            data["note"] = self.refusal.text()
        return data


async def open_home(
    path: str | os.PathLike[str] | None = None,
    *,
    handle: str | None = None,
    pairing_handler: PairingHandler | None = None,
    transport: Transport = "aiohttp",
) -> WireAgent:
    """Open the identity at ``path`` (a ``WIRE_HOME`` root; default: ``WIRE_HOME`` or the platform dirs).

    With ``handle`` the identity is created when missing (same handle: no-op; other: error).
    ``transport="oneshot"`` suits short-lived processes (see :class:`WireAgent`).
    """
    home = WireHome.at(path) if path is not None else WireHome.from_env()
    if handle is not None:
        identity, _ = Identity.create(home, handle)
    else:
        identity = Identity.load(home)
    return WireAgent(home, identity, pairing_handler=pairing_handler, transport=transport)


class WireAgent:
    """Identity + trust + relays + mailboxes of one home, with the verbs an agent needs.

    ``transport`` picks how relay requests travel: ``"aiohttp"`` (default; pooled connections, for
    daemons, MCP servers and anything long-lived) or ``"oneshot"`` (stdlib, a connection per request,
    no aiohttp import: for a process that sends once and exits, like ``wire send``). Same routes,
    verdicts and errors either way; receiving streams always use aiohttp.
    """

    def __init__(
        self,
        home: WireHome,
        identity: Identity,
        *,
        pairing_handler: PairingHandler | None = None,
        transport: Transport = "aiohttp",
    ) -> None:
        self.home = home
        self.identity = identity
        self.pool = RelayPool(transport=transport)
        self.trust = TrustStore(home)
        self.relay_state = RelayStateStore(home)
        self.sender = Sender(home, identity, self.pool)
        handler = pairing_handler if pairing_handler is not None else WirePairingHandler(self.sender)
        self.probes = ProbeDesk(home, identity, self.sender.send_signed)
        self.puller = Puller(home, identity, self.pool, pairing_handler=handler, probes=self.probes)
        self.parts = PairingParts(home, identity, self.trust, self.relay_state, self.pool, self.sender, self.puller)
        self.inbox = EventLog(home.inbox_dir)
        self._receiver_task: asyncio.Task[None] | None = None
        self._pairing: Pairing | None = None

    @property
    def pairing(self) -> Pairing:
        """Pairing and federation verbs (dial, accept, invites, SAS, local mesh); see PAIRING.md."""
        if self._pairing is None:
            from wire_client._pairing.api import Pairing

            self._pairing = Pairing(self.parts)
        return self._pairing

    @classmethod
    def init(cls, home: WireHome, handle: str) -> tuple[WireAgent, InitResult]:
        identity, result = Identity.create(home, handle)
        return cls(home, identity), result

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.stop_receiving()
        await self.puller.acks.flush()
        await self.pool.close()

    # --- who we are ----------------------------------------------------------------------------

    @property
    def did(self) -> str:
        return self.identity.did

    @property
    def handle(self) -> str:
        return self.identity.handle

    @property
    def card(self) -> AgentCard:
        return self.identity.card

    def endpoints(self) -> list[Endpoint]:
        return self.relay_state.self_endpoints()

    async def bind_relay(self, relay_url: str, *, scope: Scope = Scope.FEDERATION) -> Endpoint:
        """Allocate a slot on ``relay_url`` and add it to our endpoints (additive: existing slots stay)."""
        endpoint = await self.pool.client(relay_url).allocate_slot(scope=scope, handle=self.handle)
        self.relay_state.add_self_endpoint(endpoint)
        return endpoint

    async def attach_relay(self, relay_url: str, *, claim: bool = True) -> RelayAttachment:
        """Get on the line at ``relay_url``: reuse or allocate our slot there, then claim our handle.

        What ``wire init --relay`` and the MCP ``wire_init`` both do. Every failure raises
        :class:`AttachRelayError` with a stable ``reason`` (bad URL, unreachable, TLS, timeout, an
        answer that is not the relay API, an HTTP refusal); nothing is recorded before the relay
        handed us a well-formed slot. A failed claim (nick taken, reserved, no directory) raises
        :class:`HandleClaimError`: the slot it names is ours and kept (it works without the claim).
        """
        url = checked_attach_url(relay_url)
        endpoint = next((ep for ep in self.endpoints() if ep.relay_url == url), None)
        newly_bound = endpoint is None
        if endpoint is None:
            with attach_errors(url, "allocating a slot"):
                allocated = await self.pool.client(url).allocate_slot(handle=self.handle)
            endpoint = checked_slot(allocated)
            self.relay_state.add_self_endpoint(endpoint)
        if not claim:
            return RelayAttachment(endpoint=endpoint, newly_bound=newly_bound, claimed=False)
        try:
            await self.pool.client(url).claim_handle(self.handle, endpoint, self.card.to_json(), key=self.identity.key)
        except WireClientError as exc:
            taken = isinstance(exc, RelayError) and exc.status == 409
            raise HandleClaimError(
                f"got a slot on {url} but could not claim the handle {self.handle!r} there: {exc.message}",
                reason="handle_taken" if taken else "claim_failed",
                relay_url=url,
                slot_id=endpoint.slot_id,
                newly_bound=newly_bound,
            ) from exc
        return RelayAttachment(endpoint=endpoint, newly_bound=newly_bound, claimed=True)

    async def republish_card(self) -> list[str]:
        """Re-claim our handle with the current card wherever it is claimed to one of our slots.

        Directories serve the card from the last claim, so a profile edit is invisible to peers
        resolving ``nick@domain`` until it is republished. Returns the relay URLs updated; relays
        that are unreachable, have no directory or hold no claim of ours are skipped.
        """
        updated: list[str] = []
        for endpoint in self.endpoints():
            client = self.pool.client(endpoint.relay_url)
            try:
                record = await client.resolve_handle(self.handle)
                if record.get("did") != self.did or record.get("slot_id") != endpoint.slot_id:
                    continue
                public_url = record.get("relay_url")
                await client.claim_handle(
                    self.handle,
                    endpoint,
                    self.card.to_json(),
                    key=self.identity.key,
                    public_url=public_url if isinstance(public_url, str) else None,
                )
            except WireClientError:
                continue
            updated.append(endpoint.relay_url)
        return updated

    async def claim(
        self, nick: str | None = None, *, public_url: str | None = None, discoverable: bool | None = None
    ) -> JSONObject:
        """Claim ``nick`` (default: our handle) in our federation relay's directory."""
        endpoint = self._primary(Scope.FEDERATION)
        return await self.pool.client(endpoint.relay_url).claim_handle(
            nick or self.handle,
            endpoint,
            self.card.to_json(),
            key=self.identity.key,
            public_url=public_url,
            discoverable=discoverable,
        )

    def _primary(self, scope: Scope) -> Endpoint:
        endpoints = self.endpoints()
        chosen = next((ep for ep in endpoints if ep.scope is scope), endpoints[0] if endpoints else None)
        if chosen is None:
            raise WireClientError("this identity has no relay slot yet; bind a relay first")
        return chosen

    def relay(self, relay_url: str) -> RelayClient:
        return self.pool.client(relay_url)

    # --- peers ---------------------------------------------------------------------------------

    def pin(self, card: AgentCard | Mapping[str, JSON], tier: Tier = Tier.VERIFIED) -> PinResult:
        """Pin a peer's card, then release any of its events that were held waiting for the pin."""
        return self.parts.pin(card, tier)

    def add_peer(
        self, card: AgentCard | Mapping[str, JSON], endpoints: list[Endpoint], tier: Tier = Tier.VERIFIED
    ) -> PinResult:
        """Manual pairing: pin the card and record where the peer can be reached."""
        result = self.pin(card, tier)
        self.relay_state.pin_peer_endpoints(result.handle, endpoints)
        return result

    def forget(self, handle: str) -> bool:
        return self.parts.forget(handle)

    async def revoke_delivery_token(self, peer_did: str) -> RevokeResult:
        """Revoke the write-only deposit tokens of our slots that pairing handed ``peer_did``.

        Call it when unpairing (before or after :meth:`forget`): the peer can no longer post to us.
        Revocations that fail (relay unreachable) are kept and retried by the next call."""
        return await DeliveryTokens(self.home, self.pool).revoke(peer_did)

    def peers(self) -> list[PeerInfo]:
        """Pinned peers (self excluded), sorted by handle."""
        slots = self.relay_state.peers()
        result = []
        for handle, record in sorted(self.trust.agents().items()):
            if record.did == self.did:
                continue
            result.append(
                PeerInfo(
                    handle=handle,
                    did=record.did,
                    tier=record.tier,
                    endpoints=tuple(slots.get(handle, [])),
                    character=character_for(record.did or None),
                    refusal=refusal_in_force(self.home, handle, slots.get(handle, [])),
                )
            )
        return result

    def refusal(self, handle: str) -> Refusal | None:
        """Why ``handle`` gets nothing from us: it declined our pair request and gave us no slot since."""
        return refusal_in_force(self.home, handle, self.relay_state.peer_endpoints(handle))

    # --- messaging -----------------------------------------------------------------------------

    async def send(
        self,
        peer: str,
        body: JSON,
        *,
        type: str = "claim",
        kind: int | None = None,
        deadline: datetime | timedelta | str | None = None,
        check_cap: str | None = None,
        cap_policy: Literal["refuse", "warn"] = "refuse",
        queue_only: bool = False,
        repeat: bool = False,
    ) -> SendResult:
        """Sign and deliver now; the result says ``delivered``, ``duplicate`` or ``queued`` (with the reason).

        Sending the same ``type`` and ``body`` (and ``deadline``) to the same peer again within ten minutes is
        an exact retry: nothing new goes out and the result is the earlier event as ``duplicate``
        (docs/PROTOCOL.md §6.6). ``repeat=True`` sends a second, distinct event.

        An unpaired local sister session is paired first (same-uid disk read); an unknown name raises
        :class:`PeerNotFoundError` carrying did-you-mean ``candidates``.
        """
        return await self.pairing.send(
            peer,
            body,
            type=type,
            kind=kind,
            time_sensitive_until=deadline,
            check_cap=check_cap,
            cap_policy=cap_policy,
            queue_only=queue_only,
            repeat=repeat,
        )

    async def ping(self, peer: str, *, wait_seconds: float = 5.0) -> PingResult:
        """Probe ``peer`` (kind 100, in the clear) and wait for its daemon's answer: alive + round trip.

        Without a daemon serving this home, our own slots are pulled while waiting.
        """
        handle = display_handle_from_did(bare_handle(peer))
        record = self.trust.get(handle)

        async def post(name: str, event: JSONObject) -> bool:
            return (await self.sender.send_signed(name, event)).delivered

        status = daemon_status(self.home)
        receive = None if status is not None and status.running else self.pull
        return await ping(
            self.probes, handle, record.did if record else None, post=post, receive=receive, wait_seconds=wait_seconds
        )

    async def send_many(
        self, peer: str, bodies: Sequence[JSON], *, type: str = "claim", kind: int | None = None
    ) -> list[SendResult]:
        """Send a burst to one paired peer, in order: queued durably with one fsync, then pushed in
        batch posts (one POST each on a relay without ``batch``). One verdict per body, in order."""
        return await self.sender.send_many(peer, bodies, type=type, kind=kind)

    async def push(self, peer: str | None = None) -> list[SendResult]:
        """Deliver what is queued in the outbox."""
        return await self.sender.push(peer)

    async def pull(self) -> list[PullReport]:
        """Fetch, verify and inbox everything new on all our endpoints."""
        return await self.puller.pull()

    def read_inbox(self, peer: str) -> list[InboxEvent]:
        return [InboxEvent(peer=peer, event=e) for e in self.inbox.read(display_handle_from_did(peer))]

    async def events(
        self, *, from_start: bool = False, receive: bool | None = None, include_handshakes: bool = False
    ) -> AsyncIterator[InboxEvent]:
        """Yield messages as they arrive (written by this process, the daemon, or anyone else).

        ``receive=None`` starts an in-process receiver when no daemon serves this home; it holds the
        daemon lock (a daemon started meanwhile refuses instead of racing us) and runs until
        :meth:`close`. ``receive=False`` only watches the inbox files. Pairing handshakes
        (``pair_drop``, ``pair_drop_ack``, ``wire_close``: they carry slot coordinates, tokens
        included) and heartbeats are skipped unless ``include_handshakes`` is set.
        """
        if receive is None:
            status = daemon_status(self.home)
            receive = status is None or not status.running
        if receive:
            await self.start_receiving()
        async for peer, event in self.inbox.tail(from_start=from_start):
            if include_handshakes or event.get("type") not in _NOT_MESSAGES:
                yield InboxEvent(peer=peer, event=event)

    async def start_receiving(self) -> bool:
        """Run the receiver (streams + outbox push) in this process until :meth:`close`; False if a daemon runs."""
        if self._receiver_task is not None and not self._receiver_task.done():
            return True
        lock = DaemonLock(self.home)
        endpoints = self.endpoints()
        try:
            lock.acquire(did=self.did, relay_url=endpoints[0].relay_url if endpoints else None)
        except DaemonAlreadyRunningError:
            return False
        receiver = Receiver(self.puller, self.sender, ticker=self.pairing.pair_tick)

        async def run() -> None:
            try:
                await receiver.run()
            finally:
                lock.release()

        self._receiver_task = asyncio.create_task(run(), name="wire-embedded-receiver")
        return True

    async def stop_receiving(self) -> None:
        task, self._receiver_task = self._receiver_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
