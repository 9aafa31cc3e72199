# SPDX-License-Identifier: MIT
"""Fixtures for the self-hosting kit tests (deploy/): markers for the real parts they need, the
test certificate, and relays started the way the deploy examples start them."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest

from tests.deploy.tls import TlsFiles, make_tls_files

DOMAIN = "wire.test"


def pytest_configure(config: pytest.Config) -> None:
    # the root conftest (CI branch) registers this too and turns a skip of such a test into a CI
    # failure; registering it here as well keeps --strict-markers happy on either side of the merge
    config.addinivalue_line(
        "markers", "real_part(name): needs the named outside program, e.g. 'nginx' (a skip fails CI)"
    )


@functools.cache
def relay_help() -> str:
    """``wire-relay --help`` of the relay under test (options differ while the hardening lands)."""
    done = subprocess.run(
        [sys.executable, "-m", "wire_relay", "--help"], capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout


def behind_proxy_args() -> list[str]:
    """What the deploy examples pass: trust the one proxy in front (and, where the relay has the
    switch, accept the unproven claims the tests make without a key-possession proof)."""
    args = ["--trust-forwarded-for"]
    if "--accept-unproven-claims" in relay_help():
        args.append("--accept-unproven-claims")
    return args


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"), DOMAIN)
