# SPDX-License-Identifier: MIT
"""Fixtures for the wire-mcp tests: a real relay, servers on temp homes, result helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.relay_process import RelayProcess


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRE_NO_TOASTS", "1")
    monkeypatch.delenv("WIRE_HOME", raising=False)
    monkeypatch.delenv("WIRE_MCP_SKIP_AUTO_UP", raising=False)


@pytest.fixture(scope="session")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    with RelayProcess(tmp_path_factory.mktemp("mcp-relay")) as proc:
        yield proc
