# SPDX-License-Identifier: MIT
"""The exception tree of wire-client.

Every error the library raises derives from :class:`WireClientError`. Network problems are split
the way httpcore splits them: :class:`RelayUnreachable` (could not connect / connection dropped),
:class:`RelayTimeout` (no answer in time), and :class:`RelayError` (the relay answered with an
HTTP error status). aiohttp exceptions never escape; they are chained with ``raise ... from``.
"""

from __future__ import annotations

from wire_protocol import JSON

__all__ = [
    "AlreadyInitializedError",
    "AmbiguousNameError",
    "AttachRelayError",
    "CapabilityError",
    "ConsentRequiredError",
    "DaemonAlreadyRunningError",
    "DaemonError",
    "HandleClaimError",
    "HomeError",
    "IdentityMismatchError",
    "LockTimeoutError",
    "NotInitializedError",
    "PairingFailedError",
    "PeerNotFoundError",
    "PeerRefusedError",
    "RelayError",
    "RelayProtocolError",
    "RelayTimeout",
    "RelayUnreachable",
    "SessionError",
    "TransportError",
    "TrustConflictError",
    "TrustError",
    "WireClientError",
]


class WireClientError(Exception):
    """Root of every error raised by wire-client."""

    code: str = "wire_client_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HomeError(WireClientError):
    """The wire home on disk is missing, unreadable or inconsistent."""

    code = "home_error"


class LockTimeoutError(HomeError):
    """A state-file lock could not be taken in time (another process holds it)."""

    code = "lock_timeout"

    def __init__(self, message: str, *, lock_path: str) -> None:
        super().__init__(message)
        self.lock_path = lock_path


class NotInitializedError(HomeError):
    """No identity exists in this home yet."""

    code = "not_initialized"


class AlreadyInitializedError(HomeError):
    """Kept for callers that want to treat "already initialized" as an error (``init(strict=True)``)."""

    code = "already_initialized"


class IdentityMismatchError(HomeError):
    """``init`` was asked for a different handle than the identity already in this home."""

    code = "identity_mismatch"


class TrustError(WireClientError):
    """A trust-store operation was refused."""

    code = "trust_error"


class TrustConflictError(TrustError):
    """A card claims a pinned handle for another DID, or a pinned DID with another key: the operator decides."""

    code = "trust_conflict"


class PeerNotFoundError(WireClientError):
    """The peer is not pinned, or we hold no slot coordinates for it.

    ``candidates`` holds did-you-mean names (closest first) when the name looked like a typo.
    """

    code = "peer_unknown"

    def __init__(self, message: str, *, candidates: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.candidates = candidates


class PeerRefusedError(WireClientError):
    """The peer declined our pair request (a verified ``pair_reject``): nothing is sent to it until we dial again.

    ``refused_at`` is when we received the refusal (our clock); ``address`` what we dialed.
    """

    code = "peer_refused"

    def __init__(self, message: str, *, peer: str, refused_at: str, address: str | None) -> None:
        super().__init__(message)
        self.peer = peer
        self.refused_at = refused_at
        self.address = address


class PairingFailedError(WireClientError):
    """A pairing step failed; ``reason`` is a stable machine code (``sas_mismatch``, ``pair_slot_lost``, ...)."""

    code = "pairing_failed"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class AmbiguousNameError(PairingFailedError):
    """A consent gesture named more than one identity; ``candidates`` are their full DIDs."""

    code = "ambiguous_name"

    def __init__(self, message: str, *, candidates: tuple[str, ...]) -> None:
        super().__init__(message, reason="ambiguous")
        self.candidates = candidates


class ConsentRequiredError(PairingFailedError):
    """The step would pin a peer; only the operator may allow that (front-ends acting for a model ask first)."""

    code = "consent_required"

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="operator_approval_required")


class CapabilityError(WireClientError):
    """The peer's pinned card lacks a capability the caller required."""

    code = "capability_missing"


class TransportError(WireClientError):
    """The relay could not be reached or did not answer properly."""

    code = "transport_error"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class RelayUnreachable(TransportError):  # noqa: N818 - named for what happened, like httpcore's ConnectError
    """Connecting to the relay failed, or the connection dropped mid-request."""

    code = "relay_unreachable"


class RelayTimeout(TransportError):  # noqa: N818
    """The relay did not answer in time."""

    code = "relay_timeout"


class RelayProtocolError(TransportError):
    """The relay answered with something that is not what the API promises (bad JSON, wrong shape)."""

    code = "relay_protocol_error"


class RelayError(WireClientError):
    """The relay answered with an HTTP error status.

    ``status`` is the HTTP status, ``message`` the relay's ``error`` text (or the raw body), and
    ``body`` the decoded JSON body when there was one.
    """

    code = "relay_error"

    def __init__(self, status: int, message: str, body: JSON = None, *, url: str = "") -> None:
        super().__init__(f"relay answered {status}: {message}")
        self.status = status
        self.message = message
        self.body = body
        self.url = url

    @classmethod
    def from_body(cls, status: int, body: JSON, text: str, *, url: str = "") -> RelayError:
        """Build from a relay response: ``{"error": "..."}`` JSON or plain text."""
        message = text.strip() or f"HTTP {status}"
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            message = str(body["error"])
        return cls(status, message, body, url=url)


class AttachRelayError(WireClientError):
    """``attach_relay`` failed; nothing was recorded as attached unless ``endpoint_kept`` says so.

    ``reason`` is a stable code: ``bad_url``, ``unreachable``, ``tls``, ``timeout``, ``bad_answer``
    (the relay answered something that is not the API), ``refused`` (an HTTP error status),
    ``handle_taken`` / ``claim_failed`` (see :class:`HandleClaimError`).
    """

    code = "attach_relay_failed"

    def __init__(self, message: str, *, reason: str, relay_url: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.relay_url = relay_url


class HandleClaimError(AttachRelayError):
    """The slot on the relay is ours and kept (``slot_id``), but claiming our handle there failed.

    The slot works (invites, pairing by code); only ``nick@domain`` lookups do not find us.
    """

    code = "handle_claim_failed"

    def __init__(self, message: str, *, reason: str, relay_url: str, slot_id: str, newly_bound: bool) -> None:
        super().__init__(message, reason=reason, relay_url=relay_url)
        self.slot_id = slot_id
        self.newly_bound = newly_bound


class DaemonError(WireClientError):
    """The daemon cannot start or run."""

    code = "daemon_error"


class DaemonAlreadyRunningError(DaemonError):
    """Another daemon already serves this identity."""

    code = "daemon_already_running"

    def __init__(self, message: str, *, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


class SessionError(WireClientError):
    """A session operation was refused (missing session, destroy without force, ...)."""

    code = "session_error"
