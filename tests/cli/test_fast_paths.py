# SPDX-License-Identifier: MIT
"""Verbs that agents and status lines call constantly must not pay for heavy imports (issue 17).

Each case runs the real entry point in a fresh interpreter and lists which heavy modules it loaded;
the typer-free answers are compared byte for byte with the typer app's for the same command line.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.agents import make_agent, pair_manually
from tests.helpers.cli import base_env
from tests.helpers.relay_process import RelayProcess
from wire_cli.local_verbs import LOCAL_VERBS as FAST_VERBS
from wire_cli.local_verbs import Flag, Value, parse

#: never imported by a local verb (asyncio too, unless the verb fetches or checks a relay)
HEAVY = ("typer", "click", "aiohttp", "mcp", "pydantic", "rich")
WATCHED = (*HEAVY, "asyncio")

_TYPER_ONLY = "import sys; from wire_cli.app import run; sys.argv = sys.argv[1:]; run()"


def _python(
    args: list[str], user_home: Path, env: dict[str, str], *, human: bool = False
) -> subprocess.CompletedProcess[str]:
    extra = env | ({"WIRE_NO_AUTO_JSON": "1"} if human else {})
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=base_env(user_home, extra),
        cwd=user_home,
        timeout=60,
        check=False,
    )


def run_fast(
    args: list[str], user_home: Path, env: dict[str, str] | None = None, *, human: bool = False
) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """Run ``wire ARGS`` through the entry point; returns the watched modules it loaded and the process."""
    code = (
        "import sys, json, runpy\n"
        f"sys.argv = ['wire', *{args!r}]\n"
        "try:\n"
        "    runpy.run_module('wire_cli', run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "else:\n"
        "    code = 0\n"
        "sys.stdout.flush()\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({list(WATCHED)!r}))\n"
        "sys.stderr.write('\\n' + json.dumps(loaded))\n"
        "sys.exit(code)\n"
    )
    done = _python(["-c", code], user_home, env or {}, human=human)
    *stderr, last = done.stderr.split("\n")
    done.stderr = "\n".join(stderr)
    return json.loads(last), done


def run_typer(
    args: list[str], user_home: Path, env: dict[str, str], *, human: bool = False
) -> subprocess.CompletedProcess[str]:
    return _python(["-c", _TYPER_ONLY, "wire", *args], user_home, env, human=human)


@pytest.mark.parametrize("args", [["--version"], ["-V"]])
def test_version_imports_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    loaded, done = run_fast(args, tmp_path)
    assert done.stdout.startswith("wire ")
    assert loaded == []


# --- the option definitions are the typer app's own ---------------------------------------------


def test_typer_free_local_verbs_share_the_typer_apps_options() -> None:
    """Each option the fast path parses is the typer command's own: spelling, keyword, help, type, default."""
    import typer.main

    from wire_cli.app import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, verb in FAST_VERBS.items():
        params = {p.name: p for p in commands[name].params}
        for spec in verb.options:
            param = params[spec.dest]
            kind = bool if isinstance(spec, Flag) else spec.kind
            default = False if isinstance(spec, Flag) else spec.default
            assert (param.param_type_name, list(param.opts), param.help) == ("option", list(spec.names), spec.help)
            assert (param.type_descriptor.annotation, param.default) == (kind, default), (name, spec.dest)
            assert param.is_flag is isinstance(spec, Flag), (name, spec.dest)
        if verb.argument is not None:
            param = params[verb.argument.dest]
            assert (param.param_type_name, param.required, param.help) == ("argument", False, verb.argument.help)
            assert param.type_descriptor.annotation is str, name
        assert not [p.name for p in params.values() if p.required], f"{name} needs input the fast path cannot give"


def test_fast_parser_takes_only_what_it_knows() -> None:
    tail = FAST_VERBS["tail"]
    defaults = {spec.dest: spec.default if isinstance(spec, Value) else False for spec in tail.options}
    assert parse(tail, []) == defaults | {"peer": None}
    assert parse(tail, ["bob", "--limit", "0", "--json"]) == defaults | {"peer": "bob", "limit": 0, "json_": True}
    assert parse(tail, ["--limit=7", "--since", "30m", "--offline"]) == defaults | {
        "peer": None,
        "limit": 7,
        "since": "30m",
        "offline": True,
    }
    # typer parses (and words the errors of) everything else
    for args in (
        ["--follow"],
        ["-f"],
        ["--help"],
        ["--limit"],
        ["--limit", "many"],
        ["bob", "carol"],
        ["--json=1"],
        ["--"],
        ["-"],
    ):
        assert parse(tail, args) is None, args
    assert parse(FAST_VERBS["status"], ["--peer", "bob"]) is None
    assert parse(FAST_VERBS["peers"], ["bob"]) is None


# --- an offline home ----------------------------------------------------------------------------

#: verbs that only read local files (issue 17: agents call them constantly; budget 100 ms each)
LOCAL_VERBS = [
    ["whoami"],
    ["peers"],
    ["pending"],
    ["here"],
    ["status"],
    ["tail"],
    ["tail", "--limit", "0"],
    ["doctor"],
    ["doctor", "--offline"],
]


@pytest.fixture(scope="module")
def offline_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    user_home = tmp_path_factory.mktemp("user")
    env = {"WIRE_HOME": str(user_home / "wire")}
    done = _python(["-m", "wire_cli", "init", "alice", "--offline", "--json"], user_home, env)
    assert done.returncode == 0, done.stderr
    return user_home, env


