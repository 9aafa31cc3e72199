# SPDX-License-Identifier: Apache-2.0
"""The exception tree of wire-protocol.

Every error the package raises derives from :class:`WireError`. Errors that describe bad input
also derive from :class:`ValueError`, so generic callers can catch them the usual way. Each error
carries a short machine-readable ``code`` (stable, used in JSON output and relay error bodies)
next to its human message.
"""

from __future__ import annotations

__all__ = [
    "CanonicalizationError",
    "CardError",
    "EventError",
    "HandleError",
    "InviteError",
    "InviteExpiredError",
    "KeyFormatError",
    "PairingError",
    "SasMismatchError",
    "SealError",
    "SealTooLargeError",
    "SealedFormatError",
    "SealedMacError",
    "SealedPaddingError",
    "SealedPlaintextError",
    "SealedRecipientError",
    "SealedSenderError",
    "SealingKeyError",
    "UnsupportedSealError",
    "VerificationError",
    "WireError",
]


class WireError(Exception):
    """Root of every error raised by wire-protocol."""

    code: str = "wire_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class CanonicalizationError(WireError, ValueError):
    """A value cannot be put in canonical form (float in signed content, integer out of range, ...)."""

    code = "canonicalization"


class KeyFormatError(WireError, ValueError):
    """A key, seed or signature has the wrong encoding or length."""

    code = "key_format"


class HandleError(WireError, ValueError):
    """A handle, nick, domain or DID is malformed."""

    code = "invalid_handle"


class CardError(WireError, ValueError):
    """An agent-card is malformed or its signature does not verify."""

    code = "invalid_card"


class EventError(WireError, ValueError):
    """An event cannot be built or is structurally malformed."""

    code = "invalid_event"


class VerificationError(WireError, ValueError):
    """A signed event failed verification.

    ``transient`` is True when a later change of local trust could make the same event verify
    (the signer is not pinned yet, or the key id is unknown); such an event must not be dropped
    for good. Terminal failures (tampered content, bad signature) can never succeed.
    """

    code = "verification_failed"

    def __init__(self, message: str, *, code: str, transient: bool) -> None:
        super().__init__(message, code=code)
        self.transient = transient


class PairingError(WireError, ValueError):
    """Pairing input is malformed: code phrase, SPAKE2 message, sealed bootstrap."""

    code = "pairing"


class SasMismatchError(PairingError):
    """The digits typed by the operator do not match the short authentication string."""

    code = "sas_mismatch"


class InviteError(WireError, ValueError):
    """An invite URL is malformed or its signature does not verify."""

    code = "invalid_invite"


class InviteExpiredError(InviteError):
    """An invite URL is past its expiry time."""

    code = "invite_expired"


class SealError(WireError, ValueError):
    """A body cannot be sealed, or a sealed body cannot be opened (wire-x25519.v1).

    Callers that only need "readable or not" catch this class; the subclasses say why, for logs
    and for the operator. None of them carries key material or plaintext.
    """

    code = "seal_failed"


class SealTooLargeError(SealError):
    """The body's JSON text is empty or longer than a sealed body may be (1..65,535 bytes)."""

    code = "sealed_body_too_large"


class SealingKeyError(SealError):
    """A ``dh_pubkey`` is missing, malformed, low-order, or not the one the card's Ed25519 key implies."""

    code = "bad_dh_pubkey"


class UnsupportedSealError(SealError):
    """The event uses an encryption scheme or payload version this implementation does not know."""

    code = "sealed_unsupported"


class SealedFormatError(SealError):
    """The sealed event or its payload is malformed (shape, base64, length)."""

    code = "sealed_malformed"


class SealedRecipientError(SealError):
    """The sealed event is addressed to somebody else: ``to`` is not our DID. Checked before any crypto."""

    code = "sealed_wrong_recipient"


class SealedSenderError(SealError):
    """The card given for the sender is not the card of the event's ``from``."""

    code = "sealed_wrong_sender"


class SealedMacError(SealError):
    """The MAC does not match: tampered ciphertext, other from/to, or sealed to a different key."""

    code = "sealed_bad_mac"


class SealedPaddingError(SealError):
    """The decrypted buffer's length prefix or padding is wrong (padding bytes must be zero)."""

    code = "sealed_bad_padding"


class SealedPlaintextError(SealError):
    """The decrypted plaintext is not UTF-8 JSON."""

    code = "sealed_bad_plaintext"
