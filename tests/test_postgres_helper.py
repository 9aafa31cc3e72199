# SPDX-License-Identifier: MIT
"""The test PostgreSQL server starts wherever the checkout lives (issue 16, item 1).

A clone under a directory only its owner may enter (``mktemp -d``, a 0700 home) used to skip every
PostgreSQL test when run as root: the server runs as ``nobody``, who could not reach the wheel's
binaries inside the clone's ``.venv``.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest

from tests.helpers import postgres as pg

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def install_behind_private_dir(tmp_path: Path) -> Path:
    """The wheel's pginstall, reachable only through a 0700 directory (as in a clone under mktemp -d)."""
    try:
        wheel_install = pg.wheel_install_dir()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    private = tmp_path / "private"
    private.mkdir()
    private.chmod(0o700)
    install = private / "clone" / ".venv" / "pginstall"
    install.parent.mkdir(parents=True)
    install.symlink_to(wheel_install, target_is_directory=True)
    return install


def test_the_server_user_cannot_reach_an_install_behind_a_private_dir(install_behind_private_dir: Path) -> None:
    """The premise: run from there directly, the server's user cannot even execute initdb."""
    if os.geteuid() != 0:
        pytest.skip("only root hands the server to another user (here the server runs as you)")
    nobody = pwd.getpwnam("nobody").pw_name
    with pytest.raises(PermissionError):
        subprocess.run([str(install_behind_private_dir / "bin" / "initdb"), "--version"], user=nobody, check=True)


@pytest.mark.postgres
def test_server_starts_from_an_install_behind_a_private_dir(install_behind_private_dir: Path) -> None:
    server = pg.start_server(install=install_behind_private_dir)
    try:
        assert server.bin_dir.parent.resolve() != install_behind_private_dir.resolve()
        url = server.create_database()
        assert url.startswith(f"postgresql://postgres@127.0.0.1:{server.port}/t_")
    finally:
        server.stop()
    assert not server.root.exists(), "stop() leaves nothing behind (data dir and the copied install)"


def test_a_missing_install_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"no PostgreSQL install at .*bin/initdb missing"):
        pg.start_server(install=tmp_path / "nowhere")