@pytest.mark.parametrize("args", LOCAL_VERBS, ids=" ".join)
def test_local_verbs_import_no_heavy_module(args: list[str], offline_home: tuple[Path, dict[str, str]]) -> None:
    user_home, env = offline_home
    loaded, done = run_fast([*args, "--json"], user_home, env)
    # the verb ran and answered in JSON (tail: JSON lines, none for an empty inbox; doctor: its checks,
    # exit 1 since an offline identity has no slot)
    assert done.returncode == (1 if args[0] == "doctor" else 0), done.stderr
    if args[0] == "tail":
        assert all(json.loads(line) is not None for line in done.stdout.splitlines())
    else:
        assert json.loads(done.stdout) is not None
    assert loaded == [], f"wire {' '.join(args)} imported {loaded}"


# --- a home with a relay, a peer, 30 messages and a pending request ------------------------------


@pytest.fixture(scope="module")
def busy_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], RelayProcess]]:
    """alice: bound to a real relay, paired with bob (30 sealed messages in her inbox), her handle
    claimed, and carol's pair request pending."""
    root = tmp_path_factory.mktemp("busy")
    with RelayProcess(root / "relay") as relay:

        async def build() -> None:
            alice, bob, carol = (make_agent(root, name) for name in ("alice", "bob", "carol"))
            for agent in (alice, bob, carol):
                await agent.bind_relay(relay.url)
            await alice.claim()
            pair_manually(alice, bob)
            for n in range(30):
                await bob.send("alice", {"text": f"message {n}"})
            await carol.pairing.dial(f"alice@127.0.0.1:{relay.port}")
            await alice.pull()
            for agent in (alice, bob, carol):
                await agent.close()

        asyncio.run(build())
        user_home = root / "user"
        user_home.mkdir()
        yield user_home, {"WIRE_HOME": str(root / "alice")}, relay


SAME_ANSWER = [
    ["peers"],
    ["here"],
    ["status"],
    ["pending"],
    ["doctor"],
    ["doctor", "--offline"],
    ["tail"],
    ["tail", "--limit", "0"],
    ["tail", "bob", "--limit", "2"],
    ["tail", "--since", "1d", "--limit=3"],
    ["tail", "--include-handshake", "--limit", "3"],
    ["tail", "--offline", "--limit", "1"],
]


@pytest.mark.parametrize("human", [False, True], ids=["json", "text"])
@pytest.mark.parametrize("args", SAME_ANSWER, ids=" ".join)
def test_local_verb_answers_byte_for_byte_like_the_typer_app(
    args: list[str], human: bool, busy_home: tuple[Path, dict[str, str], RelayProcess]
) -> None:
    """Same stdout, stderr and exit code with and without typer; no heavy import on the fast path (a
    verb that fetches first or checks the relay uses wire-client's stdlib transport, not aiohttp)."""
    user_home, env, _ = busy_home
    loaded, fast = run_fast(args, user_home, env, human=human)
    through_typer = run_typer(args, user_home, env, human=human)
    assert (fast.stdout, fast.stderr, fast.returncode) == (
        through_typer.stdout,
        through_typer.stderr,
        through_typer.returncode,
    )
    assert fast.returncode == 0, fast.stderr
    assert fast.stdout.strip()
    assert not set(loaded) & set(HEAVY), f"wire {' '.join(args)} imported {loaded}"


def _pretend_a_daemon_runs(home: Path) -> Path:
    """The pidfile of a running daemon (it names this test process: alive, and not fetching)."""
    from wire_client import WireHome

    pidfile = WireHome.at(home).daemon_pid
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(json.dumps({"pid": os.getpid(), "started_at": "2026-01-01T00:00:00Z"}))
    return pidfile


def test_fetching_verbs_fetch_first_only_when_no_daemon_runs(
    busy_home: tuple[Path, dict[str, str], RelayProcess],
) -> None:
    """Without a daemon, `pending` and `tail` pull first (what bob sent a moment ago is shown); while
    one runs they answer from the files alone: no fetch, no asyncio, nothing heavy."""
    user_home, env, _ = busy_home
    home = Path(env["WIRE_HOME"])
    from wire_client import WireHome, daemon_status

    assert daemon_status(WireHome.at(home)) is None
    pidfile = _pretend_a_daemon_runs(home)
    try:
        status = daemon_status(WireHome.at(home))
        assert status is not None
        assert status.running

        async def bob_says(text: str) -> None:
            bob = make_agent(home.parent, "bob")
            await bob.send("alice", {"text": text})
            await bob.close()

        asyncio.run(bob_says("sent while a daemon runs"))
        for args in (["pending", "--json"], ["tail", "--json"]):
            loaded, done = run_fast(args, user_home, env)
            assert done.returncode == 0, done.stderr
            assert loaded == [], f"wire {' '.join(args)} imported {loaded} although a daemon keeps the home current"
        assert "sent while a daemon runs" not in done.stdout  # not fetched: the daemon's job
    finally:
        pidfile.unlink()
    loaded, done = run_fast(["tail", "--json"], user_home, env)
    assert done.returncode == 0, done.stderr
    assert "sent while a daemon runs" in done.stdout  # no daemon: fetched first (issue 14)
    assert "asyncio" in loaded
    assert not set(loaded) & set(HEAVY), loaded
