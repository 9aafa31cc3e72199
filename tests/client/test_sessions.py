# SPDX-License-Identifier: MIT
"""Sessions: cwd-derived names, registry, new/list/env/current/bind/destroy, list-local, endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.agents import unused_port
from tests.helpers.relay_process import RelayProcess
from wire_client import Scope, SessionError, SessionRegistry, WireHome, derive_session_name, sanitize_session_name


@pytest.mark.parametrize(
    ("basename", "expected"),
    [("My Project!", "my-project"), ("--a__b--", "a__b"), ("", "wire-session"), ("ü" * 3, "wire-session"),
     ("x" * 40, "x" * 32)],
)  # fmt: skip
def test_sanitize(basename: str, expected: str) -> None:
    assert sanitize_session_name(basename) == expected


def test_derive_name_collisions() -> None:
    cwd = Path("/work/a/proj")
    assert derive_session_name(cwd, {}) == "proj"
    assert derive_session_name(cwd, {"/work/a/proj": "custom"}) == "custom"
    hashed = derive_session_name(cwd, {"/work/b/proj": "proj"})
    assert hashed.startswith("proj-")
    assert len(hashed) == len("proj-") + 4
    counted = derive_session_name(cwd, {"/work/b/proj": "proj", "/work/c/proj": hashed})
    assert counted == f"{hashed}-2"


async def test_session_lifecycle(shared_relay: RelayProcess, tmp_path: Path) -> None:
    registry = SessionRegistry.for_home(WireHome.at(tmp_path / "root"))
    project = tmp_path / "My Project"
    project.mkdir()
    dead_local = f"http://127.0.0.1:{unused_port()}"
    created = await registry.new(cwd=project, relay_url=shared_relay.url, local_relay=dead_local)
    assert created.status == "created"
    assert created.name == "my-project"
    assert [ep.scope for ep in created.endpoints] == [Scope.FEDERATION]
    assert any("local relay" in note for note in created.notes)  # probe failure skipped with a note
    assert created.export == f"export WIRE_HOME={tmp_path / 'root' / 'sessions' / 'my-project'}"
    again = await registry.new(cwd=project)
    assert again.status == "already_exists"
    assert again.did == created.did
    assert registry.current(project) == "my-project"
    assert registry.current(tmp_path) is None
    assert registry.find_for_cwd(project / "sub" / "dir") == "my-project"
    assert registry.env("my-project") == created.export
    with pytest.raises(SessionError):
        registry.env("nope")
    [info] = registry.list()
    assert info.name == "my-project"
    assert info.cwd == str(project)
    assert info.handle == "my-project"
    assert info.to_json()["character"] is not None

    other = tmp_path / "other"
    other.mkdir()
    bound = registry.bind("my-project", cwd=other)
    assert bound.changed
    assert bound.previous is None
    assert not registry.bind("my-project", cwd=other).changed
    with pytest.raises(SessionError):
        registry.bind("ghost", cwd=other)

    with pytest.raises(SessionError, match="force"):
        registry.destroy("my-project")
    assert registry.destroy("my-project", force=True)
    assert registry.list() == []
    assert registry.by_cwd() == {}
    assert not registry.destroy("my-project", force=True)  # soft miss


async def test_local_and_uds_endpoints_and_list_local(shared_relay: RelayProcess, tmp_path: Path) -> None:
    uds_dir = tmp_path / "uds"
    uds_dir.mkdir()
    with RelayProcess(uds_dir, uds=uds_dir / "r.sock"):
        registry = SessionRegistry(tmp_path / "sessions")
        (tmp_path / "one").mkdir()
        (tmp_path / "two").mkdir()
        one = await registry.new(cwd=tmp_path / "one", local_relay=shared_relay.url, uds_socket=str(uds_dir / "r.sock"))
        await registry.new(cwd=tmp_path / "two")
        assert [ep.scope for ep in one.endpoints] == [Scope.LOCAL, Scope.UDS]
        relay_json = json.loads((tmp_path / "sessions" / "one" / "config" / "wire" / "relay.json").read_text())
        assert relay_json["self"]["relay_url"] == shared_relay.url  # legacy trio: local when no federation
        assert [e["scope"] for e in relay_json["self"]["endpoints"]] == ["local", "uds"]
        grouped = registry.list_local()
        assert list(grouped["local"]) == [shared_relay.url]  # type: ignore[arg-type]
        assert "slot_token" not in json.dumps(grouped)
        assert grouped["federation_only"] == [{"name": "two", "handle": "two", "cwd": str(tmp_path / "two")}]
