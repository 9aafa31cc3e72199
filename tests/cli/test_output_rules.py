# SPDX-License-Identifier: MIT
"""Cross-cutting rules: JSON when piped, help and hidden aliases, the deprecation nag, emoji
fallback, exit codes, and lazy imports (no aiohttp/mcp for --help and whoami)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import WIRE, Wire, base_env, parallel

CANONICAL = ("init", "whoami", "here", "peers", "whois", "dial", "pending", "accept", "reject", "send", "tail")
HIDDEN = ("pair-accept", "pair-reject", "pair-list-inbound", "add")


@pytest.fixture(scope="module")
def alice(tmp_path_factory: pytest.TempPathFactory) -> Wire:
    root = tmp_path_factory.mktemp("rules")
    (root / "user").mkdir()
    runner = Wire(root / "alice", root / "user")
    runner.ok("init", "alice", "--offline")
    return runner


def test_offline_init_json_and_refusing_another_handle(tmp_path: Path, user_home: Path) -> None:
    fresh = Wire(tmp_path / "fresh", user_home)
    first = fresh.ok("init", "alice", "--offline")
    data = first.json()
    assert data["did"].startswith("did:wire:alice-")
    assert "relay_url" not in data
    again, other, bad, conflict = parallel(
        lambda: fresh("init", "alice", "--offline"),
        lambda: fresh("init", "bob", "--offline"),
        lambda: Wire(tmp_path / "bad", user_home)("init", "no spaces!", "--offline"),
        lambda: fresh("init", "alice", "--offline", "--relay", "http://127.0.0.1:9"),
    )
    assert again.code == 0
    assert again.json()["status"] == "already_initialized"
    assert other.code == 1
    assert "refusing to re-key" in json.loads(other.err)["error"]["message"]
    assert bad.code == 1
    assert conflict.code == 2


def test_json_when_piped_and_opt_out(alice: Wire) -> None:
    piped, human, forced = parallel(
        lambda: alice("whoami"),
        lambda: alice("whoami", human=True),
        lambda: alice("whoami", "--json", human=True),
    )
    assert piped.json()["handle"] == "alice"
    assert set(piped.json()["character"]["palette"]) == {
        "primary_hex",
        "accent_hex",
        "ansi256_primary",
        "ansi256_accent",
    }
    assert human.out.splitlines()[1].startswith("did:wire:alice-")
    assert "\x1b[" not in human.out
    assert forced.json()["did"] == piped.json()["did"]
    for verb in ("peers", "here", "status", "pending"):
        assert json.loads(alice.ok(verb).out) is not None, verb


def test_whoami_before_init_and_usage_errors(wire: Wire) -> None:
    missing, missing_json, usage, version = parallel(
        lambda: wire("whoami", human=True),
        lambda: wire("whoami"),
        lambda: wire("send"),
        lambda: wire("--version"),
    )
    assert missing.code == 1
    assert "wire init <handle>" in missing.err
    assert missing.out == ""
    assert missing_json.code == 1
    assert json.loads(missing_json.err)["error"]["code"] == "not_initialized"
    assert usage.code == 2
    assert version.code == 0
    assert version.out.startswith("wire ")


def test_help_lists_canonical_verbs_and_hides_aliases(wire: Wire) -> None:
    text = wire.ok("--help").out
    listed = {line.split()[0] for line in text.splitlines() if line.startswith("  ") and line.split()}
    assert set(CANONICAL) <= listed
    assert not set(HIDDEN) & listed


def test_hidden_aliases_work_and_nag_once(alice: Wire) -> None:
    human, piped, silenced, add = parallel(
        lambda: alice("pair-list-inbound", human=True),
        lambda: alice("pair-list-inbound"),
        lambda: alice("pair-reject", "nobody", human=True, env={"WIRE_DEPRECATION_NAGGED_pair_reject": "1"}),
        lambda: alice("add", "nobody-here", human=True),
    )
    assert human.code == 0
    assert human.err.count("DEPRECATED") == 1
    assert "`wire pending`" in human.err
    assert "no pending pair requests" in human.out
    assert piped.code == 0
    assert piped.json() == []
    assert piped.err == ""
    assert silenced.code == 0
    assert "DEPRECATED" not in silenced.err
    assert "DEPRECATED" in add.err
    assert "`wire dial`" in add.err


def test_emoji_fallback_and_colour(alice: Wire) -> None:
    ascii_env = {"WIRE_EMOJI": "off"}
    dumb = {"TERM": "dumb", "LANG": "C", "LC_ALL": "", "LC_CTYPE": ""}
    tagged, no_emoji_terminal, emoji, colored, here = parallel(
        lambda: alice("whoami", "--short", env=ascii_env),
        lambda: alice("whoami", "--short", env=dumb),
        lambda: alice("whoami", "--short", env={"WIRE_EMOJI": "on"}),
        lambda: alice("whoami", "--colored"),
        lambda: alice("here", human=True, env=dumb),
    )
    nickname = alice.ok("whoami").json()["character"]["nickname"]
    assert tagged.out.startswith("[")
    assert f"] {nickname} · " in tagged.out
    assert no_emoji_terminal.out == tagged.out
    assert not emoji.out.startswith("[")
    assert f" {nickname} · " in emoji.out
    assert colored.out.startswith("\x1b[38;5;")
    assert "\x1b[2m·\x1b[0m" in colored.out
    assert "you are [" in here.out
    assert "no neighbors yet" in here.out


def test_sanitizes_peer_supplied_text(tmp_path: Path, user_home: Path) -> None:
    evil = Wire(tmp_path / "evil", user_home)
    evil.ok("init", "mallory", "--offline")
    result = evil.ok("identity", "rename", "--name", "ok\x1b[31mred\x07", human=True)
    assert "\x1b[31m" not in result.out
    assert "\x07" not in result.out


def _imported(args: list[str], env: dict[str, str]) -> set[str]:
    code = (
        "import sys, runpy; sys.argv = ['wire', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('wire_cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('MODULES ' + ' '.join(sorted(m for m in sys.modules if m in "
        "('aiohttp', 'mcp', 'wire_client', 'typer', 'pydantic', 'wire_protocol'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES"))
    return set(line.split()[1:])


def test_lazy_imports(alice: Wire) -> None:
    assert alice.home is not None
    env = base_env(alice.user_home, {"WIRE_HOME": str(alice.home)})
    help_modules = _imported(["--help"], env)
    assert not {"aiohttp", "mcp", "wire_client"} & help_modules
    (alice.home / "state" / "wire" / "whoami-cache.json").unlink(missing_ok=True)
    cold = _imported(["whoami", "--short"], env)
    warm = _imported(["whoami", "--short"], env)
    assert not {"aiohttp", "mcp", "wire_client", "typer"} & cold
    assert warm == set(), warm  # a cache hit needs nothing beyond the standard library


def test_entry_point_is_installed() -> None:
    assert WIRE.exists(), f"{WIRE} missing: `uv pip install -e packages/wire-cli`"
