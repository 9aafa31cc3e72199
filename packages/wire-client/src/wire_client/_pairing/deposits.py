# SPDX-License-Identifier: MIT
"""Per-peer deposit tokens: what we hand a peer so it can post to our slots and do nothing else.

On a relay that advertises ``deposit-tokens`` each peer gets its OWN write-only token for each of
our slots there (minted once, labelled with the peer's DID, reused for every later drop or ack);
our slot token never leaves the home. On a relay without the feature (the reference) the peer gets
the slot token, as before. ``config/deposit-tokens.json`` (0600) records which token id went to
which peer DID, so forgetting a peer revokes exactly its tokens.
"""

from __future__ import annotations

import dataclasses
import logging

from wire_client._errors import WireClientError
from wire_client._home.endpoints import Endpoint, RelayStateStore
from wire_client._home.files import read_json, update_json
from wire_client._home.paths import WireHome
from wire_client._relay.client import RelayPool
from wire_protocol import JSON, JSONObject

__all__ = ["DEPOSIT_FEATURE", "DeliveryTokens", "RevokeResult", "invite_key"]

log = logging.getLogger(__name__)

DEPOSIT_FEATURE = "deposit-tokens"


def invite_key(nonce: str) -> str:
    """Where the deposit token carried by an invite is filed (its holders are unknown when minted)."""
    return f"invite:{nonce}"


@dataclasses.dataclass(frozen=True, slots=True)
class RevokeResult:
    """What revoking a peer's tokens did: ids revoked, and ids kept for a retry (relay unreachable)."""

    revoked: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


def _records(data: JSON, peer_did: str) -> list[JSONObject]:
    peers = data.get("peers") if isinstance(data, dict) else None
    entries = peers.get(peer_did) if isinstance(peers, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _matches(record: JSONObject, endpoint: Endpoint) -> bool:
    return record.get("relay_url") == endpoint.relay_url and record.get("slot_id") == endpoint.slot_id


class DeliveryTokens:
    """Mint, remember and revoke the deposit tokens of one identity's slots, per peer DID."""

    def __init__(self, home: WireHome, pool: RelayPool) -> None:
        self.home = home
        self.pool = pool

    async def for_peer(self, endpoints: list[Endpoint], peer_did: str) -> list[Endpoint]:
        """``endpoints`` (ours) as ``peer_did`` may see them: each token replaced by the peer's own
        deposit token where the relay supports it. Raises :class:`WireClientError` if such a relay
        cannot mint one (the slot token is then NOT handed out instead)."""
        shown: list[Endpoint] = []
        for endpoint in endpoints:
            client = self.pool.client(endpoint.relay_url)
            if not endpoint.is_ready or not (await client.info()).supports(DEPOSIT_FEATURE):
                shown.append(endpoint)
                continue
            token = self._known(endpoint, peer_did)
            if token is None:
                token_id, token = await client.mint_deposit_token(endpoint, peer_did)
                self._remember(endpoint, peer_did, token_id, token)
            shown.append(dataclasses.replace(endpoint, slot_token=token))
        return shown

    def reassign(self, old_key: str, peer_did: str) -> None:
        """File the tokens minted under ``old_key`` (e.g. a SAS session, before the peer's DID was
        known) under ``peer_did``, so revoking that peer covers them."""

        def modify(current: JSON) -> tuple[JSON, None]:
            data = current if isinstance(current, dict) else {}
            peers = data.get("peers")
            if isinstance(peers, dict) and old_key in peers:
                moved: list[JSON] = [*_records(data, peer_did), *_records(data, old_key)]
                peers[peer_did] = moved
                del peers[old_key]
            return data, None

        update_json(self.home.deposit_tokens, modify, default={}, mode=0o600)

    def share(self, key: str, peer_did: str) -> None:
        """Also file the tokens under ``key`` (an invite's) under ``peer_did``, who used it: revoking
        that peer revokes the invite's token (and so cuts off anyone else who used the same invite)."""

        def modify(current: JSON) -> tuple[JSON, None]:
            data = current if isinstance(current, dict) else {}
            peers = data.get("peers")
            if isinstance(peers, dict) and key in peers:
                have = {r.get("token_id") for r in _records(data, peer_did)}
                added = [r for r in _records(data, key) if r.get("token_id") not in have]
                merged: list[JSON] = [*_records(data, peer_did), *added]
                peers[peer_did] = merged
            return data, None

        update_json(self.home.deposit_tokens, modify, default={}, mode=0o600)

    def token_ids(self, peer_did: str) -> list[str]:
        return [str(r.get("token_id")) for r in _records(read_json(self.home.deposit_tokens, {}), peer_did)]

    async def revoke(self, peer_did: str) -> RevokeResult:
        """Revoke every deposit token handed to ``peer_did``; records of failed revocations stay so a
        later call retries them. A token the relay no longer knows counts as revoked."""
        revoked: list[str] = []
        failed: list[str] = []
        for record in _records(read_json(self.home.deposit_tokens, {}), peer_did):
            token_id, relay_url, slot_id = record.get("token_id"), record.get("relay_url"), record.get("slot_id")
            own = next(
                (ep for ep in self._own_endpoints() if ep.relay_url == relay_url and ep.slot_id == slot_id), None
            )
            if not isinstance(token_id, str) or own is None:
                failed.append(str(token_id))
                continue
            try:
                await self.pool.client(own.relay_url).revoke_deposit_token(own, token_id)
            except (WireClientError, ValueError) as exc:
                log.warning("could not revoke deposit token %s at %s: %s", token_id, own.relay_url, exc)
                failed.append(token_id)
                continue
            revoked.append(token_id)
        self._drop(peer_did, set(revoked))
        return RevokeResult(tuple(revoked), tuple(failed))

    # --- the record file -----------------------------------------------------------------------

    def _own_endpoints(self) -> list[Endpoint]:
        return RelayStateStore(self.home).self_endpoints()

    def _known(self, endpoint: Endpoint, peer_did: str) -> str | None:
        for record in _records(read_json(self.home.deposit_tokens, {}), peer_did):
            token = record.get("token")
            if _matches(record, endpoint) and isinstance(token, str) and token:
                return token
        return None

    def _remember(self, endpoint: Endpoint, peer_did: str, token_id: str, token: str) -> None:
        entry: JSONObject = {
            "relay_url": endpoint.relay_url,
            "slot_id": endpoint.slot_id,
            "token_id": token_id,
            "token": token,
        }

        def modify(current: JSON) -> tuple[JSON, None]:
            data = current if isinstance(current, dict) else {}
            peers = data.get("peers")
            if not isinstance(peers, dict):
                peers = data["peers"] = {}
            kept: list[JSON] = [*_records(data, peer_did), entry]  # a concurrent mint is kept: revoke covers both
            peers[peer_did] = kept
            return data, None

        update_json(self.home.deposit_tokens, modify, default={}, mode=0o600)

    def _drop(self, peer_did: str, token_ids: set[str]) -> None:
        if not token_ids:
            return

        def modify(current: JSON) -> tuple[JSON, None]:
            data = current if isinstance(current, dict) else {}
            peers = data.get("peers")
            if isinstance(peers, dict):
                left: list[JSON] = [r for r in _records(data, peer_did) if r.get("token_id") not in token_ids]
                if left:
                    peers[peer_did] = left
                else:
                    peers.pop(peer_did, None)
            return data, None

        update_json(self.home.deposit_tokens, modify, default={}, mode=0o600)
