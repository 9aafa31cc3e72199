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


def loaded_heavy_modules(
    args: list[str], tmp_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[list[str], str]:
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
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=base_env(tmp_path, extra_env),
        timeout=60,
        check=True,
    )
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


@pytest.mark.parametrize("args", [["--version"], ["-V"]])
def test_version_imports_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    heavy, out = loaded_heavy_modules(args, tmp_path)
    assert out.startswith("wire ")
    assert heavy == []


#: verbs that only read local files (issue 17: agents call them constantly; budget 100 ms each)
LOCAL_VERBS = [["whoami"], ["peers"], ["pending"], ["here"], ["status"], ["tail"], ["doctor"]]


def _python(args: list[str], user_home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=base_env(user_home, env), timeout=60, check=False
    )


@pytest.fixture(scope="module")
def offline_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    user_home = tmp_path_factory.mktemp("user")
    env = {"WIRE_HOME": str(user_home / "wire")}
    done = _python(["-m", "wire_cli", "init", "alice", "--offline", "--json"], user_home, env)
    assert done.returncode == 0, done.stderr
    return user_home, env


@pytest.mark.parametrize("args", LOCAL_VERBS, ids=" ".join)
def test_local_verbs_import_neither_aiohttp_nor_the_mcp_sdk(
    args: list[str], offline_home: tuple[Path, dict[str, str]]
) -> None:
    user_home, env = offline_home
    heavy, out = loaded_heavy_modules([*args, "--json"], user_home, env)
    # the verb ran and answered in JSON (tail: JSON lines, none for an empty inbox; doctor: its checks)
    if args == ["tail"]:
        assert all(json.loads(line) is not None for line in out.splitlines())
    else:
        assert json.loads(out) is not None
    assert "aiohttp" not in heavy
    assert "mcp" not in heavy


def test_typer_free_local_verbs_share_the_typer_apps_flags() -> None:
    """The fast path's flags are the typer commands' own: same spelling, keyword, help; no other required input."""
    import typer.main

    from wire_cli.app import app
    from wire_cli.local_verbs import LOCAL_VERBS

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, verb in LOCAL_VERBS.items():
        params = {p.name: p for p in commands[name].params}
        for flag in verb.flags:
            param = params[flag.dest]
            assert (list(param.opts), param.is_flag, param.help) == (list(flag.names), True, flag.help), name
        assert not [p.name for p in params.values() if p.required], f"{name} needs input the fast path cannot give"


@pytest.mark.parametrize("verb", ["peers", "here"])
def test_local_verb_answers_the_same_with_and_without_typer(
    verb: str, offline_home: tuple[Path, dict[str, str]]
) -> None:
    user_home, env = offline_home
    heavy, fast = loaded_heavy_modules([verb, "--json"], user_home, env)
    assert "typer" not in heavy
    assert "pydantic" not in heavy
    typer_only = "import sys; from wire_cli.app import run; sys.argv = sys.argv[1:]; run()"
    through_typer = _python(["-c", typer_only, "wire", verb, "--json"], user_home, env)
    assert through_typer.returncode == 0, through_typer.stderr
    assert json.loads(fast) == json.loads(through_typer.stdout)
