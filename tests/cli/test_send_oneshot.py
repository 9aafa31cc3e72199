# SPDX-License-Identifier: MIT
"""``wire send`` goes through wire-client's stdlib ``oneshot`` transport (the 300 ms wall budget):
it never imports aiohttp, and keeps the verdicts — delivered, or queued with the reason while the
relay is down, then delivered by ``wire push`` once it is back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import WIRE, Wire, base_env, parallel
from tests.helpers.relay_process import RelayProcess


def test_send_skips_aiohttp_and_queues_while_the_relay_is_down(tmp_path: Path, user_home: Path) -> None:
    with RelayProcess(tmp_path / "relay") as relay:
        machine = Wire(tmp_path / "root", user_home)
        for name in ("onealice", "onebob"):
            (user_home / name).mkdir()
        for result in parallel(
            *(
                lambda n=n: machine("session", "new", n, "--relay", relay.url, cwd=user_home / n)
                for n in ("onealice", "onebob")
            )
        ):
            assert result.code == 0, str(result)
        assert machine.ok("session", "pair-all-local").json()["pairs_succeeded"] == 1
        alice, bob = (Wire(tmp_path / "root" / "sessions" / n, user_home) for n in ("onealice", "onebob"))

        traced = subprocess.run(
            [sys.executable, "-X", "importtime", str(WIRE), "send", "onebob", "first"],
            capture_output=True,
            text=True,
            env=base_env(user_home, {"WIRE_HOME": str(alice.home)}),
            cwd=user_home,
            timeout=60,
            check=False,
        )
        assert traced.returncode == 0, traced.stderr
        assert '"status": "delivered"' in traced.stdout
        imported = {line.rsplit("|", 1)[-1].strip() for line in traced.stderr.splitlines() if "|" in line}
        assert "wire_client._relay.client" in imported
        assert not {"aiohttp", "spake2"} & imported

        relay.kill()
        down = alice("send", "onebob", "while down", human=True)
        assert down.code == 0, str(down)
        assert "queued for" in down.out
        assert "connect error" in down.out
        assert "`wire push`" in down.out
        queued = alice.ok("send", "onebob", "still down").json()
        assert queued["status"] == "queued"
        assert "still queued" in queued["reason"]

        relay.restart()
        pushed = alice.ok("push").json()
        assert pushed["still_queued"] == {}
        bodies = [e["body"] for e in bob.ok("tail").jsonl() if e.get("type") == "claim"]
        assert bodies == ["first", "while down", "still down"]
