#!/usr/bin/env python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Online backup of a wire-relay SQLite store, safe while the relay runs (standard library only).

    sqlite-backup.py /var/lib/wire-relay/relay.sqlite3 /var/lib/wire-relay-backups [--keep 14]

Copies the store with SQLite's online backup API (a consistent snapshot, even in WAL mode and
under writes) to DEST/relay-YYYYmmdd-HHMMSS-micros.sqlite3, checks the copy with ``PRAGMA
integrity_check``, then deletes all but the newest ``--keep`` backups. The copy is written to a
temporary name first, so a partial file never looks like a backup. Exit code 0 on success.
Run it as the relay's own user (deploy/systemd/wire-relay-backup.service does).
Restore: stop the relay, copy a backup over relay.sqlite3, delete relay.sqlite3-wal and
relay.sqlite3-shm if present, start the relay.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import sqlite3
import sys
from pathlib import Path

PAGES_PER_STEP = 1024  # copy in steps so the relay's writer is never blocked for long


def backup(store: Path, dest_dir: Path, keep: int) -> Path:
    if not store.is_file():
        raise FileNotFoundError(f"no store at {store}")
    dest_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = dest_dir / datetime.datetime.now(datetime.UTC).strftime("relay-%Y%m%d-%H%M%S-%f.sqlite3")
    partial = final.with_suffix(".partial")
    source = sqlite3.connect(store, timeout=30)  # run as the relay's user (files it may create stay its own)
    try:
        with contextlib.closing(sqlite3.connect(partial)) as target:
            source.backup(target, pages=PAGES_PER_STEP, sleep=0.005)
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise RuntimeError(f"the copy failed its integrity check: {verdict}")
    finally:
        source.close()
    os.chmod(partial, 0o600)
    partial.replace(final)
    for old in sorted(dest_dir.glob("relay-*.sqlite3"))[:-keep]:
        old.unlink()
    return final


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="online backup of a wire-relay SQLite store")
    parser.add_argument("store", type=Path, help="the relay's relay.sqlite3")
    parser.add_argument("dest", type=Path, help="directory for the backups")
    parser.add_argument("--keep", type=int, default=14, help="backups to keep (default 14)")
    args = parser.parse_args(argv)
    if args.keep < 1:
        parser.error("--keep must be at least 1")
    try:
        written = backup(args.store, args.dest, args.keep)
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        sys.stderr.write(f"sqlite-backup: {exc}\n")
        return 1
    sys.stdout.write(f"{written}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
