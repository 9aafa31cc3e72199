# SPDX-License-Identifier: AGPL-3.0-or-later
"""Publishing honesty (issue 14 item 14) against a real relay process: neither the landing page nor an
invite's install script tells anyone to install a bare package-index name (whoever registers it would
run code on every invite); they install only from the source the operator configured, if any."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.relay_process import RelayProcess
from wire_relay.routes_pairing import install_script

WHEEL = "https://relay.example.org/wheels/wire_cli-0.1.0-py3-none-any.whl"
BARE_NAME = re.compile(r"(pip|pipx) install (-U |--user |-m pip install )*['\"]?wire[-_]")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def _invite_script(relay: RelayProcess) -> str:
    request = urllib.request.Request(
        f"{relay.url}/v1/invite/register",
        data=b'{"invite_url": "wire://pair?v=1&x=1"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.loads(response.read())["token"]
    return _get(f"{relay.url}/i/{token}")


def test_default_relay_prints_no_bare_index_name(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay") as relay:
        page = _get(relay.url + "/")
        script = _invite_script(relay)
    assert not BARE_NAME.search(page), page
    assert "does not name an install source" in page
    assert not BARE_NAME.search(script), script
    assert "pip" not in script
    assert "exit 1" in script


def test_operator_install_source_is_the_only_one_used(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay", extra_args=["--install-from", WHEEL]) as relay:
        page = _get(relay.url + "/")
        script = _invite_script(relay)
    assert f"pip install '{WHEEL}'" in page
    assert f"pipx install '{WHEEL}'" in script
    assert f"python3 -m pip install --user '{WHEEL}'" in script
    assert not BARE_NAME.search(script.replace(WHEEL, "")), script


@pytest.mark.parametrize("bad", ["wire-cli", "http://insecure.example/x.whl", "https://x.example/a'$(id)'", ""])
def test_install_from_refuses_anything_but_a_plain_https_url(tmp_path: Path, bad: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wire_relay", "--bind", "127.0.0.1:0", "--install-from", bad],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "--install-from" in done.stderr


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs /bin/sh")
def test_install_scripts_parse_with_sh(tmp_path: Path) -> None:
    for source in (None, WHEEL):
        path = tmp_path / "s.sh"
        path.write_text(install_script("wire://pair?v=1&p=$(touch pwned)'`id`'", source))
        subprocess.run(["sh", "-n", str(path)], check=True, timeout=10)
