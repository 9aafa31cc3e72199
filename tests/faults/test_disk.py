# SPDX-License-Identifier: MIT
"""Disk full and read-only home: a clear error, and nothing half-written.

We run as root in CI, where ``chmod`` does not stop writes, so two techniques are used:

* in-process (always runs): ``os.write`` / ``os.replace`` wrapped to fail with ENOSPC / EROFS for files
  under the home only — the library's append and atomic-replace paths, sending and receiving;
* real (runs where ``mount`` is permitted, else SKIPPED with the reason): the CLI's home on a tiny
  tmpfs, filled up (real ENOSPC, short writes included), then remounted read-only (real EROFS).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import once_each
from tests.helpers.agents import paired_agents
from tests.helpers.cli import Wire
from tests.helpers.relay_process import RelayProcess
from wire_client import WireHome
from wire_client._home.files import read_jsonl

pytestmark = pytest.mark.timeout(90)


def _under(fd_or_path: int | str | os.PathLike[str], root: Path) -> bool:
    try:
        target = os.readlink(f"/proc/self/fd/{fd_or_path}") if isinstance(fd_or_path, int) else os.fspath(fd_or_path)
    except OSError:
        return False
    return str(target).startswith(str(root))


@contextlib.contextmanager
def disk_full(monkeypatch: pytest.MonkeyPatch, root: Path) -> Iterator[None]:
    """Writes under ``root`` store half their bytes, then fail with ENOSPC (what a filling disk does)."""
    real = os.write

    def write(fd: int, data: Any) -> int:
        if _under(fd, root):
            if len(data) > 1:
                return real(fd, bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", write)
        yield


@contextlib.contextmanager
def read_only(monkeypatch: pytest.MonkeyPatch, root: Path) -> Iterator[None]:
    """Renames into and appends under ``root`` fail with EROFS."""
    real_replace, real_write = os.replace, os.write

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        if _under(dst, root):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dst))
        real_replace(src, dst, **kwargs)

    def write(fd: int, data: Any) -> int:
        if _under(fd, root):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real_write(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace)
        patch.setattr(os, "write", write)
        yield


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_disk_full_while_queueing_raises_and_leaves_no_half_line(
    relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await paired_agents(tmp_path, relay.url, "alice", "bob")
    assert alice.home.root is not None
    assert bob.home.root is not None
    async with alice, bob:
        relay.kill()
        first = await alice.send("bob", "queued before the disk filled")
        assert first.status == "queued"
        outbox = alice.home.outbox_path("bob")
        before = outbox.read_bytes()
        with disk_full(monkeypatch, alice.home.root), pytest.raises(OSError) as full:
            await alice.send("bob", "this one cannot be queued")
        assert full.value.errno == errno.ENOSPC
        assert outbox.read_bytes() == before  # the half-written line was taken back
        assert not read_jsonl(outbox).torn_tail
        second = await alice.send("bob", "space is back")
        assert second.status == "queued"
        relay.start()
        pushed = await alice.push()
        assert [r.status for r in pushed] == ["delivered", "delivered"]
        await bob.pull()
        assert once_each(bob.home.root, "alice", [first.event_id, second.event_id])


async def test_disk_full_while_receiving_keeps_the_event_for_later(
    relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await paired_agents(tmp_path, relay.url, "alice", "bob")
    assert bob.home.root is not None
    async with alice, bob:
        sent = await alice.send("bob", "arrives while bob's disk is full")
        with disk_full(monkeypatch, bob.home.root), pytest.raises(OSError):
            await bob.pull()
        assert not read_jsonl(bob.home.inbox_path("alice")).torn_tail
        assert not read_jsonl(bob.home.inbox_path("alice")).records  # nothing half-written, nothing claimed
        await bob.pull()  # space is back: the cursor never moved past the event
        assert once_each(bob.home.root, "alice", [sent.event_id])


async def test_read_only_home_state_files_stay_intact(
    relay: RelayProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await paired_agents(tmp_path, relay.url, "alice", "bob")
    assert alice.home.root is not None
    async with alice, bob:
        relay.kill()
        before = _snapshot(alice.home.root)
        with read_only(monkeypatch, alice.home.root):
            with pytest.raises(OSError) as ro:
                await alice.send("bob", "nowhere to queue it")
            assert ro.value.errno == errno.EROFS
            with pytest.raises(OSError):
                alice.forget("bob")  # an atomic replace of trust.json / relay.json
        after = _snapshot(alice.home.root)
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        # no temp file, no torn file (an empty new outbox file is this simulation's artefact: on a real
        # read-only mount the open already fails, see the tmpfs test below)
        assert {k for k in changed if not k.endswith(".lock") and after.get(k) != b""} == set(), changed
        assert [p.handle for p in alice.peers()] == ["bob"]


# --------------------------------------------------------------------------------- a real tiny tmpfs


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=20, check=False)


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Callable[[], None]]:
    """A 1 MiB tmpfs at tmp_path/fs; yields a function that remounts it read-only."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("real disk-full test needs root and mount(8); the in-process variants above still ran")
    mountpoint = tmp_path / "fs"
    mountpoint.mkdir()
    done = _mount("-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mountpoint))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the in-process variants above still ran")

    def remount_ro() -> None:
        result = _mount("-o", "remount,ro", str(mountpoint))
        assert result.returncode == 0, result.stderr

    try:
        yield remount_ro
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=20, check=False)


async def test_cli_on_a_full_then_read_only_tmpfs(relay: RelayProcess, tmp_path: Path, tiny_fs: Any) -> None:
    alice_agent, bob_agent = await paired_agents(tmp_path / "fs", relay.url, "alice", "bob")
    await alice_agent.close()
    await bob_agent.close()
    home = alice_agent.home
    assert home.root is not None
    alice = Wire(home.root, tmp_path)
    relay.kill()
    queued = alice.ok("send", "bob", "fits").json()
    assert queued["status"] == "queued"
    outbox = home.outbox_path("bob")
    before = outbox.read_bytes()
    filler = tmp_path / "fs" / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as fill:  # fill the disk to the last block
        while True:
            fill.write(b"\0" * 4096)
            fill.flush()
    full = alice("send", "bob", "x" * 20000)
    assert full.code == 1, str(full)
    error = json.loads(full.err)["error"]
    print(f"\n[disk full] wire send → exit {full.code}: {full.err.strip()}")
    assert "No space left on device" in error["message"]
    assert "disk holding your wire home is full" in error["hint"]
    assert outbox.read_bytes() == before  # nothing half-written
    filler.unlink()

    tiny_fs()  # remount read-only
    ro = alice("send", "bob", "read-only now")
    assert ro.code == 1, str(ro)
    print(f"[read-only] wire send → exit {ro.code}: {ro.err.strip()}")
    assert "Read-only file system" in json.loads(ro.err)["error"]["message"]
    assert "read-only file system" in json.loads(ro.err)["error"]["hint"]
    assert outbox.read_bytes() == before
    assert WireHome.at(home.root).is_initialized
