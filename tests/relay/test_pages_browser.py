# SPDX-License-Identifier: MIT
"""The HTML pages rendered by a real headless Chromium (Debian's `chromium`; skipped where absent)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.relay_process import RelayProcess

pytestmark = pytest.mark.browser

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    if CHROMIUM is None:
        pytest.skip("no headless Chromium on this machine (install Debian's `chromium`; .ci/run does)")
    with RelayProcess(tmp_path_factory.mktemp("browser-relay")) as process:
        yield process


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/", "wire relay"), ("/phonebook", "phonebook"), ("/stats.html", "relay stats")],
)
def test_page_renders_in_chromium(relay: RelayProcess, tmp_path: Path, path: str, expected: str) -> None:
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path}",
            "--dump-dom",
            f"{relay.url}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert f"<title>{expected}</title>" in dom
    assert "<main>" in dom
    assert "<nav>" in dom
