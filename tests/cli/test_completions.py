# SPDX-License-Identifier: MIT
"""Shell completion through real shells: `wire se<TAB>` offers `send` (bash, fish), zsh loads the script.

The completion script that `wire completions <shell>` prints calls `wire` back with
`_WIRE_COMPLETE=complete_<shell>`; typer's own completion machinery answers. A typer app built without
it answered "Shell bash not supported." and every shell completed nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import WIRE, base_env

TIMEOUT = 30


def _script(shell: str, tmp_path: Path) -> Path:
    env = base_env(tmp_path)
    done = subprocess.run(
        [str(WIRE), "completions", shell], capture_output=True, text=True, env=env, timeout=TIMEOUT, check=True
    )
    path = tmp_path / f"wire.{shell}"
    path.write_text(done.stdout)
    return path


def _shell(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian's package `{name}`; .ci/run installs it)")
    return found


def test_bash_completes_a_verb_prefix(tmp_path: Path) -> None:
    bash = _shell("bash")
    script = _script("bash", tmp_path)
    env = base_env(tmp_path, {"PATH": f"{WIRE.parent}:/usr/bin:/bin"})
    program = (
        f"source {script}\n"
        "COMP_WORDS=(wire se); COMP_CWORD=1; COMP_LINE='wire se'; COMP_POINT=${#COMP_LINE}\n"
        "_wire_completion wire\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        [bash, "--norc", "-c", program], capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False
    )
    offered = done.stdout.split()
    assert "send" in offered, done
    assert all(word.startswith("se") for word in offered), offered
    assert "not supported" not in done.stdout + done.stderr


def test_bash_completes_options_of_a_verb(tmp_path: Path) -> None:
    bash = _shell("bash")
    script = _script("bash", tmp_path)
    env = base_env(tmp_path, {"PATH": f"{WIRE.parent}:/usr/bin:/bin"})
    program = (
        f"source {script}\n"
        "COMP_WORDS=(wire tail --js); COMP_CWORD=2\n"
        "_wire_completion wire\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        [bash, "--norc", "-c", program], capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False
    )
    assert done.stdout.split() == ["--json"], done


@pytest.mark.real_part("fish")
def test_fish_completes_a_verb_prefix(tmp_path: Path) -> None:
    fish = _shell("fish")
    script = _script("fish", tmp_path)
    env = base_env(tmp_path, {"PATH": f"{WIRE.parent}:/usr/bin:/bin"})
    done = subprocess.run(
        [fish, "--no-config", "-c", f"source {script}; complete -C 'wire se'"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
    )
    offered = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert "send" in offered, done
    assert done.returncode == 0, done


@pytest.mark.real_part("zsh")
def test_zsh_script_loads_and_answers(tmp_path: Path) -> None:
    zsh = _shell("zsh")
    script = _script("zsh", tmp_path)
    env = base_env(tmp_path, {"PATH": f"{WIRE.parent}:/usr/bin:/bin"})
    done = subprocess.run(
        [zsh, "-f", "-c", f"autoload -Uz compinit && compinit -u -D && source {script} && whence -w _wire_completion"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done
    assert "function" in done.stdout, done
    assert done.stderr == "", done
    # what the zsh function asks `wire` for, answered by typer
    answer = subprocess.run(
        [str(WIRE)],
        check=False,
        capture_output=True,
        text=True,
        env={**env, "_WIRE_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "wire se"},
        timeout=TIMEOUT,
    )
    assert '"send"' in answer.stdout or "send" in answer.stdout.split(), answer


def test_unknown_shell_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(WIRE), "completions", "tcsh"],
        capture_output=True,
        text=True,
        env=base_env(tmp_path),
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown shell" in done.stdout + done.stderr
