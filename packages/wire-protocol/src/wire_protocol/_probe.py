# SPDX-License-Identifier: Apache-2.0
"""Liveness probes (``wire ping``) as the reference v0.16 sends them: kind 100 (heartbeat), body
``{"t": "probe" | "probe_ack", "nonce": …}``. Always in the clear; the answer echoes the nonce.

Building and recognising probes is pure; sending, waiting and timing belong to the client.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wire_protocol._canonical import JSONObject
from wire_protocol._events import Kind, VerifiedEvent, build_event
from wire_protocol.errors import EventError

__all__ = [
    "MAX_PROBE_NONCE_CHARS",
    "PROBE_TYPE",
    "Probe",
    "ProbeStep",
    "build_probe",
    "build_probe_answer",
    "new_probe_nonce",
    "parse_probe",
]

PROBE_TYPE = "heartbeat"
MAX_PROBE_NONCE_CHARS = 128


class ProbeStep(enum.StrEnum):
    PROBE = "probe"
    ANSWER = "probe_ack"


@dataclass(frozen=True, slots=True)
class Probe:
    """A recognised probe or probe answer: who sent it and the nonce to match."""

    step: ProbeStep
    nonce: str
    sender_did: str


def new_probe_nonce(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """16 random bytes as 32 lowercase hex characters."""
    return random_bytes(16).hex()


def _probe_event(step: ProbeStep, *, from_did: str, to: str, nonce: str, timestamp: datetime) -> JSONObject:
    if not _nonce_ok(nonce):
        raise EventError(f"a probe nonce must be 1 to {MAX_PROBE_NONCE_CHARS} printable ASCII characters")
    return build_event(
        from_did=from_did,
        to=to,
        type=PROBE_TYPE,
        kind=int(Kind.HEARTBEAT),
        body={"t": step.value, "nonce": nonce},
        timestamp=timestamp,
    )


def build_probe(*, from_did: str, to: str, nonce: str, timestamp: datetime) -> JSONObject:
    """An unsigned probe to ``to``; sign it and post it to the peer's slot, then wait for the answer."""
    return _probe_event(ProbeStep.PROBE, from_did=from_did, to=to, nonce=nonce, timestamp=timestamp)


def build_probe_answer(probe: Probe, *, from_did: str, timestamp: datetime) -> JSONObject:
    """The unsigned answer to ``probe`` (addressed to its sender, same nonce)."""
    if probe.step is not ProbeStep.PROBE:
        raise EventError("only a probe is answered, never an answer")
    return _probe_event(
        ProbeStep.ANSWER, from_did=from_did, to=probe.sender_did, nonce=probe.nonce, timestamp=timestamp
    )


def parse_probe(event: VerifiedEvent | Mapping[str, object]) -> Probe | None:
    """The probe in a *verified* event, or ``None`` when the event is not a well-formed probe.

    Only kind 100 with body ``{"t": "probe"|"probe_ack", "nonce": <printable string>}`` counts; the
    ``type`` is not required to be ``heartbeat``. Answer only verified probes, at most once per nonce.
    """
    data: Mapping[str, object] = event.data if isinstance(event, VerifiedEvent) else event
    kind = data.get("kind")
    body = data.get("body")
    sender = data.get("from")
    if type(kind) is not int or kind != Kind.HEARTBEAT:  # not 100.0, not True
        return None
    if not isinstance(body, dict) or not isinstance(sender, str):
        return None
    if "enc" in data:
        return None
    step, nonce = body.get("t"), body.get("nonce")
    if step not in (ProbeStep.PROBE.value, ProbeStep.ANSWER.value) or not isinstance(nonce, str):
        return None
    if not _nonce_ok(nonce):
        return None
    return Probe(step=ProbeStep(step), nonce=nonce, sender_did=sender)


def _nonce_ok(nonce: str) -> bool:
    return 0 < len(nonce) <= MAX_PROBE_NONCE_CHARS and nonce.isascii() and nonce.isprintable()
