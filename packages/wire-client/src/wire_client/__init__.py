# SPDX-License-Identifier: MIT
"""wire-client: the library behind the ``wire`` CLI and MCP server, for embedders too.

Home and state on disk, identity, trust, the relay client, send (with verdicts) and receive
(verified, once-only inbox), the per-identity daemon, and sessions. Start with :func:`open_home`.
"""

from typing import TYPE_CHECKING

from wire_client.__about__ import __version__

if TYPE_CHECKING:
    from wire_client.__about__ import __version__
    from wire_client._agent import PeerInfo, RelayAttachment, WireAgent, open_home
    from wire_client._daemon import Daemon, DaemonPid, Receiver, daemon_status, run_daemon
    from wire_client._endpoints import CursorStore, Endpoint, RelayStateStore, Scope, order_for_sending
    from wire_client._errors import (
        AlreadyInitializedError,
        CapabilityError,
        DaemonAlreadyRunningError,
        DaemonError,
        HomeError,
        IdentityMismatchError,
        LockTimeoutError,
        NotInitializedError,
        PairingFailedError,
        PeerNotFoundError,
        RelayError,
        RelayProtocolError,
        RelayTimeout,
        RelayUnreachable,
        SessionError,
        TransportError,
        TrustConflictError,
        TrustError,
        WireClientError,
    )
    from wire_client._home import WireHome
    from wire_client._identity import DisplayOverride, Identity, InitResult
    from wire_client._inbound import PendingRequest
    from wire_client._invites import InviteAcceptResult, InviteResult
    from wire_client._mailbox import EventLog, InboxEvent, OutboxStore
    from wire_client._notify import notifications_enabled, toast
    from wire_client._pair_results import (
        AcceptResult,
        DialResult,
        LocalPairResult,
        PairAllLocalResult,
        RejectResult,
        RotateResult,
    )
    from wire_client._pairing import Pairing
    from wire_client._pull import (
        DefaultPairingHandler,
        PairingContext,
        PairingDecision,
        PairingHandler,
        Puller,
        PullReport,
        Rejection,
    )
    from wire_client._relay import PostResult, RelayClient, RelayInfo, RelayPool, StreamMessage
    from wire_client._resolve import Resolution
    from wire_client._sas import SasConfig
    from wire_client._sas_state import SasStatus
    from wire_client._send import Sender, SendResult
    from wire_client._sessions import (
        BindResult,
        NewSessionResult,
        SessionInfo,
        SessionRegistry,
        derive_session_name,
        sanitize_session_name,
    )
    from wire_client._trust import PinResult, TrustRecord, TrustStore

