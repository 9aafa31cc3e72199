# SPDX-License-Identifier: MIT
"""Static checks of deploy/ that need no extra software: every relay option the examples use
exists, the compose file has the scale-out shape it promises, the image is non-root with a health
check and a volume, and the shell scripts parse."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import relay_help
from tests.deploy.proxies import DEPLOY

pytestmark = pytest.mark.timeout(60)

COMPOSE = DEPLOY / "compose" / "compose.yaml"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"
SCRIPTS = sorted(DEPLOY.rglob("*.sh"))


OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]+)")


def _unit_options() -> list[str]:
    exec_start = re.search(r"^ExecStart=(.+)$", (DEPLOY / "systemd" / "wire-relay.service").read_text(), re.MULTILINE)
    assert exec_start is not None
    return OPTION.findall(exec_start.group(1))


def _compose_options() -> list[str]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return [arg for name in ("relay1", "relay2") for arg in services[name]["command"] if arg.startswith("--")]


def _image_options() -> list[str]:
    """The ENTRYPOINT's options and those of the ``podman run`` example after the image name."""
    text = CONTAINERFILE.read_text()
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.MULTILINE)
    example = re.search(r"localhost/wire-relay (--.*)$", text, re.MULTILINE)
    assert entrypoint is not None
    assert example is not None
    return OPTION.findall(entrypoint.group(1)) + OPTION.findall(example.group(1))


@pytest.mark.parametrize("options", [_unit_options, _compose_options, _image_options], ids=lambda f: f.__name__)
def test_examples_use_only_options_the_relay_has(options: Callable[[], list[str]]) -> None:
    used = options()
    assert used, "expected some wire-relay options"
    unknown = sorted(o for o in used if o not in relay_help())
    assert unknown == [], f"the example passes options wire-relay does not have: {unknown}"


def test_compose_runs_two_relays_on_postgres_behind_the_proxy() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    relays = {name: s for name, s in services.items() if "relay" in name}
    assert sorted(relays) == ["relay1", "relay2"]
    for service in relays.values():
        assert service["environment"]["WIRE_RELAY_STORE"].startswith("postgresql://wire:")
        assert "@db:5432/wire" in service["environment"]["WIRE_RELAY_STORE"]
        assert "ports" not in service, "relays are reached through the proxy only"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert "--trust-forwarded-for" in service["command"]
    assert "ports" not in services["db"]
    assert services["proxy"]["ports"][:2] == ["80:80", "443:443"]
    caddyfile = (DEPLOY / "compose" / "Caddyfile").read_text()
    assert "reverse_proxy relay1:8770 relay2:8770" in caddyfile
    assert "respond /metrics 404" in caddyfile


def test_containerfile_is_non_root_with_healthcheck_and_volume() -> None:
    text = CONTAINERFILE.read_text()
    final_stage = text.rsplit("\nFROM ", 1)[1]
    user = re.search(r"^USER (\d+)", final_stage, re.MULTILINE)
    assert user is not None
    assert int(user.group(1)) != 0
    assert "HEALTHCHECK" in final_stage
    assert "/healthz" in final_stage
    assert 'VOLUME ["/var/lib/wire-relay"]' in final_stage
    assert "WIRE_RELAY_STORE=sqlite:///var/lib/wire-relay/relay.sqlite3" in final_stage


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse_and_are_executable(script: Path) -> None:
    assert script.stat().st_mode & 0o111, f"{script} is not executable"
    shell = shutil.which("sh") or "/bin/sh"
    done = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
