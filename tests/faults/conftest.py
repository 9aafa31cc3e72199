# SPDX-License-Identifier: MIT
"""Fixtures for the fault suite: quiet environment, a killable relay, daemon processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.daemons import LibDaemon
from tests.helpers.relay_process import RelayProcess


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRE_NO_TOASTS", "1")
    monkeypatch.delenv("WIRE_HOME", raising=False)


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelayProcess]:
    """A relay this test may kill and restart (SQLite)."""
    with RelayProcess(tmp_path / "relay") as process:
        yield process


@pytest.fixture
def daemons() -> Iterator[list[LibDaemon]]:
    started: list[LibDaemon] = []
    yield started
    for daemon in started:
        daemon.kill9()
