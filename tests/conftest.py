# SPDX-License-Identifier: MIT
"""Session-wide test policy: a test that needs a REAL part must not pass CI by being skipped.

A "real part" is an outside program a test drives for real: PostgreSQL (``@pytest.mark.postgres``,
and every test that uses the ``pg_server`` fixture), headless Chromium (``@pytest.mark.browser``),
or anything a later test names with ``@pytest.mark.real_part("nginx")`` (caddy, podman, ...).

Locally such a test may be skipped when the part is missing; the reason shows in the ``-ra`` summary
and in a "real parts" section at the end. Where real parts are *required* — ``CI`` is set (as CI
services and ``.ci/run`` do) or ``WIRE_REQUIRE_REAL_PARTS=1`` — the skip is reported as a FAILURE
naming the missing part. ``WIRE_REQUIRE_REAL_PARTS=0`` turns the requirement off explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

MARKER_PARTS = {"postgres": "postgres", "browser": "chromium"}  # marker name -> part it needs
FIXTURE_PARTS = {"pg_server": "postgres"}  # a test using this fixture (even indirectly) needs the part
REQUIRE_ENV = "WIRE_REQUIRE_REAL_PARTS"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

REQUIRED = pytest.StashKey[bool]()
MISSING = pytest.StashKey[dict[str, list[tuple[str, str]]]]()  # part -> [(nodeid, skip reason)]


def real_parts_required(environ: dict[str, str] | None = None) -> bool:
    """``WIRE_REQUIRE_REAL_PARTS`` when set (1/0), else whether ``CI`` is set (and not 0/false/no/off)."""
    env = os.environ if environ is None else environ
    explicit = env.get(REQUIRE_ENV, "")
    value = explicit.strip().lower()
    if value:  # set and not empty (an empty value counts as unset)
        if value not in _TRUE | _FALSE:
            raise pytest.UsageError(f"{REQUIRE_ENV}={explicit!r}: use 1 (require real parts) or 0 (allow skips)")
        return value in _TRUE
    return env.get("CI", "").strip().lower() not in _FALSE


def parts_needed(item: pytest.Item) -> list[str]:
    """The real parts ``item`` needs, from its markers and fixtures (sorted, unique)."""
    parts = {part for marker, part in MARKER_PARTS.items() if item.get_closest_marker(marker) is not None}
    for marker in item.iter_markers("real_part"):
        if len(marker.args) != 1 or not isinstance(marker.args[0], str) or not marker.args[0]:
            raise pytest.UsageError(f"{item.nodeid}: use @pytest.mark.real_part('name'), got {marker}")
        parts.add(marker.args[0])
    fixtures = set(getattr(item, "fixturenames", ()))
    parts.update(part for fixture, part in FIXTURE_PARTS.items() if fixture in fixtures)
    return sorted(parts)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the embedded PostgreSQL server (a real part)")
    config.addinivalue_line("markers", "browser: needs headless Chromium (a real part)")
    config.addinivalue_line(
        "markers", "real_part(name): needs the named outside program, e.g. 'nginx' (a skip fails CI)"
    )
    config.stash[REQUIRED] = real_parts_required()
    config.stash[MISSING] = {}


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not report.skipped or hasattr(report, "wasxfail"):
        return report
    parts = parts_needed(item)
    if not parts:
        return report
    reason = _skip_reason(report)
    for part in parts:
        item.config.stash[MISSING].setdefault(part, []).append((item.nodeid, reason))
    if item.config.stash[REQUIRED]:
        report.outcome = "failed"
        report.longrepr = (
            f"real part missing: {', '.join(parts)} — this test needs it and was skipped ({reason}). "
            f"Real parts are required here (CI or {REQUIRE_ENV}=1): install the part (.ci/run does) "
            "or fix why it did not start."
        )
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    missing = config.stash[MISSING]
    if not missing:
        return
    required = config.stash[REQUIRED]
    verdict = "FAILED: required here" if required else f"skipped: would FAIL in CI / with {REQUIRE_ENV}=1"
    terminalreporter.section(f"real parts missing ({verdict})", sep="=", red=required, yellow=not required)
    for part, tests in sorted(missing.items()):
        nodeids = sorted({nodeid for nodeid, _reason in tests})
        terminalreporter.line(f"{part}: {len(nodeids)} test(s) skipped; first reason: {tests[0][1]}")
