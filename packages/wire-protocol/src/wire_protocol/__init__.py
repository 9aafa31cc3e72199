# SPDX-License-Identifier: Apache-2.0
"""wire-protocol: the sans-IO core of wire.

Canonical JSON, Ed25519 identities and DIDs, agent-cards, signed events, kinds, handles, pairing
math (code phrases, SPAKE2, SAS, sealed bootstrap), invite URLs, the A2A card projection, the
agent's character, sealed bodies (wire-x25519.v1) and liveness probes. Nothing here touches the
network, the file system or the clock: time and randomness are passed in.

Names load on first use (PEP 562): a verb that needs canonical JSON or a character never pays
for the sealing, pairing or A2A code (or the parts of ``cryptography`` they pull in).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wire_protocol.__about__ import __version__ as __version__
    from wire_protocol._a2a import A2A_CARD_VERSION as A2A_CARD_VERSION
    from wire_protocol._a2a import A2AResolution as A2AResolution
    from wire_protocol._a2a import DirectoryRecord as DirectoryRecord
    from wire_protocol._a2a import a2a_card_for_claim as a2a_card_for_claim
    from wire_protocol._a2a import a2a_endpoint as a2a_endpoint
    from wire_protocol._a2a import a2a_interface_url as a2a_interface_url
    from wire_protocol._a2a import parse_a2a_card as parse_a2a_card
    from wire_protocol._canonical import JSON as JSON
    from wire_protocol._canonical import JSONObject as JSONObject
    from wire_protocol._canonical import canonical_bytes as canonical_bytes
    from wire_protocol._canonical import compact_json as compact_json
    from wire_protocol._canonical import loads as loads
    from wire_protocol._card import CARD_SCHEMA_VERSION as CARD_SCHEMA_VERSION
    from wire_protocol._card import DEFAULT_CAPABILITIES as DEFAULT_CAPABILITIES
    from wire_protocol._card import PROFILE_FIELDS as PROFILE_FIELDS
    from wire_protocol._card import PROFILE_SCHEMA_VERSION as PROFILE_SCHEMA_VERSION
    from wire_protocol._card import AgentCard as AgentCard
    from wire_protocol._card import build_agent_card as build_agent_card
    from wire_protocol._card import card_canonical as card_canonical
    from wire_protocol._card import sign_card as sign_card
    from wire_protocol._card import verify_card as verify_card
    from wire_protocol._card import with_profile_field as with_profile_field
    from wire_protocol._character import UNKNOWN_CHARACTER as UNKNOWN_CHARACTER
    from wire_protocol._character import Character as Character
    from wire_protocol._character import Palette as Palette
    from wire_protocol._character import character_for as character_for
    from wire_protocol._character import character_from_did as character_from_did
    from wire_protocol._character import sanitize_display_text as sanitize_display_text
    from wire_protocol._character import terminal_supports_emoji as terminal_supports_emoji
    from wire_protocol._claim_proof import CLAIM_PROOF_DOMAIN as CLAIM_PROOF_DOMAIN
    from wire_protocol._claim_proof import CLAIM_PROOF_MAX_SKEW_SECONDS as CLAIM_PROOF_MAX_SKEW_SECONDS
    from wire_protocol._claim_proof import CLAIM_PROOF_VERSION as CLAIM_PROOF_VERSION
    from wire_protocol._claim_proof import ClaimProof as ClaimProof
    from wire_protocol._claim_proof import ClaimProofError as ClaimProofError
    from wire_protocol._claim_proof import build_claim_proof as build_claim_proof
    from wire_protocol._claim_proof import claim_proof_origin as claim_proof_origin
    from wire_protocol._claim_proof import verify_claim_proof as verify_claim_proof
    from wire_protocol._events import EVENT_SCHEMA_VERSION as EVENT_SCHEMA_VERSION
    from wire_protocol._events import HANDSHAKE_TYPES as HANDSHAKE_TYPES
    from wire_protocol._events import KIND_NAMES as KIND_NAMES
    from wire_protocol._events import KINDS as KINDS
    from wire_protocol._events import PAIRING_KINDS as PAIRING_KINDS
    from wire_protocol._events import SUPPORTED_SCHEMA_MAJOR as SUPPORTED_SCHEMA_MAJOR
    from wire_protocol._events import CardTrust as CardTrust
    from wire_protocol._events import EventType as EventType
    from wire_protocol._events import Kind as Kind
    from wire_protocol._events import KindClass as KindClass
    from wire_protocol._events import TrustedKey as TrustedKey
    from wire_protocol._events import TrustLookup as TrustLookup
    from wire_protocol._events import VerifiedEvent as VerifiedEvent
    from wire_protocol._events import build_event as build_event
    from wire_protocol._events import check_schema_version as check_schema_version
    from wire_protocol._events import compute_event_id as compute_event_id
    from wire_protocol._events import format_timestamp as format_timestamp
    from wire_protocol._events import is_known_kind as is_known_kind
    from wire_protocol._events import kind_class as kind_class
    from wire_protocol._events import kind_for_name as kind_for_name
    from wire_protocol._events import parse_timestamp as parse_timestamp
    from wire_protocol._events import sign_event as sign_event
    from wire_protocol._events import verify_event as verify_event
    from wire_protocol._handles import DID_PREFIX as DID_PREFIX
    from wire_protocol._handles import RESERVED_NICKS as RESERVED_NICKS
    from wire_protocol._handles import WireAddress as WireAddress
    from wire_protocol._handles import bare_handle as bare_handle
    from wire_protocol._handles import did_for as did_for
    from wire_protocol._handles import did_matches_key as did_matches_key
    from wire_protocol._handles import display_handle_from_did as display_handle_from_did
    from wire_protocol._handles import is_valid_domain as is_valid_domain
    from wire_protocol._handles import is_valid_nick as is_valid_nick
    from wire_protocol._handles import nick_syntax_ok as nick_syntax_ok
    from wire_protocol._handles import parse_address as parse_address
    from wire_protocol._handles import relay_url_for_domain as relay_url_for_domain
    from wire_protocol._handles import validate_handle as validate_handle
    from wire_protocol._invite import INVITE_URL_PREFIX as INVITE_URL_PREFIX
    from wire_protocol._invite import INVITE_VERSION as INVITE_VERSION
    from wire_protocol._invite import Invite as Invite
    from wire_protocol._invite import mint_invite as mint_invite
    from wire_protocol._invite import new_invite_nonce as new_invite_nonce
    from wire_protocol._invite import parse_invite as parse_invite
    from wire_protocol._keys import SigningKey as SigningKey
    from wire_protocol._keys import b64decode_exact as b64decode_exact
    from wire_protocol._keys import b64encode as b64encode
    from wire_protocol._keys import fingerprint as fingerprint
    from wire_protocol._keys import make_key_id as make_key_id
    from wire_protocol._keys import verify_signature as verify_signature
    from wire_protocol._pairing import BOOTSTRAP_NONCE_BYTES as BOOTSTRAP_NONCE_BYTES
    from wire_protocol._pairing import CODE_ALPHABET as CODE_ALPHABET
    from wire_protocol._pairing import SPAKE2_MESSAGE_BYTES as SPAKE2_MESSAGE_BYTES
    from wire_protocol._pairing import BootstrapPayload as BootstrapPayload
    from wire_protocol._pairing import Spake2Session as Spake2Session
    from wire_protocol._pairing import bootstrap_key as bootstrap_key
    from wire_protocol._pairing import build_bootstrap_payload as build_bootstrap_payload
    from wire_protocol._pairing import code_hash as code_hash
    from wire_protocol._pairing import compute_sas as compute_sas
    from wire_protocol._pairing import confirm_sas as confirm_sas
    from wire_protocol._pairing import format_sas as format_sas
    from wire_protocol._pairing import generate_code_phrase as generate_code_phrase
    from wire_protocol._pairing import open_bootstrap as open_bootstrap
    from wire_protocol._pairing import parse_bootstrap_payload as parse_bootstrap_payload
    from wire_protocol._pairing import parse_code_phrase as parse_code_phrase
    from wire_protocol._pairing import seal_bootstrap as seal_bootstrap
    from wire_protocol._probe import MAX_PROBE_NONCE_CHARS as MAX_PROBE_NONCE_CHARS
    from wire_protocol._probe import PROBE_TYPE as PROBE_TYPE
    from wire_protocol._probe import Probe as Probe
    from wire_protocol._probe import ProbeStep as ProbeStep
    from wire_protocol._probe import build_probe as build_probe
    from wire_protocol._probe import build_probe_answer as build_probe_answer
    from wire_protocol._probe import new_probe_nonce as new_probe_nonce
    from wire_protocol._probe import parse_probe as parse_probe
    from wire_protocol._relay_api import A2A_EXTENSION_PREFIX as A2A_EXTENSION_PREFIX
    from wire_protocol._relay_api import A2A_EXTENSION_URI as A2A_EXTENSION_URI
    from wire_protocol._relay_api import INVITE_TOKEN_RE as INVITE_TOKEN_RE
    from wire_protocol._relay_api import LIST_LIMIT_DEFAULT as LIST_LIMIT_DEFAULT
    from wire_protocol._relay_api import LIST_LIMIT_MAX as LIST_LIMIT_MAX
    from wire_protocol._relay_api import MAX_EVENT_BYTES as MAX_EVENT_BYTES
    from wire_protocol._relay_api import MAX_INVITE_URL_BYTES as MAX_INVITE_URL_BYTES
    from wire_protocol._relay_api import PAIR_ID_RE as PAIR_ID_RE
    from wire_protocol._relay_api import PAIR_SLOT_TTL_SECONDS as PAIR_SLOT_TTL_SECONDS
    from wire_protocol._relay_api import SLOT_ID_RE as SLOT_ID_RE
    from wire_protocol._relay_api import SLOT_QUOTA_BYTES as SLOT_QUOTA_BYTES
    from wire_protocol._relay_api import SLOT_TOKEN_RE as SLOT_TOKEN_RE
    from wire_protocol._seal import MAX_SEALED_PLAINTEXT_BYTES as MAX_SEALED_PLAINTEXT_BYTES
    from wire_protocol._seal import SEAL_NONCE_BYTES as SEAL_NONCE_BYTES
    from wire_protocol._sealed import SEALED_ENCODING as SEALED_ENCODING
    from wire_protocol._sealed import OpenedBody as OpenedBody
    from wire_protocol._sealed import card_dh_public as card_dh_public
    from wire_protocol._sealed import card_with_dh_pubkey as card_with_dh_pubkey
    from wire_protocol._sealed import is_sealed as is_sealed
    from wire_protocol._sealed import open_body as open_body
    from wire_protocol._sealed import open_event as open_event
    from wire_protocol._sealed import own_dh_pubkey as own_dh_pubkey
    from wire_protocol._sealed import seal_body as seal_body
    from wire_protocol._sealed import seal_event as seal_event
    from wire_protocol._trust import Tier as Tier
    from wire_protocol.errors import CanonicalizationError as CanonicalizationError
    from wire_protocol.errors import CardError as CardError
    from wire_protocol.errors import EventError as EventError
    from wire_protocol.errors import HandleError as HandleError
    from wire_protocol.errors import InviteError as InviteError
    from wire_protocol.errors import InviteExpiredError as InviteExpiredError
    from wire_protocol.errors import KeyFormatError as KeyFormatError
    from wire_protocol.errors import PairingError as PairingError
    from wire_protocol.errors import SasMismatchError as SasMismatchError
    from wire_protocol.errors import SealedFormatError as SealedFormatError
    from wire_protocol.errors import SealedMacError as SealedMacError
    from wire_protocol.errors import SealedPaddingError as SealedPaddingError
    from wire_protocol.errors import SealedPlaintextError as SealedPlaintextError
    from wire_protocol.errors import SealedRecipientError as SealedRecipientError
    from wire_protocol.errors import SealedSenderError as SealedSenderError
    from wire_protocol.errors import SealError as SealError
    from wire_protocol.errors import SealingKeyError as SealingKeyError
    from wire_protocol.errors import SealTooLargeError as SealTooLargeError
    from wire_protocol.errors import UnsupportedSealError as UnsupportedSealError
    from wire_protocol.errors import VerificationError as VerificationError
    from wire_protocol.errors import WireError as WireError

# The one export table: public name -> the module that defines it. It drives ``__all__``,
# ``__getattr__`` and ``__dir__``; the ``TYPE_CHECKING`` block above mirrors it for type checkers
# (tests/protocol/test_exports.py keeps the two equal).
_EXPORTS: dict[str, str] = {
    "A2A_CARD_VERSION": "wire_protocol._a2a",
    "A2A_EXTENSION_PREFIX": "wire_protocol._relay_api",
    "A2A_EXTENSION_URI": "wire_protocol._relay_api",
    "BOOTSTRAP_NONCE_BYTES": "wire_protocol._pairing",
    "CARD_SCHEMA_VERSION": "wire_protocol._card",
    "CLAIM_PROOF_DOMAIN": "wire_protocol._claim_proof",
    "CLAIM_PROOF_MAX_SKEW_SECONDS": "wire_protocol._claim_proof",
    "CLAIM_PROOF_VERSION": "wire_protocol._claim_proof",
    "CODE_ALPHABET": "wire_protocol._pairing",
    "DEFAULT_CAPABILITIES": "wire_protocol._card",
    "DID_PREFIX": "wire_protocol._handles",
    "EVENT_SCHEMA_VERSION": "wire_protocol._events",
    "HANDSHAKE_TYPES": "wire_protocol._events",
    "INVITE_TOKEN_RE": "wire_protocol._relay_api",
    "INVITE_URL_PREFIX": "wire_protocol._invite",
    "INVITE_VERSION": "wire_protocol._invite",
    "JSON": "wire_protocol._canonical",
    "KINDS": "wire_protocol._events",
    "KIND_NAMES": "wire_protocol._events",
    "LIST_LIMIT_DEFAULT": "wire_protocol._relay_api",
    "LIST_LIMIT_MAX": "wire_protocol._relay_api",
    "MAX_EVENT_BYTES": "wire_protocol._relay_api",
    "MAX_INVITE_URL_BYTES": "wire_protocol._relay_api",
    "MAX_PROBE_NONCE_CHARS": "wire_protocol._probe",
    "MAX_SEALED_PLAINTEXT_BYTES": "wire_protocol._seal",
    "PAIRING_KINDS": "wire_protocol._events",
    "PAIR_ID_RE": "wire_protocol._relay_api",
    "PAIR_SLOT_TTL_SECONDS": "wire_protocol._relay_api",
    "PROBE_TYPE": "wire_protocol._probe",
    "PROFILE_FIELDS": "wire_protocol._card",
    "PROFILE_SCHEMA_VERSION": "wire_protocol._card",
    "RESERVED_NICKS": "wire_protocol._handles",
    "SEALED_ENCODING": "wire_protocol._sealed",
    "SEAL_NONCE_BYTES": "wire_protocol._seal",
    "SLOT_ID_RE": "wire_protocol._relay_api",
    "SLOT_QUOTA_BYTES": "wire_protocol._relay_api",
    "SLOT_TOKEN_RE": "wire_protocol._relay_api",
    "SPAKE2_MESSAGE_BYTES": "wire_protocol._pairing",
    "SUPPORTED_SCHEMA_MAJOR": "wire_protocol._events",
    "UNKNOWN_CHARACTER": "wire_protocol._character",
    "A2AResolution": "wire_protocol._a2a",
    "AgentCard": "wire_protocol._card",
    "BootstrapPayload": "wire_protocol._pairing",
    "CanonicalizationError": "wire_protocol.errors",
    "CardError": "wire_protocol.errors",
    "CardTrust": "wire_protocol._events",
    "Character": "wire_protocol._character",
    "ClaimProof": "wire_protocol._claim_proof",
    "ClaimProofError": "wire_protocol._claim_proof",
    "DirectoryRecord": "wire_protocol._a2a",
    "EventError": "wire_protocol.errors",
    "EventType": "wire_protocol._events",
    "HandleError": "wire_protocol.errors",
    "Invite": "wire_protocol._invite",
    "InviteError": "wire_protocol.errors",
    "InviteExpiredError": "wire_protocol.errors",
    "JSONObject": "wire_protocol._canonical",
    "KeyFormatError": "wire_protocol.errors",
    "Kind": "wire_protocol._events",
    "KindClass": "wire_protocol._events",
    "OpenedBody": "wire_protocol._sealed",
    "PairingError": "wire_protocol.errors",
    "Palette": "wire_protocol._character",
    "Probe": "wire_protocol._probe",
    "ProbeStep": "wire_protocol._probe",
    "SasMismatchError": "wire_protocol.errors",
    "SealError": "wire_protocol.errors",
    "SealTooLargeError": "wire_protocol.errors",
    "SealedFormatError": "wire_protocol.errors",
    "SealedMacError": "wire_protocol.errors",
    "SealedPaddingError": "wire_protocol.errors",
    "SealedPlaintextError": "wire_protocol.errors",
    "SealedRecipientError": "wire_protocol.errors",
    "SealedSenderError": "wire_protocol.errors",
    "SealingKeyError": "wire_protocol.errors",
    "SigningKey": "wire_protocol._keys",
    "Spake2Session": "wire_protocol._pairing",
    "Tier": "wire_protocol._trust",
    "TrustLookup": "wire_protocol._events",
    "TrustedKey": "wire_protocol._events",
    "UnsupportedSealError": "wire_protocol.errors",
    "VerificationError": "wire_protocol.errors",
    "VerifiedEvent": "wire_protocol._events",
    "WireAddress": "wire_protocol._handles",
    "WireError": "wire_protocol.errors",
    "__version__": "wire_protocol.__about__",
    "a2a_card_for_claim": "wire_protocol._a2a",
    "a2a_endpoint": "wire_protocol._a2a",
    "a2a_interface_url": "wire_protocol._a2a",
    "b64decode_exact": "wire_protocol._keys",
    "b64encode": "wire_protocol._keys",
    "bare_handle": "wire_protocol._handles",
    "bootstrap_key": "wire_protocol._pairing",
    "build_agent_card": "wire_protocol._card",
    "build_bootstrap_payload": "wire_protocol._pairing",
    "build_claim_proof": "wire_protocol._claim_proof",
    "build_event": "wire_protocol._events",
    "build_probe": "wire_protocol._probe",
    "build_probe_answer": "wire_protocol._probe",
    "canonical_bytes": "wire_protocol._canonical",
    "card_canonical": "wire_protocol._card",
    "card_dh_public": "wire_protocol._sealed",
    "card_with_dh_pubkey": "wire_protocol._sealed",
    "character_for": "wire_protocol._character",
    "character_from_did": "wire_protocol._character",
    "check_schema_version": "wire_protocol._events",
    "claim_proof_origin": "wire_protocol._claim_proof",
    "code_hash": "wire_protocol._pairing",
    "compact_json": "wire_protocol._canonical",
    "compute_event_id": "wire_protocol._events",
    "compute_sas": "wire_protocol._pairing",
    "confirm_sas": "wire_protocol._pairing",
    "did_for": "wire_protocol._handles",
    "did_matches_key": "wire_protocol._handles",
    "display_handle_from_did": "wire_protocol._handles",
    "fingerprint": "wire_protocol._keys",
    "format_sas": "wire_protocol._pairing",
    "format_timestamp": "wire_protocol._events",
    "generate_code_phrase": "wire_protocol._pairing",
    "is_known_kind": "wire_protocol._events",
    "is_sealed": "wire_protocol._sealed",
    "is_valid_domain": "wire_protocol._handles",
    "is_valid_nick": "wire_protocol._handles",
    "kind_class": "wire_protocol._events",
    "kind_for_name": "wire_protocol._events",
    "loads": "wire_protocol._canonical",
    "make_key_id": "wire_protocol._keys",
    "mint_invite": "wire_protocol._invite",
    "new_invite_nonce": "wire_protocol._invite",
    "new_probe_nonce": "wire_protocol._probe",
    "nick_syntax_ok": "wire_protocol._handles",
    "open_body": "wire_protocol._sealed",
    "open_bootstrap": "wire_protocol._pairing",
    "open_event": "wire_protocol._sealed",
    "own_dh_pubkey": "wire_protocol._sealed",
    "parse_a2a_card": "wire_protocol._a2a",
    "parse_address": "wire_protocol._handles",
    "parse_bootstrap_payload": "wire_protocol._pairing",
    "parse_code_phrase": "wire_protocol._pairing",
    "parse_invite": "wire_protocol._invite",
    "parse_probe": "wire_protocol._probe",
    "parse_timestamp": "wire_protocol._events",
    "relay_url_for_domain": "wire_protocol._handles",
    "sanitize_display_text": "wire_protocol._character",
    "seal_body": "wire_protocol._sealed",
    "seal_bootstrap": "wire_protocol._pairing",
    "seal_event": "wire_protocol._sealed",
    "sign_card": "wire_protocol._card",
    "sign_event": "wire_protocol._events",
    "terminal_supports_emoji": "wire_protocol._character",
    "validate_handle": "wire_protocol._handles",
    "verify_card": "wire_protocol._card",
    "verify_claim_proof": "wire_protocol._claim_proof",
    "verify_event": "wire_protocol._events",
    "verify_signature": "wire_protocol._keys",
    "with_profile_field": "wire_protocol._card",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> object:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'wire_protocol' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
