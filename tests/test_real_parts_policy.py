# SPDX-License-Identifier: MIT
"""The real-part policy of tests/conftest.py, run on a small suite in a real pytest subprocess.

Where real parts are required (CI set, or WIRE_REQUIRE_REAL_PARTS=1) a skipped PostgreSQL, browser
or ``real_part(...)`` test fails and the summary names the missing part; elsewhere it stays a visible
skip. Unrelated skips and expected failures are left alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SUITE = """
import pytest

@pytest.mark.postgres
def test_marked_postgres():
    pytest.skip("no server on this machine")

@pytest.mark.real_part("nginx")
def test_marked_nginx():
    pytest.skip("nginx is not installed")

@pytest.fixture
def pg_server():
    pytest.skip("the fixture could not start it")

def test_using_the_pg_fixture(pg_server):
    pass

def test_unrelated_skip():
    pytest.skip("only on Tuesdays")

@pytest.mark.postgres
@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    raise AssertionError

@pytest.mark.browser
def test_browser_present():
    pass
"""


def run_suite(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_suite.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers\n")
    environ = {k: v for k, v in os.environ.items() if k not in {"CI", "WIRE_REQUIRE_REAL_PARTS"}}
    # the policy plugin alone (no third-party plugins: faster start), wide lines for the summary
    environ |= {"PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "300"}
    options = ["-p", "tests.conftest", "-p", "no:cacheprovider", "-q", "-rfEs", "-c", str(tmp_path / "pytest.ini")]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *options, "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "env", [{"WIRE_REQUIRE_REAL_PARTS": "1"}, {"CI": "true"}, {"CI": "1", "WIRE_REQUIRE_REAL_PARTS": ""}]
)
def test_required_real_parts_turn_their_skips_into_failures(tmp_path: Path, env: dict[str, str]) -> None:
    done = run_suite(tmp_path, **env)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "2 failed, 1 passed, 1 skipped, 1 xfailed, 1 error" in out
    assert "FAILED test_suite.py::test_marked_postgres - real part missing: postgres" in out
    assert "FAILED test_suite.py::test_marked_nginx - real part missing: nginx" in out
    assert "ERROR test_suite.py::test_using_the_pg_fixture - real part missing: postgres" in out
    assert "only on Tuesdays" in out  # the unrelated skip stays a skip
    assert "real parts missing (FAILED: required here)" in out
    assert "postgres: 2 test(s) skipped; first reason: no server on this machine" in out
    assert "nginx: 1 test(s) skipped; first reason: nginx is not installed" in out


@pytest.mark.parametrize("env", [{}, {"CI": "true", "WIRE_REQUIRE_REAL_PARTS": "0"}, {"CI": "false"}])
def test_locally_real_part_skips_stay_visible_skips(tmp_path: Path, env: dict[str, str]) -> None:
    done = run_suite(tmp_path, **env)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "1 passed, 4 skipped, 1 xfailed" in out
    assert "real parts missing (skipped: would FAIL in CI / with WIRE_REQUIRE_REAL_PARTS=1)" in out
    assert "nginx: 1 test(s) skipped; first reason: nginx is not installed" in out


def test_an_unclear_requirement_setting_is_refused(tmp_path: Path) -> None:
    done = run_suite(tmp_path, WIRE_REQUIRE_REAL_PARTS="maybe")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "WIRE_REQUIRE_REAL_PARTS='maybe': use 1 (require real parts) or 0 (allow skips)" in done.stderr
