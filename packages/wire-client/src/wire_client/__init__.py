# SPDX-License-Identifier: MIT
"""wire-client: the library behind the ``wire`` CLI and MCP server, for embedders too.

Home and state on disk, identity, trust, the relay client, send (with verdicts) and receive
(verified, once-only inbox), the per-identity daemon, and sessions. Start with :func:`open_home`.

Layout: four floors as private folders, imports only going down — ``_home`` (the home on disk)
← ``_relay`` ← ``_messaging`` ← ``_pairing`` — under two assemblers, ``_agent`` (:class:`WireAgent`)
and ``_daemon`` (:class:`Daemon`). The public names below are the whole API.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wire_client.__about__ import (
        __version__ as __version__,
    )
    from wire_client._agent import (
        PeerInfo as PeerInfo,
    )
    from wire_client._agent import (
        RelayAttachment as RelayAttachment,
    )
    from wire_client._agent import (
        WireAgent as WireAgent,
    )
    from wire_client._agent import (
        open_home as open_home,
    )
    from wire_client._daemon import (
        Daemon as Daemon,
    )
    from wire_client._daemon import (
        run_daemon as run_daemon,
    )
    from wire_client._errors import (
        AlreadyInitializedError as AlreadyInitializedError,
    )
    from wire_client._errors import (
        AttachRelayError as AttachRelayError,
    )
    from wire_client._errors import (
        CapabilityError as CapabilityError,
    )
    from wire_client._errors import (
        DaemonAlreadyRunningError as DaemonAlreadyRunningError,
    )
    from wire_client._errors import (
        DaemonError as DaemonError,
    )
    from wire_client._errors import (
        HandleClaimError as HandleClaimError,
    )
    from wire_client._errors import (
        HomeError as HomeError,
    )
    from wire_client._errors import (
        IdentityMismatchError as IdentityMismatchError,
    )
    from wire_client._errors import (
        LockTimeoutError as LockTimeoutError,
    )
    from wire_client._errors import (
        NotInitializedError as NotInitializedError,
    )
    from wire_client._errors import (
        PairingFailedError as PairingFailedError,
    )
    from wire_client._errors import (
        PeerNotFoundError as PeerNotFoundError,
    )
    from wire_client._errors import (
        PeerRefusedError as PeerRefusedError,
    )
    from wire_client._errors import (
        RelayError as RelayError,
    )
    from wire_client._errors import (
        RelayProtocolError as RelayProtocolError,
    )
    from wire_client._errors import (
        RelayTimeout as RelayTimeout,
    )
    from wire_client._errors import (
        RelayUnreachable as RelayUnreachable,
    )
    from wire_client._errors import (
        SessionError as SessionError,
    )
    from wire_client._errors import (
        TransportError as TransportError,
    )
    from wire_client._errors import (
        TrustConflictError as TrustConflictError,
    )
    from wire_client._errors import (
        TrustError as TrustError,
    )
    from wire_client._errors import (
        WireClientError as WireClientError,
    )
    from wire_client._home.dials import (
        Refusal as Refusal,
    )
    from wire_client._home.dials import (
        peer_state as peer_state,
    )
    from wire_client._home.dials import (
        refusal_in_force as refusal_in_force,
    )
    from wire_client._home.endpoints import (
        CursorStore as CursorStore,
    )
    from wire_client._home.endpoints import (
        Endpoint as Endpoint,
    )
    from wire_client._home.endpoints import (
        RelayStateStore as RelayStateStore,
    )
    from wire_client._home.endpoints import (
        Scope as Scope,
    )
    from wire_client._home.endpoints import (
        order_for_sending as order_for_sending,
    )
    from wire_client._home.identity import (
        DisplayOverride as DisplayOverride,
    )
    from wire_client._home.identity import (
        Identity as Identity,
    )
    from wire_client._home.identity import (
        InitResult as InitResult,
    )
    from wire_client._home.mailbox import (
        EventLog as EventLog,
    )
    from wire_client._home.mailbox import (
        InboxEvent as InboxEvent,
    )
    from wire_client._home.mailbox import (
        OutboxStore as OutboxStore,
    )
    from wire_client._home.mailbox import (
        signed_part as signed_part,
    )
    from wire_client._home.paths import (
        WireHome as WireHome,
    )
    from wire_client._home.pidfile import (
        DaemonPid as DaemonPid,
    )
    from wire_client._home.pidfile import (
        daemon_status as daemon_status,
    )
    from wire_client._home.reader import (
        InboxReader as InboxReader,
    )
    from wire_client._home.trust import (
        PinResult as PinResult,
    )
    from wire_client._home.trust import (
        TrustRecord as TrustRecord,
    )
    from wire_client._home.trust import (
        TrustStore as TrustStore,
    )
    from wire_client._home.trust import (
        card_character as card_character,
    )
    from wire_client._messaging.hook import (
        PairingContext as PairingContext,
    )
    from wire_client._messaging.hook import (
        PairingDecision as PairingDecision,
    )
    from wire_client._messaging.hook import (
        PairingHandler as PairingHandler,
    )
    from wire_client._messaging.probes import (
        PingResult as PingResult,
    )
    from wire_client._messaging.receive import (
        Puller as Puller,
    )
    from wire_client._messaging.receive import (
        PullReport as PullReport,
    )
    from wire_client._messaging.receive import (
        Rejection as Rejection,
    )
    from wire_client._messaging.receiver import (
        Receiver as Receiver,
    )
    from wire_client._messaging.send import (
        Sender as Sender,
    )
    from wire_client._messaging.send import (
        SendResult as SendResult,
    )
    from wire_client._notify import (
        notifications_enabled as notifications_enabled,
    )
    from wire_client._notify import (
        toast as toast,
    )
    from wire_client._pairing.api import (
        Pairing as Pairing,
    )
    from wire_client._pairing.deposits import (
        DeliveryTokens as DeliveryTokens,
    )
    from wire_client._pairing.deposits import (
        RevokeResult as RevokeResult,
    )
    from wire_client._pairing.handler import (
        DefaultPairingHandler as DefaultPairingHandler,
    )
    from wire_client._pairing.invites import (
        InviteAcceptResult as InviteAcceptResult,
    )
    from wire_client._pairing.invites import (
        InviteResult as InviteResult,
    )
    from wire_client._pairing.names import (
        NameResolution as NameResolution,
    )
    from wire_client._pairing.names import (
        PeerMatch as PeerMatch,
    )
    from wire_client._pairing.requests import (
        InboundStore as InboundStore,
    )
    from wire_client._pairing.requests import (
        PendingRequest as PendingRequest,
    )
    from wire_client._pairing.results import (
        AcceptResult as AcceptResult,
    )
    from wire_client._pairing.results import (
        DialResult as DialResult,
    )
    from wire_client._pairing.results import (
        LocalPairResult as LocalPairResult,
    )
    from wire_client._pairing.results import (
        PairAllLocalResult as PairAllLocalResult,
    )
    from wire_client._pairing.results import (
        RejectResult as RejectResult,
    )
    from wire_client._pairing.results import (
        RotateResult as RotateResult,
    )
    from wire_client._pairing.sas import (
        SasConfig as SasConfig,
    )
    from wire_client._pairing.sas_records import (
        SasStatus as SasStatus,
    )
    from wire_client._relay.client import (
        PostResult as PostResult,
    )
    from wire_client._relay.client import (
        RelayClient as RelayClient,
    )
    from wire_client._relay.client import (
        RelayInfo as RelayInfo,
    )
    from wire_client._relay.client import (
        RelayPool as RelayPool,
    )
    from wire_client._relay.client import (
        StreamMessage as StreamMessage,
    )
    from wire_client._relay.directory import (
        Resolution as Resolution,
    )
    from wire_client._sessions import (
        BindResult as BindResult,
    )
    from wire_client._sessions import (
        NewSessionResult as NewSessionResult,
    )
    from wire_client._sessions import (
        SessionInfo as SessionInfo,
    )
    from wire_client._sessions import (
        SessionRegistry as SessionRegistry,
    )
    from wire_client._sessions import (
        derive_session_name as derive_session_name,
    )
    from wire_client._sessions import (
        sanitize_session_name as sanitize_session_name,
    )

# The one export table: public name -> the module that defines it. It drives ``__all__``,
# ``__getattr__`` and ``__dir__``; the ``TYPE_CHECKING`` block above mirrors it for type checkers
# (tests/client/test_agent_api.py keeps the two equal). Names load on first use (PEP 562), so
# `import wire_client` stays cheap and a one-shot `wire send` never pays for the daemon or pairing.
_EXPORTS: dict[str, str] = {
    # wire_client.__about__
    "__version__": "wire_client.__about__",
    # wire_client._errors
    "AlreadyInitializedError": "wire_client._errors",
    "CapabilityError": "wire_client._errors",
    "DaemonAlreadyRunningError": "wire_client._errors",
    "DaemonError": "wire_client._errors",
    "HomeError": "wire_client._errors",
    "IdentityMismatchError": "wire_client._errors",
    "LockTimeoutError": "wire_client._errors",
    "NotInitializedError": "wire_client._errors",
    "PairingFailedError": "wire_client._errors",
    "PeerNotFoundError": "wire_client._errors",
    "PeerRefusedError": "wire_client._errors",
    "Refusal": "wire_client._home.dials",
    "peer_state": "wire_client._home.dials",
    "refusal_in_force": "wire_client._home.dials",
    "AttachRelayError": "wire_client._errors",
    "HandleClaimError": "wire_client._errors",
    "RelayError": "wire_client._errors",
    "RelayProtocolError": "wire_client._errors",
    "RelayTimeout": "wire_client._errors",
    "RelayUnreachable": "wire_client._errors",
    "SessionError": "wire_client._errors",
    "TransportError": "wire_client._errors",
    "TrustConflictError": "wire_client._errors",
    "TrustError": "wire_client._errors",
    "WireClientError": "wire_client._errors",
    # wire_client._home.paths
    "WireHome": "wire_client._home.paths",
    # wire_client._home.identity
    "DisplayOverride": "wire_client._home.identity",
    "Identity": "wire_client._home.identity",
    "InitResult": "wire_client._home.identity",
    # wire_client._home.trust
    "card_character": "wire_client._home.trust",
    "PinResult": "wire_client._home.trust",
    "TrustRecord": "wire_client._home.trust",
    "TrustStore": "wire_client._home.trust",
    # wire_client._home.endpoints
    "CursorStore": "wire_client._home.endpoints",
    "Endpoint": "wire_client._home.endpoints",
    "RelayStateStore": "wire_client._home.endpoints",
    "Scope": "wire_client._home.endpoints",
    "order_for_sending": "wire_client._home.endpoints",
    # wire_client._home.mailbox
    "EventLog": "wire_client._home.mailbox",
    "InboxEvent": "wire_client._home.mailbox",
    "PingResult": "wire_client._messaging.probes",
    "signed_part": "wire_client._home.mailbox",
    "OutboxStore": "wire_client._home.mailbox",
    # wire_client._home.reader
    "InboxReader": "wire_client._home.reader",
    # wire_client._home.pidfile
    "DaemonPid": "wire_client._home.pidfile",
    "daemon_status": "wire_client._home.pidfile",
    # wire_client._relay.client
    "PostResult": "wire_client._relay.client",
    "RelayClient": "wire_client._relay.client",
    "RelayInfo": "wire_client._relay.client",
    "RelayPool": "wire_client._relay.client",
    "StreamMessage": "wire_client._relay.client",
    # wire_client._relay.directory
    "Resolution": "wire_client._relay.directory",
    # wire_client._messaging.send
    "SendResult": "wire_client._messaging.send",
    "Sender": "wire_client._messaging.send",
    # wire_client._messaging.hook
    "PairingContext": "wire_client._messaging.hook",
    "PairingDecision": "wire_client._messaging.hook",
    "PairingHandler": "wire_client._messaging.hook",
    # wire_client._messaging.receive
    "PullReport": "wire_client._messaging.receive",
    "Puller": "wire_client._messaging.receive",
    "Rejection": "wire_client._messaging.receive",
    # wire_client._messaging.receiver
    "Receiver": "wire_client._messaging.receiver",
    # wire_client._pairing.deposits
    "DeliveryTokens": "wire_client._pairing.deposits",
    "RevokeResult": "wire_client._pairing.deposits",
    # wire_client._pairing.handler
    "DefaultPairingHandler": "wire_client._pairing.handler",
    # wire_client._pairing.requests
    "InboundStore": "wire_client._pairing.requests",
    "PendingRequest": "wire_client._pairing.requests",
    # wire_client._pairing.invites
    "InviteAcceptResult": "wire_client._pairing.invites",
    "InviteResult": "wire_client._pairing.invites",
    # wire_client._pairing.results
    "AcceptResult": "wire_client._pairing.results",
    "DialResult": "wire_client._pairing.results",
    "LocalPairResult": "wire_client._pairing.results",
    "PairAllLocalResult": "wire_client._pairing.results",
    "RejectResult": "wire_client._pairing.results",
    "RotateResult": "wire_client._pairing.results",
    # wire_client._pairing.sas
    "SasConfig": "wire_client._pairing.sas",
    # wire_client._pairing.sas_records
    "SasStatus": "wire_client._pairing.sas_records",
    # wire_client._pairing.names
    "NameResolution": "wire_client._pairing.names",
    "PeerMatch": "wire_client._pairing.names",
    # wire_client._pairing.api
    "Pairing": "wire_client._pairing.api",
    # wire_client._sessions
    "BindResult": "wire_client._sessions",
    "NewSessionResult": "wire_client._sessions",
    "SessionInfo": "wire_client._sessions",
    "SessionRegistry": "wire_client._sessions",
    "derive_session_name": "wire_client._sessions",
    "sanitize_session_name": "wire_client._sessions",
    # wire_client._notify
    "notifications_enabled": "wire_client._notify",
    "toast": "wire_client._notify",
    # wire_client._agent
    "PeerInfo": "wire_client._agent",
    "RelayAttachment": "wire_client._agent",
    "WireAgent": "wire_client._agent",
    "open_home": "wire_client._agent",
    # wire_client._daemon
    "Daemon": "wire_client._daemon",
    "run_daemon": "wire_client._daemon",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> object:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'wire_client' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
