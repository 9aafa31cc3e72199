# SPDX-License-Identifier: MIT
"""Issue 14 items 5 and 7 through the real `wire` command against a real relay process, no daemon:
accept right after a dial, reject typos, one truthful peer state, and exact retries of `wire send`."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.cli import Wire, parallel
from tests.helpers.relay_process import RelayProcess


def _pair(relay: RelayProcess, tmp_path: Path, tag: str) -> tuple[Wire, Wire, str, str]:
    user = tmp_path / "user"
    user.mkdir(exist_ok=True)
    dialer, callee = Wire(tmp_path / f"d{tag}", user), Wire(tmp_path / f"c{tag}", user)
    names = f"dialer{tag}", f"callee{tag}"
    for result in parallel(
        lambda: dialer("init", names[0], "--relay", relay.url), lambda: callee("init", names[1], "--relay", relay.url)
    ):
        assert result.code == 0, str(result)
    dialer.ok("dial", f"{names[1]}@{relay.url.removeprefix('http://')}")
    return dialer, callee, *names


def test_accept_fetches_first_and_states_agree(relay: RelayProcess, tmp_path: Path) -> None:
    dialer, callee, dialer_name, callee_name = _pair(relay, tmp_path, "a")
    before = dialer.ok("status", "--json").json()
    assert [(p["handle"], p["tier"]) for p in before["peers"]] == [(callee_name, "PENDING_ACK")]
    assert [(p["handle"], p["tier"]) for p in dialer.ok("peers").json()] == [(callee_name, "PENDING_ACK")]
    assert dialer.ok("here", "--json").json()["pinned_peers"][0]["tier"] == "PENDING_ACK"
    accepted = callee("accept", dialer_name, human=True)  # nobody pulled: accept fetches the request itself
    assert accepted.code == 0, str(accepted)
    assert f"paired with {dialer_name}" in accepted.out
    sent = dialer.ok("send", callee_name, "first words").json()
    assert sent["status"] == "delivered", sent
    assert [(p["handle"], p["tier"]) for p in dialer.ok("status", "--json").json()["peers"]] == [
        (callee_name, "VERIFIED")
    ]


def test_reject_typo_is_an_error_with_did_you_mean(relay: RelayProcess, tmp_path: Path) -> None:
    _, callee, dialer_name, _ = _pair(relay, tmp_path, "r")
    typo = dialer_name[:-1] + "x"
    missed = callee("reject", typo, human=True)
    assert missed.code == 1, str(missed)
    assert f"no pending pair request from `{typo}`" in missed.err
    assert f"did you mean: `wire reject {dialer_name}`" in missed.err
    as_json = callee("reject", typo, "--json")
    assert as_json.code == 1
    assert dialer_name in as_json.err
    rejected = callee("reject", dialer_name, human=True)
    assert rejected.code == 0, str(rejected)
    assert callee.ok("pending").json() == []


def test_exact_retry_of_send_is_a_duplicate_and_again_sends(relay: RelayProcess, tmp_path: Path) -> None:
    dialer, callee, dialer_name, callee_name = _pair(relay, tmp_path, "x")
    callee.ok("accept", dialer_name)
    first = dialer.ok("send", callee_name, "decision", "ship").json()
    assert first["status"] == "delivered", first
    retry = dialer("send", callee_name, "decision", "ship", human=True)
    assert retry.code == 0, str(retry)
    assert "not sent again" in retry.out
    assert "exact retry" in retry.out
    retry_json = dialer.ok("send", callee_name, "decision", "ship").json()
    assert retry_json["status"] == "duplicate"
    assert retry_json["event_id"] == first["event_id"]
    other_type = dialer.ok("send", callee_name, "claim", "ship").json()  # another type is another message
    assert other_type["status"] == "delivered"
    again = dialer.ok("send", callee_name, "decision", "ship", "--again").json()
    assert again["status"] == "delivered"
    assert again["event_id"] != first["event_id"]
    bodies = [(e["type"], e["body"]) for e in callee.ok("tail").jsonl()]
    assert bodies == [("decision", "ship"), ("claim", "ship"), ("decision", "ship")]
    human = callee.ok("tail", human=True).out
    assert "says: ship" in human  # a plain message does not read like a handle claim
    assert "decides: ship" in human
    assert "claim:" not in human


def test_a_taken_handle_gets_a_working_path_and_doctor_notices(relay: RelayProcess, tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    owner, latecomer = Wire(tmp_path / "owner", user), Wire(tmp_path / "late", user)
    owner.ok("init", "takenname", "--relay", relay.url)
    late = latecomer("init", "takenname", "--relay", relay.url, human=True)
    assert late.code == 0, str(late)
    assert "could not claim the handle 'takenname'" in late.err
    assert f"wire init <other-name> --relay {relay.url}" in late.err
    assert "wire claim <nick>" not in late.err
    wrong_nick = latecomer("claim", "othername", human=True)
    assert wrong_nick.code == 2, str(wrong_nick)
    assert "only accepts the handle signed into your card" in wrong_nick.err

    mine = {c["check"]: c for c in owner.ok("doctor", "--json").json()["checks"]}
    assert mine["handle"]["status"] == "PASS"
    doctor = latecomer("doctor", "--json")
    assert doctor.code == 1, str(doctor)
    theirs = {c["check"]: c for c in doctor.json()["checks"]}
    assert theirs["handle"]["status"] == "FAIL"
    assert "belongs to another identity" in theirs["handle"]["detail"]
    assert "wire init <other-name>" in theirs["handle"]["fix"]
    # the path the hint gives works: a new home, another name, claimed
    fresh = Wire(tmp_path / "fresh", user)
    assert fresh.ok("init", "takenname2", "--relay", relay.url).json()["claimed"] is True


def test_forget_unpairs_and_later_events_land_in_rejections(relay: RelayProcess, tmp_path: Path) -> None:
    dialer, callee, dialer_name, callee_name = _pair(relay, tmp_path, "f")
    callee.ok("accept", dialer_name)
    assert dialer.ok("send", callee_name, "before").json()["status"] == "delivered"
    assert [e["body"] for e in callee.ok("tail").jsonl()] == ["before"]
    typo = callee("forget", dialer_name + "zz", human=True)
    assert typo.code != 0, str(typo)
    assert "no peer matched" in typo.err
    forgot = callee("forget", dialer_name, human=True)
    assert forgot.code == 0, str(forgot)
    assert f"unpaired from {dialer_name}" in forgot.out
    assert "delivery token on your relay is revoked" in forgot.out
    assert callee.ok("peers").json() == []
    # the forgotten peer still holds our slot coordinates, but the relay no longer takes its posts
    late = dialer.ok("send", callee_name, "after the goodbye").json()
    assert late["status"] != "delivered", late
    pulled = callee.ok("pull", "--json").json()
    assert pulled["fetched"] == 0
    bodies = [e["body"] for e in callee.ok("tail", "--offline").jsonl()]
    assert bodies == ["before"]
    assert callee("send", dialer_name, "still there?").code != 0
