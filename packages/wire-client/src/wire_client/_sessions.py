# SPDX-License-Identifier: MIT
"""Sessions: several isolated identities on one machine, mapped from working directories.

Each session is a full wire home under the sessions root (``<root>/<name>/config/wire``, ...).
``registry.json`` = ``{"by_cwd": {"/abs/cwd": "<name>"}}`` is updated under a lock, atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wire_client._errors import SessionError, WireClientError
from wire_client._home.endpoints import Endpoint, RelayStateStore, Scope
from wire_client._home.files import make_private_dirs, read_json, update_json
from wire_client._home.identity import Identity
from wire_client._home.paths import WireHome
from wire_client._home.pidfile import daemon_status
from wire_client._home.sessions import registry_path, sanitize_session_name, session_home, session_names
from wire_protocol import JSON, JSONObject, character_for

__all__ = [
    "BindResult",
    "NewSessionResult",
    "SessionInfo",
    "SessionRegistry",
    "derive_session_name",
    "sanitize_session_name",
]


def derive_session_name(cwd: Path, by_cwd: dict[str, str]) -> str:
    """features notes §5: registry mapping wins; else basename; collisions get a hash, then a counter."""
    key = str(cwd)
    if key in by_cwd:
        return by_cwd[key]
    taken = {name for path, name in by_cwd.items() if path != key}
    base = sanitize_session_name(cwd.name)
    if base not in taken:
        return base
    hashed = f"{base}-{hashlib.sha256(key.encode()).hexdigest()[:4]}"
    if hashed not in taken:
        return hashed
    for counter in range(2, 1000):
        candidate = f"{hashed}-{counter}"
        if candidate not in taken:
            return candidate
    return f"{hashed}-overflow"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    name: str
    home_dir: Path
    cwd: str | None
    did: str | None
    handle: str | None
    daemon_running: bool

    def to_json(self) -> JSONObject:
        character = character_for(self.did) if self.did else None
        return {
            "name": self.name,
            "cwd": self.cwd,
            "home_dir": str(self.home_dir),
            "did": self.did,
            "handle": self.handle,
            "daemon_running": self.daemon_running,
            "character": {"nickname": character.nickname, "emoji": character.emoji} if character else None,
        }


@dataclass(frozen=True, slots=True)
class NewSessionResult:
    name: str
    home_dir: Path
    cwd: str
    did: str
    handle: str
    status: Literal["created", "already_exists"]
    endpoints: tuple[Endpoint, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def export(self) -> str:
        return f"export WIRE_HOME={self.home_dir}"


@dataclass(frozen=True, slots=True)
class BindResult:
    cwd: str
    session: str
    changed: bool
    previous: str | None


class SessionRegistry:
    """The sessions root: session homes plus the cwd → name registry."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.registry_path = registry_path(root)

    @classmethod
    def for_home(cls, home: WireHome | None = None) -> SessionRegistry:
        return cls((home or WireHome.from_env()).sessions_root)

    # --- registry --------------------------------------------------------------------------------

    def by_cwd(self) -> dict[str, str]:
        data = read_json(self.registry_path, {})
        mapping = data.get("by_cwd") if isinstance(data, dict) else None
        return {k: v for k, v in mapping.items() if isinstance(v, str)} if isinstance(mapping, dict) else {}

    def _set_binding(self, cwd: str, name: str) -> str | None:
        def modify(current: JSON) -> tuple[JSON, str | None]:
            data: JSONObject = dict(current) if isinstance(current, dict) else {}
            mapping = data.get("by_cwd")
            mapping = dict(mapping) if isinstance(mapping, dict) else {}
            previous = mapping.get(cwd)
            mapping[cwd] = name
            data["by_cwd"] = mapping
            return data, previous if isinstance(previous, str) else None

        make_private_dirs(self.root)
        return update_json(self.registry_path, modify, default={})

    def home(self, name: str) -> WireHome:
        return session_home(self.root, name)

    def exists(self, name: str) -> bool:
        return self.home(name).is_initialized

    def names(self) -> list[str]:
        return session_names(self.root)

    # --- verbs -----------------------------------------------------------------------------------

    async def new(
        self,
        name: str | None = None,
        *,
        cwd: Path | None = None,
        relay_url: str | None = None,
        local_relay: str | None = None,
        lan_relay: str | None = None,
        uds_socket: str | None = None,
    ) -> NewSessionResult:
        """Create (or re-register) the session for ``cwd``, allocating the requested endpoints.

        A failing optional endpoint (local/LAN/UDS) is skipped with a note; the federation relay is
        required when given (a slotless session would look healthy and deliver nothing).
        """
        directory = (cwd or Path.cwd()).absolute()
        chosen = name or derive_session_name(directory, self.by_cwd())
        home = self.home(chosen)
        if home.is_initialized:
            identity = Identity.load(home)
            self._set_binding(str(directory), chosen)
            return NewSessionResult(
                chosen,
                home.root or home.config_dir,
                str(directory),
                identity.did,
                identity.handle,
                "already_exists",
                tuple(RelayStateStore(home).self_endpoints()),
            )
        identity, _ = Identity.create(home, chosen)
        notes: list[str] = []
        from wire_client._relay.client import RelayPool  # here: listing sessions (`wire here`) needs no relay

        state = RelayStateStore(home)
        pool = RelayPool()
        try:
            if relay_url is not None:
                state.add_self_endpoint(await pool.client(relay_url).allocate_slot(handle=chosen))
            for url, scope in ((local_relay, Scope.LOCAL), (lan_relay, Scope.LAN), (uds_socket, Scope.UDS)):
                if url is None:
                    continue
                target = f"unix://{url}" if scope is Scope.UDS and not url.startswith("unix://") else url
                client = pool.client(target)
                if not await client.healthz():
                    notes.append(f"{scope.value} relay {target} did not answer /healthz; {scope.value} slot skipped")
                    continue
                try:
                    state.add_self_endpoint(await client.allocate_slot(scope=scope, handle=chosen))
                except WireClientError as exc:
                    notes.append(f"{scope.value} slot on {target} failed: {exc.message}")
        finally:
            await pool.close()
        self._set_binding(str(directory), chosen)
        return NewSessionResult(
            chosen,
            home.root or home.config_dir,
            str(directory),
            identity.did,
            identity.handle,
            "created",
            tuple(state.self_endpoints()),
            tuple(notes),
        )

    def list(self) -> list[SessionInfo]:
        reverse: dict[str, str] = {}
        for path, name in sorted(self.by_cwd().items()):
            reverse.setdefault(name, path)
        return [self._info(name, reverse.get(name)) for name in self.names()]

    def _info(self, name: str, cwd: str | None) -> SessionInfo:
        home = self.home(name)
        did = handle = None
        with contextlib.suppress(WireClientError):
            identity = Identity.load(home)
            did, handle = identity.did, identity.handle
        status = daemon_status(home)
        return SessionInfo(name, home.root or home.config_dir, cwd, did, handle, bool(status and status.running))

    def env(self, name: str) -> str:
        if not self.exists(name):
            raise SessionError(f"no session {name!r}; `wire session list` shows the existing ones")
        return f"export WIRE_HOME={self.root / name}"

    def current(self, cwd: Path | None = None) -> str | None:
        """The session registered for exactly ``cwd`` (no parent walk)."""
        return self.by_cwd().get(str((cwd or Path.cwd()).absolute()))

    def find_for_cwd(self, cwd: Path | None = None) -> str | None:
        """Walk ``cwd`` and its parents through the registry; first existing session wins (auto-adopt)."""
        mapping = self.by_cwd()
        directory = (cwd or Path.cwd()).absolute()
        for candidate in (directory, *directory.parents):
            name = mapping.get(str(candidate))
            if name is not None and (self.root / name).is_dir():
                return name
        return None

    def bind(self, name: str | None = None, *, cwd: Path | None = None) -> BindResult:
        directory = (cwd or Path.cwd()).absolute()
        chosen = name or sanitize_session_name(directory.name)
        if not self.exists(chosen):
            raise SessionError(f"no session {chosen!r} to bind {directory} to; create it with `wire session new`")
        previous = self._set_binding(str(directory), chosen)
        return BindResult(str(directory), chosen, previous != chosen, previous)

    def destroy(self, name: str, *, force: bool = False) -> bool:
        """Stop the session's daemon, delete its home and its registry entries. Soft miss → False."""
        if not force:
            raise SessionError(f"destroying session {name!r} deletes its identity irrecoverably. Pass force=True")
        home = self.home(name)
        status = daemon_status(home)
        if status is not None and status.running:
            with contextlib.suppress(OSError):
                os.kill(status.pid, signal.SIGTERM)
        existed = (self.root / name).exists()
        shutil.rmtree(self.root / name, ignore_errors=True)

        def modify(current: JSON) -> tuple[JSON, None]:
            data: JSONObject = dict(current) if isinstance(current, dict) else {}
            mapping = data.get("by_cwd")
            data["by_cwd"] = {k: v for k, v in mapping.items() if v != name} if isinstance(mapping, dict) else {}
            return data, None

        if self.registry_path.exists():
            update_json(self.registry_path, modify, default={})
        return existed

    def list_local(self) -> JSONObject:
        """Sessions grouped by local relay URL (a Local endpoint, or a loopback federation one). Tokens redacted."""
        local: dict[str, list[JSON]] = {}
        federation_only: list[JSON] = []
        for info in self.list():
            endpoints = RelayStateStore(self.home(info.name)).self_endpoints()
            local_eps = [ep for ep in endpoints if ep.scope is Scope.LOCAL or _is_loopback(ep)]
            entry: JSONObject = {"name": info.name, "handle": info.handle, "cwd": info.cwd}
            if not local_eps:
                federation_only.append(entry)
                continue
            for url in sorted({ep.relay_url for ep in local_eps}):
                local.setdefault(url, []).append(
                    {
                        **entry,
                        "did": info.did,
                        "home_dir": str(info.home_dir),
                        "daemon_running": info.daemon_running,
                        "local_endpoints": [
                            {"relay_url": ep.relay_url, "slot_id": ep.slot_id}
                            for ep in local_eps
                            if ep.relay_url == url
                        ],
                    }
                )
        return {"local": dict(local), "federation_only": federation_only}


def _is_loopback(endpoint: Endpoint) -> bool:
    url = endpoint.relay_url
    return endpoint.scope is Scope.FEDERATION and any(
        url.startswith(prefix) for prefix in ("http://127.0.0.1", "http://localhost", "http://[::1]")
    )
