# SPDX-License-Identifier: MIT
"""Liveness probes (``wire ping``): kind 100 ``{"t": "probe"|"probe_ack", "nonce": …}``, in the clear.

The receive pipeline hands every verified event to :meth:`ProbeDesk.handle`: a probe from a pinned
peer is answered at once (at most once per nonce) and an answer is recorded in
``probe-answers.jsonl``; neither lands in the inbox. :func:`ping` posts a probe and watches that
file (the daemon, or our own pulls when no daemon runs, writes it) until the answer or the timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wire_client._errors import PeerNotFoundError, WireClientError
from wire_client._home.files import append_lines, dump_line
from wire_client._home.identity import Identity
from wire_client._home.paths import WireHome, safe_peer_name
from wire_protocol import (
    EventError,
    JSONObject,
    ProbeStep,
    VerifiedEvent,
    bare_handle,
    build_probe,
    build_probe_answer,
    new_probe_nonce,
    parse_probe,
    sign_event,
)

__all__ = ["PingResult", "ProbeDesk", "ping"]

log = logging.getLogger(__name__)

#: nonces remembered per process so a replayed probe is answered once
MAX_SEEN_NONCES = 1024
#: the answers file is started afresh past this size (answers only matter for seconds)
MAX_ANSWERS_BYTES = 64 * 1024
ANSWERS_FILE = "probe-answers.jsonl"


class ProbeDesk:
    """Answers verified probes once per nonce and records verified answers for :func:`ping`."""

    def __init__(
        self, home: WireHome, identity: Identity, send: Callable[[str, JSONObject], Awaitable[object]]
    ) -> None:
        self.home = home
        self.identity = identity
        self._send = send
        self._seen: OrderedDict[str, None] = OrderedDict()

    @property
    def answers_path(self) -> Path:
        return self.home.state_dir / ANSWERS_FILE

    async def handle(self, verified: VerifiedEvent) -> bool:
        """True when ``verified`` was a probe or a probe answer (consumed: not for the inbox)."""
        probe = parse_probe(verified)
        if probe is None:
            return False
        if verified.sender_handle == self.identity.handle:
            return True
        if probe.step is ProbeStep.ANSWER:
            self._record_answer(probe.nonce, verified.sender_handle)
            return True
        key = f"{verified.sender_did}\n{probe.nonce}"
        if key in self._seen:
            return True
        self._seen[key] = None
        while len(self._seen) > MAX_SEEN_NONCES:
            self._seen.popitem(last=False)
        try:
            answer = build_probe_answer(probe, from_did=self.identity.did, timestamp=datetime.now(UTC))
            await self._send(verified.sender_handle, sign_event(answer, self.identity.key, self.identity.did))
        except (EventError, WireClientError) as exc:
            log.info("could not answer the probe from %s: %s", verified.sender_handle, exc)
        return True

    def _record_answer(self, nonce: str, peer: str) -> None:
        path = self.answers_path
        try:
            if path.exists() and path.stat().st_size > MAX_ANSWERS_BYTES:
                path.unlink()
            append_lines(path, [dump_line({"nonce": nonce, "peer": peer, "at": time.time()})], fsync=False)
        except OSError as exc:  # pragma: no cover - a full disk must not stop receiving
            log.warning("could not record a probe answer: %s", exc)

    def answered(self, nonce: str, peer: str) -> bool:
        """True when an answer from ``peer`` carrying ``nonce`` has been recorded."""
        try:
            text = self.answers_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("nonce") == nonce and record.get("peer") == peer:
                return True
        return False


@dataclass(frozen=True, slots=True)
class PingResult:
    """``alive`` with the round-trip time, or not alive with the reason (timeout, not delivered)."""

    peer: str
    alive: bool
    rtt_ms: float | None
    timeout_s: float
    reason: str | None = None

    def to_json(self) -> JSONObject:
        return {
            "peer": self.peer,
            "alive": self.alive,
            "rtt_ms": self.rtt_ms,
            "timeout_s": self.timeout_s,
            "reason": self.reason,
        }


async def ping(
    desk: ProbeDesk,
    peer: str,
    peer_did: str | None,
    *,
    post: Callable[[str, JSONObject], Awaitable[bool]],
    receive: Callable[[], Awaitable[object]] | None,
    wait_seconds: float = 5.0,
) -> PingResult:
    """Post a probe to ``peer`` and wait (bounded by ``wait_seconds``) for its daemon's answer.

    ``post`` delivers the signed probe and says whether a relay took it; ``receive`` (when no
    daemon serves this home) pulls our slots once; with a daemon the answers file is watched.
    """
    peer = safe_peer_name(bare_handle(peer))
    if peer_did is None:
        raise PeerNotFoundError(f"no pinned peer {peer!r}: pair first; see `wire peers`")
    nonce = new_probe_nonce()
    identity = desk.identity
    probe = sign_event(
        build_probe(from_did=identity.did, to=peer_did, nonce=nonce, timestamp=datetime.now(UTC)),
        identity.key,
        identity.did,
    )
    started = time.monotonic()
    if not await post(peer, probe):
        return PingResult(peer, False, None, wait_seconds, reason="the probe could not be delivered (queued)")
    deadline = started + wait_seconds
    while True:
        if receive is not None:
            await receive()
        if desk.answered(nonce, peer):
            return PingResult(peer, True, round((time.monotonic() - started) * 1000, 1), wait_seconds)
        if time.monotonic() >= deadline:
            return PingResult(peer, False, None, wait_seconds, reason=f"no answer within {wait_seconds:g} s")
        await asyncio.sleep(0.1 if receive is not None else 0.02)
