# SPDX-License-Identifier: MIT
"""`wire dial` refuses a directory record without a valid claim proof unless `--allow-unproven`
(issue 18, client side). Real relay process with `--accept-unproven-claims`, real CLI processes; the
unproven nick is claimed the way a reference client claims it (raw HTTP, no proof)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from tests.helpers.cli import Wire
from tests.helpers.relay_process import RelayProcess
from wire_protocol import SigningKey, build_agent_card


def _post(url: str, body: dict[str, object], token: str | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


def test_dial_refuses_an_unproven_record_unless_allowed(tmp_path: Path) -> None:
    with RelayProcess(tmp_path / "relay", extra_args=["--log-level", "warning", "--accept-unproven-claims"]) as relay:
        key = SigningKey.generate()
        card = build_agent_card(key, "carol")
        slot = _post(f"{relay.url}/v1/slot/allocate", {})
        claim = {"nick": "carol", "slot_id": slot["slot_id"], "relay_url": None, "card": card.to_json()}
        _post(f"{relay.url}/v1/handle/claim", claim, str(slot["slot_token"]))
        (tmp_path / "user").mkdir()
        alice = Wire(tmp_path / "alice", tmp_path / "user")
        alice.ok("init", "alice", "--relay", relay.url)
        host = relay.url.removeprefix("http://")
        refused = alice("dial", f"carol@{host}", human=True)
        assert refused.code != 0, str(refused)
        assert "--allow-unproven" in refused.err + refused.out
        assert "claim proof" in refused.err + refused.out
        allowed = alice.ok("dial", f"carol@{host}", "--allow-unproven", "--json")
        assert allowed.json()["status"] == "drop_sent"
