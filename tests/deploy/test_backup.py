# SPDX-License-Identifier: MIT
"""deploy/backup/sqlite-backup.py takes a consistent copy of a LIVE relay's SQLite store while
events keep arriving; a relay started on the copy serves every event acknowledged before the
backup began; old backups rotate; the backup units pass systemd-analyze verify."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.proxies import DEPLOY
from tests.helpers.relay_process import RelayProcess

pytestmark = pytest.mark.timeout(120)

SCRIPT = DEPLOY / "backup" / "sqlite-backup.py"


def _post(url: str, path: str, body: object, token: str | None = None) -> dict[str, str]:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        result: dict[str, str] = json.loads(answer.read())
        return result


def _backup(store: Path, dest: Path, keep: int = 14) -> Path:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(store), str(dest), "--keep", str(keep)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def test_online_backup_of_a_live_relay_restores(tmp_path: Path) -> None:
    store = tmp_path / "live" / "relay.sqlite3"
    with RelayProcess(tmp_path / "live", store_url=f"sqlite:///{store}") as relay:
        slot = _post(relay.url, "/v1/slot/allocate", {})
        before = [f"before-{n}" for n in range(200)]
        for event_id in before:
            _post(relay.url, f"/v1/events/{slot['slot_id']}", {"event": {"event_id": event_id}}, slot["slot_token"])
        stop = threading.Event()
        during: list[str] = []

        def keep_writing() -> None:
            n = 0
            while not stop.is_set() and n < 5000:
                event_id = f"during-{n}"
                _post(relay.url, f"/v1/events/{slot['slot_id']}", {"event": {"event_id": event_id}}, slot["slot_token"])
                during.append(event_id)
                n += 1

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            copy = _backup(store, tmp_path / "backups")
        finally:
            stop.set()
            writer.join(timeout=30)
        assert not writer.is_alive()
    assert copy.name.startswith("relay-")
    assert copy.stat().st_mode & 0o077 == 0, "backups are private to the relay's user"

    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    shutil.copy(copy, restored_dir / "relay.sqlite3")
    with RelayProcess(restored_dir) as restored:
        request = urllib.request.Request(
            f"{restored.url}/v1/events/{slot['slot_id']}?limit=1000",
            headers={"Authorization": f"Bearer {slot['slot_token']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            listed = json.loads(answer.read())
    events = listed if isinstance(listed, list) else listed["events"]
    ids = [event["event_id"] for event in events]
    assert ids[: len(before)] == before
    assert set(ids) <= set(before) | set(during)  # a consistent prefix, nothing invented
    print(f"\nbackup taken while writing: {len(ids) - len(before)} of {len(during)} concurrent events in the copy")


def test_backups_rotate_and_a_missing_store_is_one_line(tmp_path: Path) -> None:
    store = tmp_path / "relay.sqlite3"
    with RelayProcess(tmp_path, store_url=f"sqlite:///{store}"):
        made = [_backup(store, tmp_path / "backups", keep=2) for _ in range(3)]
    left = sorted((tmp_path / "backups").glob("relay-*.sqlite3"))
    assert left == made[1:]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "nope.sqlite3"), str(tmp_path / "b")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("sqlite-backup: no store at")
    assert "Traceback" not in done.stderr


@pytest.mark.real_part("systemd")
def test_backup_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd; .ci/run installs it)")
    for name in ("wire-relay-backup.service", "wire-relay-backup.timer"):
        shutil.copy(DEPLOY / "systemd" / name, tmp_path / name)
    done = subprocess.run(
        [
            analyze,
            "verify",
            "--man=no",
            str(tmp_path / "wire-relay-backup.timer"),
            str(tmp_path / "wire-relay-backup.service"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr
