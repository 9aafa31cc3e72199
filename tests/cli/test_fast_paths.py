# SPDX-License-Identifier: MIT
"""Verbs that agents and status lines call constantly must not pay for heavy imports.

Each case runs the real entry point in a fresh interpreter and lists which heavy modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import base_env

HEAVY = ("typer", "click", "aiohttp", "mcp", "pydantic", "rich")


def loaded_heavy_modules(args: list[str], tmp_path: Path) -> tuple[list[str], str]:
    code = (
        "import sys, json, runpy\n"
        f"sys.argv = ['wire', *{args!r}]\n"
        "try:\n"
        "    runpy.run_module('wire_cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"sys.stderr.write(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=base_env(tmp_path), timeout=60, check=True
    )
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


@pytest.mark.parametrize("args", [["--version"], ["-V"]])
def test_version_imports_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    heavy, out = loaded_heavy_modules(args, tmp_path)
    assert out.startswith("wire ")
    assert heavy == []
