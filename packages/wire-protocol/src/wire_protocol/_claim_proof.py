# SPDX-License-Identifier: Apache-2.0
"""Claim proof: a handle claim signed by the claimed card's own key (our relay extension).

A card is public (every relay serves it), so a claim that only carries a card proves nothing: anyone
who can allocate a slot could claim somebody else's nick on a relay where it is free. The proof is an
Ed25519 signature by the card's key over the nick, the slot the claim points at, the relay's origin
and a fresh timestamp and nonce::

    {"v": 1, "nick": "alice", "slot_id": "<32 hex>", "relay": "https://relay.example",
     "ts": 1800000000, "nonce": "<32 hex>", "sig": "<base64 Ed25519 signature>"}

The signed message is ``b"wire/claim-proof/v1\\n"`` followed by the canonical JSON of the object
without ``sig``. Binding the slot id makes a replayed proof useless to anyone without that slot's
token; binding the origin keeps it on one relay; ``ts`` (checked within ``max_skew`` seconds of the
verifier's clock) and ``nonce`` keep an old proof from being replayed later. Pure: the clock and the
randomness are passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from wire_protocol._canonical import JSONObject, canonical_bytes
from wire_protocol._keys import SigningKey, b64decode_exact, b64encode, verify_signature
from wire_protocol.errors import KeyFormatError, WireError

__all__ = [
    "CLAIM_PROOF_DOMAIN",
    "CLAIM_PROOF_MAX_SKEW_SECONDS",
    "CLAIM_PROOF_VERSION",
    "ClaimProof",
    "ClaimProofError",
    "build_claim_proof",
    "claim_proof_origin",
    "verify_claim_proof",
]

CLAIM_PROOF_VERSION = 1
CLAIM_PROOF_DOMAIN = b"wire/claim-proof/v1\n"
CLAIM_PROOF_MAX_SKEW_SECONDS = 300
_NONCE_RE = re.compile(r"[0-9a-f]{32}")
_FIELDS = frozenset({"v", "nick", "slot_id", "relay", "ts", "nonce", "sig"})


class ClaimProofError(WireError, ValueError):
    """A claim proof is missing a field, malformed, stale, for another claim, or wrongly signed."""

    code = "claim_proof"


@dataclass(frozen=True, slots=True)
class ClaimProof:
    """A verified proof (what the relay stores and serves with the directory record)."""

    nick: str
    slot_id: str
    relay: str
    ts: int
    nonce: str
    sig: str

    def to_json(self) -> JSONObject:
        return {
            "v": CLAIM_PROOF_VERSION,
            "nick": self.nick,
            "slot_id": self.slot_id,
            "relay": self.relay,
            "ts": self.ts,
            "nonce": self.nonce,
            "sig": self.sig,
        }


def claim_proof_origin(url: str) -> str:
    """``scheme://host[:port]`` of a relay URL, lower-cased, default port dropped, no path.

    Raises :class:`ClaimProofError` for anything but an ``http(s)`` URL with a host.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ClaimProofError(f"relay origin is not a URL: {exc}") from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        raise ClaimProofError("relay origin must be an http(s) URL with a host")
    if ":" in host:
        host = f"[{host}]"
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _message(nick: str, slot_id: str, relay: str, ts: int, nonce: str) -> bytes:
    unsigned = {"v": CLAIM_PROOF_VERSION, "nick": nick, "slot_id": slot_id, "relay": relay, "ts": ts, "nonce": nonce}
    return CLAIM_PROOF_DOMAIN + canonical_bytes(unsigned, strict=False)


def build_claim_proof(key: SigningKey, *, nick: str, slot_id: str, relay_url: str, now: int, nonce: str) -> JSONObject:
    """The proof object a client puts in the claim body's ``proof`` field.

    ``now`` is Unix seconds; ``nonce`` is 32 lowercase hex characters of fresh randomness
    (``secrets.token_hex(16)``)."""
    if not _NONCE_RE.fullmatch(nonce):
        raise ClaimProofError("nonce must be 32 lowercase hex characters")
    relay = claim_proof_origin(relay_url)
    sig = b64encode(key.sign(_message(nick, slot_id, relay, now, nonce)))
    return ClaimProof(nick=nick, slot_id=slot_id, relay=relay, ts=now, nonce=nonce, sig=sig).to_json()


def verify_claim_proof(
    proof: object,
    *,
    public_key: bytes,
    nick: str,
    slot_id: str,
    relay_url: str,
    now: float,
    max_skew: float = CLAIM_PROOF_MAX_SKEW_SECONDS,
) -> ClaimProof:
    """Check ``proof`` for this claim (nick, slot, relay) at time ``now``, signed by ``public_key``.

    Raises :class:`ClaimProofError` with the reason; returns the verified :class:`ClaimProof`.
    """
    if not isinstance(proof, dict):
        raise ClaimProofError("proof must be an object")
    if set(proof) != _FIELDS:
        raise ClaimProofError(f"proof must have exactly the fields {sorted(_FIELDS)}")
    version, ts, nonce, sig = proof["v"], proof["ts"], proof["nonce"], proof["sig"]
    if version != CLAIM_PROOF_VERSION or isinstance(version, bool):
        raise ClaimProofError(f"unsupported proof version {version!r}")
    if proof["nick"] != nick:
        raise ClaimProofError("proof is for another nick")
    if proof["slot_id"] != slot_id:
        raise ClaimProofError("proof is for another slot")
    if proof["relay"] != claim_proof_origin(relay_url):
        raise ClaimProofError(f"proof is for another relay (this one is {claim_proof_origin(relay_url)})")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise ClaimProofError("proof ts must be an integer (Unix seconds)")
    if abs(now - ts) > max_skew:
        raise ClaimProofError(f"proof is not fresh: ts must be within {max_skew:g}s of the relay's clock")
    if not isinstance(nonce, str) or not _NONCE_RE.fullmatch(nonce):
        raise ClaimProofError("proof nonce must be 32 lowercase hex characters")
    try:
        signature = b64decode_exact(sig, 64, what="proof sig")
    except KeyFormatError as exc:
        raise ClaimProofError(exc.message) from exc
    if not verify_signature(public_key, signature, _message(nick, slot_id, proof["relay"], ts, nonce)):
        raise ClaimProofError("proof signature does not verify with the card's key")
    return ClaimProof(nick=nick, slot_id=slot_id, relay=proof["relay"], ts=ts, nonce=nonce, sig=str(sig))
