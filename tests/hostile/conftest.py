# SPDX-License-Identifier: MIT
"""Fixtures for the attack tests: a real relay, CLI homes, a hostile relay and a victim socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.hostile_relay import HostileRelay, VictimSocket
from tests.helpers.relay_process import RelayProcess
from tests.hostile.pairing import unique
from tests.hostile.runner import CLI


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    with RelayProcess(tmp_path_factory.mktemp("relay")) as process:
        yield process


@pytest.fixture
def hostile_relay() -> Iterator[HostileRelay]:
    with HostileRelay() as server:
        yield server


@pytest.fixture
def victim_socket() -> Iterator[VictimSocket]:
    with VictimSocket() as victim:
        yield victim


@pytest.fixture
def victim(tmp_path: Path, relay: RelayProcess) -> CLI:
    """An initialised identity with a slot and a claimed nick on the real relay."""
    cli = CLI(tmp_path / "victim")
    cli.ok("init", unique("victim"), "--relay", relay.url)
    return cli