# Names load on first use (PEP 562): `import wire_client` stays cheap, and a one-shot CLI send never
# pays for the daemon, pairing or session modules.
_LAZY: dict[str, str] = {
    "AcceptResult": "wire_client._pair_results",
    "AlreadyInitializedError": "wire_client._errors",
    "BindResult": "wire_client._sessions",
    "CapabilityError": "wire_client._errors",
    "CursorStore": "wire_client._endpoints",
    "Daemon": "wire_client._daemon",
    "DaemonAlreadyRunningError": "wire_client._errors",
    "DaemonError": "wire_client._errors",
    "DaemonPid": "wire_client._daemon",
    "DefaultPairingHandler": "wire_client._pull",
    "DialResult": "wire_client._pair_results",
    "DisplayOverride": "wire_client._identity",
    "Endpoint": "wire_client._endpoints",
    "EventLog": "wire_client._mailbox",
    "HomeError": "wire_client._errors",
    "Identity": "wire_client._identity",
    "IdentityMismatchError": "wire_client._errors",
    "InboxEvent": "wire_client._mailbox",
    "InitResult": "wire_client._identity",
    "InviteAcceptResult": "wire_client._invites",
    "InviteResult": "wire_client._invites",
    "LocalPairResult": "wire_client._pair_results",
    "LockTimeoutError": "wire_client._errors",
    "NewSessionResult": "wire_client._sessions",
    "NotInitializedError": "wire_client._errors",
    "OutboxStore": "wire_client._mailbox",
    "PairAllLocalResult": "wire_client._pair_results",
    "Pairing": "wire_client._pairing",
    "PairingContext": "wire_client._pull",
    "PairingDecision": "wire_client._pull",
    "PairingFailedError": "wire_client._errors",
    "PairingHandler": "wire_client._pull",
    "PeerInfo": "wire_client._agent",
    "RelayAttachment": "wire_client._agent",
    "PeerNotFoundError": "wire_client._errors",
    "PendingRequest": "wire_client._inbound",
    "PinResult": "wire_client._trust",
    "PostResult": "wire_client._relay",
    "PullReport": "wire_client._pull",
    "Puller": "wire_client._pull",
    "Receiver": "wire_client._daemon",
    "RejectResult": "wire_client._pair_results",
    "Rejection": "wire_client._pull",
    "RelayClient": "wire_client._relay",
    "RelayError": "wire_client._errors",
    "RelayInfo": "wire_client._relay",
    "RelayPool": "wire_client._relay",
    "RelayProtocolError": "wire_client._errors",
    "RelayStateStore": "wire_client._endpoints",
    "RelayTimeout": "wire_client._errors",
    "RelayUnreachable": "wire_client._errors",
    "Resolution": "wire_client._resolve",
    "RotateResult": "wire_client._pair_results",
    "SasConfig": "wire_client._sas",
    "SasStatus": "wire_client._sas_state",
    "Scope": "wire_client._endpoints",
    "SendResult": "wire_client._send",
    "Sender": "wire_client._send",
    "SessionError": "wire_client._errors",
    "SessionInfo": "wire_client._sessions",
    "SessionRegistry": "wire_client._sessions",
    "StreamMessage": "wire_client._relay",
    "TransportError": "wire_client._errors",
    "TrustConflictError": "wire_client._errors",
    "TrustError": "wire_client._errors",
    "TrustRecord": "wire_client._trust",
    "TrustStore": "wire_client._trust",
    "WireAgent": "wire_client._agent",
    "WireClientError": "wire_client._errors",
    "WireHome": "wire_client._home",
    "__version__": "wire_client.__about__",
    "daemon_status": "wire_client._daemon",
    "derive_session_name": "wire_client._sessions",
    "notifications_enabled": "wire_client._notify",
    "open_home": "wire_client._agent",
    "order_for_sending": "wire_client._endpoints",
    "run_daemon": "wire_client._daemon",
    "sanitize_session_name": "wire_client._sessions",
    "toast": "wire_client._notify",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'wire_client' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AcceptResult",
    "AlreadyInitializedError",
    "BindResult",
    "CapabilityError",
    "CursorStore",
    "Daemon",
    "DaemonAlreadyRunningError",
    "DaemonError",
    "DaemonPid",
    "DefaultPairingHandler",
    "DialResult",
    "DisplayOverride",
    "Endpoint",
    "EventLog",
    "HomeError",
    "Identity",
    "IdentityMismatchError",
    "InboxEvent",
    "InitResult",
    "InviteAcceptResult",
    "InviteResult",
    "LocalPairResult",
    "LockTimeoutError",
    "NewSessionResult",
    "NotInitializedError",
    "OutboxStore",
    "PairAllLocalResult",
    "Pairing",
    "PairingContext",
    "PairingDecision",
    "PairingFailedError",
    "PairingHandler",
    "PeerInfo",
    "PeerNotFoundError",
    "PendingRequest",
    "PinResult",
    "PostResult",
    "PullReport",
    "Puller",
    "Receiver",
    "RejectResult",
    "Rejection",
    "RelayAttachment",
    "RelayClient",
    "RelayError",
    "RelayInfo",
    "RelayPool",
    "RelayProtocolError",
    "RelayStateStore",
    "RelayTimeout",
    "RelayUnreachable",
    "Resolution",
    "RotateResult",
    "SasConfig",
    "SasStatus",
    "Scope",
    "SendResult",
    "Sender",
    "SessionError",
    "SessionInfo",
    "SessionRegistry",
    "StreamMessage",
    "TransportError",
    "TrustConflictError",
    "TrustError",
    "TrustRecord",
    "TrustStore",
    "WireAgent",
    "WireClientError",
    "WireHome",
    "__version__",
    "daemon_status",
    "derive_session_name",
    "notifications_enabled",
    "open_home",
    "order_for_sending",
    "run_daemon",
    "sanitize_session_name",
    "toast",
]
