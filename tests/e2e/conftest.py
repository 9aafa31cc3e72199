# SPDX-License-Identifier: MIT
"""The e2e world: relay A (SQLite), relay B (two processes on one PostgreSQL), three agents.

* alice — CLI home bound to relay A, with a ``wire daemon`` process;
* bob   — CLI home bound to relay B1, with a ``wire daemon`` process;
* carol — a ``wire-mcp`` stdio server (opened per test with :func:`carol_session`) bound to relay B2,
  receiving in-process while a session is open (as an MCP host would run it).

B1 and B2 are two relay processes on one database: one relay "domain" as far as agents can tell
(handles claimed through one are resolved through the other, events posted to one stream on the other)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import postgres as pg
from tests.helpers.cli import Result, Wire, parallel
from tests.helpers.e2e import World
from tests.helpers.relay_process import RelayProcess

pg_server = pg.pg_server  # the session-wide PostgreSQL fixture, used by the world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, pg_server: pg.PostgresServer) -> Iterator[World]:
    root = tmp_path_factory.mktemp("e2e")
    (root / "user").mkdir()
    b_url = pg_server.create_database()
    with (
        RelayProcess(root / "relay-a") as relay_a,
        RelayProcess(root / "relay-b1", store_url=b_url) as relay_b1,
        RelayProcess(root / "relay-b2", store_url=b_url) as relay_b2,
    ):
        w = World(
            root=root,
            relay_a=relay_a,
            relay_b1=relay_b1,
            relay_b2=relay_b2,
            alice=Wire(root / "alice", root / "user"),
            bob=Wire(root / "bob", root / "user"),
            carol_root=root / "carol",
        )
        inits: list[Result] = parallel(
            lambda: w.alice("init", "alice", "--relay", relay_a.url),
            lambda: w.bob("init", "bob", "--relay", relay_b1.url),
        )
        for name, result in zip(("alice", "bob"), inits, strict=True):
            assert result.code == 0, str(result)
            assert result.json()["claimed"] is True
            w.dids[name] = result.json()["did"]
        try:
            w.start_daemon("alice")
            w.start_daemon("bob")
            yield w
        finally:
            for daemon in w.daemons.values():
                daemon.stop()
