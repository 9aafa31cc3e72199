# SPDX-License-Identifier: MIT
"""Real subprocess runs of the installed ``wire`` entry point, with temp ``WIRE_HOME``/``HOME``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.cli import Wire
from tests.helpers.relay_process import RelayProcess


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    with RelayProcess(tmp_path_factory.mktemp("relay")) as process:
        yield process


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    path = tmp_path / "user"
    path.mkdir()
    return path


@pytest.fixture
def wire(tmp_path: Path, user_home: Path) -> Wire:
    """A ``wire`` runner for a fresh, uninitialized home."""
    return Wire(tmp_path / "home", user_home)
