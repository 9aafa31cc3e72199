# SPDX-License-Identifier: MIT
"""deploy/systemd/wire-relay.service passes ``systemd-analyze verify`` and its sandboxing scores
well in ``systemd-analyze security --offline`` (systemd need not be running)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.proxies import DEPLOY

pytestmark = [pytest.mark.real_part("systemd"), pytest.mark.timeout(60)]

UNIT = DEPLOY / "systemd" / "wire-relay.service"
INSTALLED_PATH = "/opt/wire-relay/bin/wire-relay"
#: systemd-analyze's scale is 0 (locked down) .. 10 (unprotected); "OK" ends at 4.9
MAX_EXPOSURE = 2.0


def _analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd; .ci/run installs it)")
    return path


def _unit_here(tmp_path: Path, text: str | None = None) -> Path:
    """The unit with ExecStart pointing at this checkout's wire-relay (verify checks it exists)."""
    text = UNIT.read_text() if text is None else text
    assert INSTALLED_PATH in text
    relay = Path(sys.executable).with_name("wire-relay")
    assert relay.exists()
    unit = tmp_path / "wire-relay.service"
    unit.write_text(text.replace(INSTALLED_PATH, str(relay)))
    return unit


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_analyze(), "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=30, check=False
    )


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    done = _verify(_unit_here(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    """The check above is not vacuous: a bad value or an unknown key makes verify complain
    (systemd only warns about these, which is why the test above insists on an empty stderr)."""
    broken = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystem=stricter")
    broken = broken.replace("PrivateTmp=yes", "PrivateTemp=yes")
    done = _verify(_unit_here(tmp_path, broken))
    assert "stricter" in done.stderr
    assert "PrivateTemp" in done.stderr


def test_unit_sandboxing_exposure_is_low(tmp_path: Path) -> None:
    done = subprocess.run(
        [_analyze(), "security", "--offline=true", "--no-pager", str(_unit_here(tmp_path))],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    match = re.search(r"Overall exposure level for wire-relay\.service: (\d+\.\d+)", done.stdout + done.stderr)
    assert match is not None, done.stdout + done.stderr
    exposure = float(match.group(1))
    print(f"\nsystemd-analyze security exposure: {exposure}")
    assert exposure <= MAX_EXPOSURE


def test_unit_keeps_its_promises() -> None:
    """Dedicated dynamic user, a state directory, sandboxing (options: see test_deploy_files)."""
    text = UNIT.read_text()
    for needed in ("DynamicUser=yes", "StateDirectory=wire-relay", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert needed in text
