# SPDX-License-Identifier: AGPL-3.0-or-later
"""The serving relay freezes its start-up heap and collects young objects less often (p99, issue 17)."""

from __future__ import annotations

import subprocess
import sys

from wire_relay.collector import YOUNG_THRESHOLD

PROBE = """
import gc
from wire_relay.collector import tune_collector
before = gc.get_threshold()
tune_collector()
after = gc.get_threshold()
print(before[0], after[0], after[1:] == before[1:], gc.get_freeze_count() > 0, gc.isenabled())
"""


def test_tune_collector_freezes_and_raises_only_the_young_threshold() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    before, after, rest_kept, frozen, enabled = done.stdout.split()
    assert int(before) < YOUNG_THRESHOLD == int(after)
    assert (rest_kept, frozen, enabled) == ("True", "True", "True")  # still collecting, never disabled
