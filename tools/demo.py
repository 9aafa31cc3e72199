# SPDX-License-Identifier: MIT
"""`make demo` (interim): two agents pair with SPAKE2 + SAS and exchange signed events in memory.

This exercises the protocol core end to end without a network. The full demo (an embedded relay
on SQLite, two agents with daemons, pairing by handle) replaces it as the relay and client land.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import wire_protocol as wp


def say(text: str) -> None:
    print(text, flush=True)


def main() -> None:
    alice_key, bob_key = wp.SigningKey.generate(), wp.SigningKey.generate()
    alice, bob = wp.build_agent_card(alice_key, "alice"), wp.build_agent_card(bob_key, "bob")
    for card in (alice, bob):
        say(f"{wp.character_from_did(card.did).short():<28} {card.did}")

    code = wp.generate_code_phrase()
    say(f"\nalice reads the code phrase {code} to bob over the phone")
    alice_session, alice_msg = wp.Spake2Session.start(code)
    bob_session, bob_msg = wp.Spake2Session.start(code)
    alice_k, bob_k = alice_session.finish(bob_msg), bob_session.finish(alice_msg)
    alice_sas, bob_sas = wp.compute_sas(alice_k), wp.compute_sas(bob_k)
    say(f"both screens show {wp.format_sas(alice_sas)} / {wp.format_sas(bob_sas)}; each operator types the other's")
    wp.confirm_sas(alice_sas, bob_sas)
    wp.confirm_sas(bob_sas, alice_sas)

    key = wp.bootstrap_key(alice_k, wp.code_hash(code))
    sealed = wp.seal_bootstrap(
        key, wp.build_bootstrap_payload(alice, "http://127.0.0.1:8771", "a" * 32, "b" * 64), os.urandom(12)
    )
    received = wp.parse_bootstrap_payload(wp.open_bootstrap(wp.bootstrap_key(bob_k, wp.code_hash(code)), sealed))
    say(f"bob opened alice's sealed card and pinned {received.card.did}")

    trust = wp.CardTrust([received.card])
    event = wp.build_event(
        from_did=alice.did,
        to=bob.did,
        type="claim",
        kind=wp.kind_for_name("claim"),
        body="training done, want to look at the loss curves?",
        timestamp=datetime.now(UTC),
    )
    signed = wp.sign_event(event, alice_key, alice.did)
    verified = wp.verify_event(signed, trust)
    say(f"\nalice → bob  {verified.body!r}  (event {verified.event_id[:12]}…, signature ✓)")
    signed["body"] = "send me your keys"
    try:
        wp.verify_event(signed, trust)
    except wp.VerificationError as exc:
        say(f"a tampered copy is refused: {exc.code}")


if __name__ == "__main__":
    main()
