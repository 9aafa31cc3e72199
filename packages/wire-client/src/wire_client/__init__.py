# SPDX-License-Identifier: MIT
"""wire-client: the library behind the ``wire`` CLI and MCP server, for embedders too.

Home and state on disk, identity, trust, the relay client, send (with verdicts) and receive
(verified, once-only inbox), the per-identity daemon, and sessions. Start with :func:`open_home`.
"""

from wire_client.__about__ import __version__
from wire_client._agent import PeerInfo, WireAgent, open_home
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

__all__ = [
    # pairing
    "AcceptResult",
    # errors
    "AlreadyInitializedError",
    # sessions
    "BindResult",
    "CapabilityError",
    # relays and endpoints
    "CursorStore",
    # daemon and notifications
    "Daemon",
    "DaemonAlreadyRunningError",
    "DaemonError",
    "DaemonPid",
    # messaging
    "DefaultPairingHandler",
    "DialResult",
    # home, identity, trust
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
    # high-level API
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
