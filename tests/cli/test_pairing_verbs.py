# SPDX-License-Identifier: MIT
"""SAS code-phrase pairing through the real ``wire`` command: pair-host, pair-join, pair-confirm.

Two homes on one relay process. The host shows a code phrase at once (also with ``--wait``: on
stdout in human mode, as a JSON line on stderr in JSON mode), the guest joins with it, both show
the same SAS digits, each types the other's digits back → paired, and messages flow. Wrong digits
abort the pairing for both. ``pair-confirm`` prompts only on a terminal; here the digits are the
second argument, and leaving them out without a terminal is a usage error.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
from pathlib import Path
from typing import IO

from tests.helpers.cli import Wire, parallel
from tests.helpers.relay_process import RelayProcess

LINE_WAIT = 20.0
CODE_PHRASE = re.compile(r"code phrase: (\d{2}-[A-Z2-7]{6})")
SAS_LINE = re.compile(r"SAS: (\d{3}-\d{3})")


def first_line(stream: IO[str] | None) -> str:
    """The first line a child writes on ``stream``, waiting at most ``LINE_WAIT`` seconds."""
    assert stream is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=LINE_WAIT)
    except queue.Empty:
        raise AssertionError(f"no line within {LINE_WAIT}s") from None


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        raise AssertionError(f"wire did not finish in time\nstdout:\n{out}\nstderr:\n{err}") from None
    return proc.returncode, out, err


def two_homes(tmp_path: Path, user_home: Path, relay: RelayProcess, tag: str) -> tuple[Wire, Wire, str, str]:
    host, guest = Wire(tmp_path / "host", user_home), Wire(tmp_path / "guest", user_home)
    names = f"host{tag}", f"guest{tag}"
    for result in parallel(
        lambda: host("init", names[0], "--relay", relay.url),
        lambda: guest("init", names[1], "--relay", relay.url),
    ):
        assert result.code == 0, str(result)
    return host, guest, *names


def other_digits(sas: str) -> str:
    """Six digits that are certainly not ``sas``."""
    digits = sas.replace("-", "")
    return "".join(str((int(d) + 1) % 10) for d in digits)


def test_sas_pairing_json_host_waits_then_both_confirm(relay: RelayProcess, tmp_path: Path, user_home: Path) -> None:
    host, guest, host_name, guest_name = two_homes(tmp_path, user_home, relay, "j")
    hosting = host.popen("pair-host", "--wait", "25", "--json")
    announced = json.loads(first_line(hosting.stderr))  # before any wait: the guest needs it
    assert announced["role"] == "host"
    assert announced["state"] == "waiting"
    assert re.fullmatch(r"\d{2}-[A-Z2-7]{6}", announced["code_phrase"])
    joined = guest.ok("pair-join", announced["code_phrase"], "--json").json()
    code, out, err = finish(hosting)
    assert code == 0, err
    hosted = json.loads(out)  # stdout holds exactly one document: the final status
    assert joined["state"] == hosted["state"] == "sas_ready"
    assert re.fullmatch(r"\d{3}-\d{3}", hosted["sas"])
    assert joined["sas"] == hosted["sas"]
    assert joined["session_id"] == hosted["session_id"] == announced["session_id"]
    assert "slot_token" not in out

    host_done, guest_done = parallel(
        lambda: host("pair-confirm", hosted["session_id"], joined["sas"], human=True),
        lambda: guest("pair-confirm", joined["code_phrase"], hosted["sas"].replace("-", " "), "--json"),
    )
    assert host_done.code == 0, str(host_done)
    assert "state: paired" in host_done.out
    assert f"paired with {guest_name}" in host_done.out
    assert guest_done.code == 0, str(guest_done)
    final = guest_done.json()
    assert final["state"] == "paired"
    assert final["peer_handle"] == host_name

    peers_host, peers_guest = parallel(lambda: host.ok("peers"), lambda: guest.ok("peers"))
    assert [(p["handle"], p["tier"]) for p in peers_host.json()] == [(guest_name, "VERIFIED")]
    assert [(p["handle"], p["tier"]) for p in peers_guest.json()] == [(host_name, "VERIFIED")]
    sent = guest.ok("send", host_name, "paired by code phrase").json()
    assert sent["status"] == "delivered"
    tail = host.ok("tail", "--limit", "5").jsonl()
    assert [e["body"] for e in tail if e.get("type") == "claim"] == ["paired by code phrase"]


def test_sas_human_mode_and_wrong_digits_abort(relay: RelayProcess, tmp_path: Path, user_home: Path) -> None:
    host, guest, _, _ = two_homes(tmp_path, user_home, relay, "h")
    hosting = host.popen("pair-host", "--wait", "25", human=True)
    match = CODE_PHRASE.search(first_line(hosting.stdout))
    assert match is not None
    phrase = match.group(1)
    joined = guest("pair-join", phrase, human=True)
    assert joined.code == 0, str(joined)
    code, out, err = finish(hosting)
    assert code == 0, err
    guest_sas, host_sas = SAS_LINE.search(joined.out), SAS_LINE.search(out)
    assert guest_sas is not None
    assert host_sas is not None
    assert guest_sas.group(1) == host_sas.group(1)
    assert "compare with the other side" in joined.out

    no_digits = host("pair-confirm", phrase, human=True)
    assert no_digits.code == 2, str(no_digits)
    assert "needs the 6 digits" in no_digits.err

    wrong = host("pair-confirm", phrase, other_digits(guest_sas.group(1)), human=True)
    assert wrong.code == 1, str(wrong)
    assert "error:" in wrong.err
    assert "SAS" in wrong.err or "sas" in wrong.err
    again = host("pair-confirm", phrase, guest_sas.group(1))  # aborted for good, even with the right digits
    assert again.code == 1
    assert json.loads(again.err)["error"]["reason"] == "aborted"

    late = guest("pair-confirm", phrase, host_sas.group(1), "--wait", "5")
    assert late.code == 1, str(late)  # the host abandoned the relay's pair slot: the guest cannot finish
    assert json.loads(late.err)["error"]["reason"] == "pair_slot_lost"
    for side in parallel(lambda: host.ok("peers"), lambda: guest.ok("peers")):
        assert side.json() == []
