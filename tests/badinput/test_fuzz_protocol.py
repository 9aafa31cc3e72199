# SPDX-License-Identifier: MIT
"""CI run of the protocol fuzz target (``tests/badinput/fuzz_protocol.py``): short, bounded.

* the plain-Python driver: a fixed number of structure-aware mutations from a fixed seed
  (reproducible; always runs);
* atheris (coverage-guided libFuzzer) for ~8 s in a subprocess, when atheris is installed.

Longer runs by hand: ``.venv/bin/python tests/badinput/fuzz_protocol.py -max_total_time=600``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import wire_protocol as wp
from tests.badinput import fuzz_protocol as fp

TARGET = Path(fp.__file__)


def test_every_seed_is_accepted_by_its_target() -> None:
    for data in fp.seeds():
        assert fp.test_one_input(data), data[:80]


def test_plain_driver() -> None:
    stats = fp.run_plain(seed=20271115, iterations=40_000)
    assert stats["runs"] == 40_000
    assert stats["accepted"] > 0  # mutations still reach past the parsers into verification


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
def test_atheris_short_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    done = subprocess.run(
        [sys.executable, str(TARGET), "-max_total_time=8", "-timeout=10", f"-artifact_prefix={tmp_path}/", str(corpus)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done" in done.stderr or "DONE" in done.stderr, done.stderr[-2000:]
    assert not list(tmp_path.glob("crash-*"))


# --------------------------------------------------------------------------- escapes the fuzzer found (fixed)


def test_known_1_deep_json_is_a_canonicalization_error() -> None:
    with pytest.raises(wp.CanonicalizationError):
        wp.loads("[" * 100_000 + "]" * 100_000)


def test_known_2_impossible_date_is_an_event_error() -> None:
    with pytest.raises(wp.EventError):
        wp.parse_timestamp("2027-21-15T08:00:00Z")
