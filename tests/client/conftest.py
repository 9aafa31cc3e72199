# SPDX-License-Identifier: MIT
"""Fixtures for wire-client tests: homes, identities, manually paired agents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.relay_process import RelayProcess


@pytest.fixture(autouse=True)
def _quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRE_NO_TOASTS", "1")
    monkeypatch.delenv("WIRE_HOME", raising=False)


@pytest.fixture
def env_without_home() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("WIRE_HOME", None)
    return env


@pytest.fixture(scope="session")
def shared_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    """One relay for tests that do not stop it."""
    with RelayProcess(tmp_path_factory.mktemp("relay")) as relay:
        yield relay


@pytest.fixture
def own_relay(tmp_path: Path) -> Iterator[RelayProcess]:
    """A relay this test may kill and restart."""
    with RelayProcess(tmp_path / "relay") as relay:
        yield relay


@pytest.fixture(scope="session")
def second_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    """Another relay (another "domain"): federation tests dial from one to the other."""
    with RelayProcess(tmp_path_factory.mktemp("relay2")) as relay:
        yield relay
