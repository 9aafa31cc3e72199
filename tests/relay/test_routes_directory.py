# SPDX-License-Identifier: MIT
"""Handle directory: claim / unclaim, .well-known lookups, listing, intro — and the fixed reference bugs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.relay.conftest import Agent, Client, MakeRelay, bearer, claim, claim_proof, make_agent, new_slot
from tests.relay.test_sse import open_stream
from wire_protocol import (
    A2A_EXTENSION_URI,
    SigningKey,
    b64encode,
    build_agent_card,
    card_canonical,
    verify_claim_proof,
)
from wire_relay.state import CONFIG


async def test_claim_then_lookup(client: Client) -> None:
    alice = make_agent("alice", profile={"display_name": "Alice A.", "motto": "hi", "emoji": "🦊"})
    slot_id, token = await new_slot(client)
    resp = await claim(client, alice, slot_id, token, relay_url="https://relay.example:8443")
    assert resp.status == 201
    assert await resp.json() == {"nick": "alice", "did": alice.did, "status": "claimed"}
    again = await claim(client, alice, slot_id, token)
    assert again.status == 201
    assert (await again.json())["status"] == "re-claimed"

    record = await (await client.get("/.well-known/wire/agent?handle=alice@relay.example")).json()
    assert record["nick"] == "alice"
    assert record["did"] == alice.did
    assert record["card"] == alice.card.to_json()
    assert record["slot_id"] == slot_id
    assert record["relay_url"] is None  # the re-claim replaced it
    assert record["claimed_at"].endswith("Z")
    assert len(record["claimed_at"]) == 20  # whole seconds
    assert "slot_token" not in str(record)

    a2a = await (await client.get("/.well-known/agent-card.json?handle=alice")).json()
    assert a2a["name"] == "Alice A."
    assert a2a["description"] == "hi"
    assert a2a["supportedInterfaces"][0]["url"] == str(client.make_url("/a2a/alice"))
    extension = a2a["capabilities"]["extensions"][0]
    assert extension["uri"] == A2A_EXTENSION_URI
    assert extension["params"]["slot_id"] == slot_id
    assert extension["params"]["card"] == alice.card.to_json()


async def test_lookup_errors(client: Client) -> None:
    for path in ("/.well-known/wire/agent", "/.well-known/agent-card.json"):
        assert (await client.get(path)).status == 400
        assert (await client.get(f"{path}?handle=")).status == 400
        assert (await client.get(f"{path}?handle=@x")).status == 400
        resp = await client.get(f"{path}?handle=nobody")
        assert resp.status == 404
        assert "error" in await resp.json()


async def test_claim_order_and_errors(client: Client) -> None:
    alice = make_agent("alice")
    slot_id, token = await new_slot(client)
    body = {"nick": "alice", "slot_id": slot_id, "card": alice.card.to_json()}
    assert (await client.post("/v1/handle/claim", json=body)).status == 401
    assert (
        await client.post("/v1/handle/claim", json={**body, "slot_id": "0" * 32}, headers=bearer(token))
    ).status == 404
    assert (await client.post("/v1/handle/claim", json=body, headers=bearer("0" * 64))).status == 403
    resp = await client.post("/v1/handle/claim", json={**body, "nick": "root"}, headers=bearer(token))
    assert resp.status == 400
    assert (await resp.json())["nick"] == "root"
    tampered = {**alice.card.to_json(), "name": "Mallory"}
    resp = await client.post("/v1/handle/claim", json={**body, "card": tampered}, headers=bearer(token))
    assert resp.status == 400
    assert (await resp.json())["error"].startswith("card signature invalid")
    for shape in (
        {"slot_id": slot_id, "card": {}},
        {**body, "card": None, "nick": 3},
        {"nick": "a", "slot_id": slot_id},
    ):
        assert (await client.post("/v1/handle/claim", json=shape, headers=bearer(token))).status == 422


async def test_conflict_409(client: Client) -> None:
    alice = make_agent("alice", seed=1)
    impostor_key = SigningKey(bytes([9]) * 32)
    slot_a, token_a = await new_slot(client)
    slot_b, token_b = await new_slot(client)
    assert (await claim(client, alice, slot_a, token_a)).status == 201
    # another identity whose handle is also "alice" (different key, so a different DID suffix)
    other = Agent(key=impostor_key, card=build_agent_card(impostor_key, "alice"), nick="alice")
    resp = await claim(client, other, slot_b, token_b)  # even with its own valid proof
    assert resp.status == 409
    body = await resp.json()
    assert body["claimed_by"] == alice.did
    assert body["nick"] == "alice"


async def test_regression_nick_must_match_card_did(client: Client) -> None:
    """Reference bug §7.5: v0.9.3 let any card claim any nick. Now 400 with `expected`."""
    bob = make_agent("bob")
    slot_id, token = await new_slot(client)
    resp = await client.post(
        "/v1/handle/claim",
        json={"nick": "carol", "slot_id": slot_id, "card": bob.card.to_json()},
        headers=bearer(token),
    )
    assert resp.status == 400
    assert (await resp.json())["expected"] == "bob"


async def test_regression_card_did_must_match_key(client: Client) -> None:
    """Reference bug §7.5: a card claiming somebody else's DID (suffix ≠ its key) is refused."""
    key = SigningKey(bytes([3]) * 32)
    victim = make_agent("dave", seed=4)
    forged = {**build_agent_card(key, "dave").to_json(), "did": victim.did}
    forged.pop("signature")
    forged["signature"] = b64encode(key.sign(card_canonical(forged)))  # validly self-signed, wrong DID
    slot_id, token = await new_slot(client)
    resp = await client.post(
        "/v1/handle/claim", json={"nick": "dave", "slot_id": slot_id, "card": forged}, headers=bearer(token)
    )
    assert resp.status == 400
    assert "fingerprint" in (await resp.json())["error"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://relay.example",
        "https://user:pw@relay.example",
        "https://relay.example/path",
        "https://relay.example?x=1",
        "https://",
        "https://relay.example:99999",
        "relay.example",
    ],
)
async def test_claim_rejects_bad_relay_url(client: Client, url: str) -> None:
    alice = make_agent("alice")
    slot_id, token = await new_slot(client)
    assert (await claim(client, alice, slot_id, token, relay_url=url)).status == 400


async def test_claim_accepts_good_relay_urls(client: Client) -> None:
    alice = make_agent("alice")
    slot_id, token = await new_slot(client)
    for url in ("https://relay.example", "http://127.0.0.1:8771", "https://relay.example/", "http://[::1]:80"):
        assert (await claim(client, alice, slot_id, token, relay_url=url)).status == 201


async def test_unclaim(client: Client) -> None:
    """Our addition (HEAD's): DELETE /v1/handle/claim/:nick with the owner's slot bearer."""
    alice = make_agent("alice")
    slot_id, token = await new_slot(client)
    _, other_token = await new_slot(client)
    await claim(client, alice, slot_id, token)
    assert (await client.delete("/v1/handle/claim/alice")).status == 401
    assert (await client.delete("/v1/handle/claim/alice", headers=bearer(other_token))).status == 403
    assert (await client.delete("/v1/handle/claim/zed", headers=bearer(token))).status == 404
    resp = await client.delete("/v1/handle/claim/alice", headers=bearer(token))
    assert resp.status == 200
    assert await resp.json() == {"nick": "alice", "status": "unclaimed"}
    assert (await client.get("/.well-known/wire/agent?handle=alice")).status == 404


async def test_discoverable_preserved_and_listing(client: Client) -> None:
    slot_id, token = await new_slot(client)
    agents = {
        "alice": make_agent("alice", 1, {"vibe": ["Chill"], "emoji": "🦊", "motto": "m"}),
        "bob": make_agent("bob", 2, {"vibe": ["loud"]}),
        "carol": make_agent("carol", 3, {"listed": False}),
        "demo-x": make_agent("demo-x", 4),
        "erin": make_agent("erin", 5),
    }
    for nick, agent in agents.items():
        await claim(client, agent, slot_id, token, **({"discoverable": False} if nick == "erin" else {}))
    await claim(client, agents["erin"], slot_id, token)  # re-claim without the flag keeps it hidden
    body = await (await client.get("/v1/handles")).json()
    assert [h["nick"] for h in body["handles"]] == ["alice", "bob"]
    assert body["next_cursor"] is None
    assert body["handles"][0]["profile"] == {
        "emoji": "🦊",
        "motto": "m",
        "vibe": ["Chill"],
        "pronouns": None,
        "now": None,
    }
    page = await (await client.get("/v1/handles?limit=1")).json()
    assert [h["nick"] for h in page["handles"]] == ["alice"]
    assert page["next_cursor"] == "alice"
    page = await (await client.get("/v1/handles?limit=1&cursor=alice")).json()
    assert [h["nick"] for h in page["handles"]] == ["bob"]
    vibed = await (await client.get("/v1/handles?vibe=CHILL")).json()
    assert [h["nick"] for h in vibed["handles"]] == ["alice"]
    assert (await client.get("/v1/handles?limit=x")).status == 400


# ------------------------------------------------------------------------------------------- intro


async def _claimed(client: Client, nick: str = "alice") -> tuple[Any, str, str]:
    agent = make_agent(nick, 1)
    slot_id, token = await new_slot(client)
    assert (await claim(client, agent, slot_id, token)).status == 201
    return agent, slot_id, token


async def intro(client: Client, nick: str, event: Any, **headers: str) -> tuple[int, Any]:
    resp = await client.post(f"/v1/handle/intro/{nick}", json={"event": event}, headers=headers)
    return resp.status, await resp.json()


async def test_intro_drop_stored_and_pushed_to_sse(client: Client) -> None:
    """Reference bug §7.9: intro drops were not pushed to SSE subscribers. Now they are."""
    _alice, slot_id, token = await _claimed(client)
    stranger = make_agent("stranger", 7)
    stream = await open_stream(client, slot_id, token)
    event = stranger.event()
    assert await intro(client, "alice", event) == (
        201,
        {"event_id": event["event_id"], "status": "dropped", "to_nick": "alice"},
    )
    got_id, got = await stream.next()
    assert got_id == event["event_id"]
    assert got == event
    assert await intro(client, "alice", event) == (200, {"event_id": event["event_id"], "status": "duplicate"})
    stats = await (await client.get("/stats.json")).json()
    assert stats["events_posted_total"] == 0  # intros are not "posted" events (reference counter semantics)
    stream.resp.close()


@pytest.mark.parametrize(
    ("type_", "kind"),
    [("pair_drop", 1), ("claim", 1100), ("message", 1), ("agent_card", 1000)],
)
async def test_regression_intro_requires_kind_and_type(client: Client, type_: str, kind: int) -> None:
    """Reference bug §7.2: v0.9.3 accepted kind 1100 OR type pair_drop. Now both are required."""
    await _claimed(client)
    stranger = make_agent("stranger", 7)
    status, body = await intro(client, "alice", stranger.event(type_=type_, kind=kind))
    assert status == 400
    assert body["got_kind"] == kind
    assert body["got_type"] == type_


async def test_intro_agent_card_type_accepted(client: Client) -> None:
    await _claimed(client)
    stranger = make_agent("stranger", 7)
    assert (await intro(client, "alice", stranger.event(type_="agent_card")))[0] == 201


async def test_regression_intro_event_signature_checked(client: Client) -> None:
    """Reference bug §7.2: the EVENT signature was never checked. A tampered event is 400."""
    await _claimed(client)
    stranger = make_agent("stranger", 7)
    event = stranger.event()
    event["body"]["note"] = "tampered after signing"
    status, body = await intro(client, "alice", event)
    assert status == 400
    assert "signature" in body["error"]
    # signed by a key other than the card's
    mallory = make_agent("mallory", 8)
    forged = mallory.event(body={"card": stranger.card.to_json()})
    assert (await intro(client, "alice", forged))[0] == 400


async def test_intro_card_rules(client: Client) -> None:
    await _claimed(client)
    stranger = make_agent("stranger", 7)
    assert (await intro(client, "alice", stranger.event(body={"hello": 1})))[0] == 400  # no card
    bad = {**stranger.card.to_json(), "name": "tampered"}
    assert (await intro(client, "alice", stranger.event(body={"card": bad})))[0] == 400
    other = make_agent("other", 9)
    status, body = await intro(client, "alice", stranger.event(body={"card": other.card.to_json()}))
    assert status == 400  # `from` is not the card's DID
    assert "card_did" in body
    assert (await intro(client, "nobody", stranger.event()))[0] == 404
    assert (await intro(client, "alice", "not an object"))[0] == 400
    resp = await client.post("/v1/handle/intro/alice", json={"nope": 1})
    assert resp.status == 422


async def test_intro_size_and_quota(make_relay: MakeRelay) -> None:
    client = await make_relay(max_event_bytes=600)
    await _claimed(client)
    stranger = make_agent("stranger", 7)
    status, body = await intro(client, "alice", stranger.event(body={"card": stranger.card.to_json(), "p": "x" * 600}))
    assert status == 413
    assert body["error"] == "intro event too large"
    client = await make_relay(slot_quota_bytes=10)
    await _claimed(client)
    status, body = await intro(client, "alice", stranger.event())
    assert status == 413
    assert body["error"] == "target slot quota exceeded"


async def test_regression_intro_rate_limited_per_nick_and_sender(make_relay: MakeRelay) -> None:
    """At most 5 intros per (nick, sender) per 300 s, charged only for drops that verify (issue 18 item 5)."""
    client = await make_relay(rate_limits_enabled=True)
    await _claimed(client, "alice")
    await _claimed(client, "bob")
    pest = make_agent("pest", 20)
    junk = pest.event()
    junk["signature"] = "A" * 86 + "=="
    for _ in range(10):  # junk costs alice nothing
        assert (await intro(client, "alice", junk))[0] == 400
    results = [await intro(client, "alice", pest.event(body={"card": pest.card.to_json(), "n": n})) for n in range(6)]
    assert [s for s, _ in results] == [201] * 5 + [429]
    assert (await intro(client, "alice", make_agent("friend", 41).event()))[0] == 201  # other senders unaffected
    assert (await intro(client, "bob", make_agent("sender9", 40).event()))[0] == 201  # other nicks unaffected


async def test_concurrent_intros_dedupe(client: Client) -> None:
    await _claimed(client)
    event = make_agent("stranger", 7).event()
    statuses = sorted(s for s, _ in await asyncio.gather(*(intro(client, "alice", event) for _ in range(4))))
    assert statuses == [200, 200, 200, 201]


# ------------------------------------------------------------------------ claim proofs (issue 18 item 2)


async def test_claim_without_proof_is_refused_by_default(client: Client) -> None:
    alice = make_agent("alice")
    slot_id, token = await new_slot(client)
    resp = await claim(client, alice, slot_id, token, proof=None)
    assert resp.status == 403
    body = await resp.json()
    assert body["required"] == "proof"
    assert body["relay"] == str(client.make_url("/")).rstrip("/")
    assert (await client.get("/.well-known/wire/agent?handle=alice")).status == 404


async def test_bad_proofs_are_refused_with_the_reason(client: Client) -> None:
    alice = make_agent("alice")
    mallory = make_agent("alice", seed=66)  # same handle, another key
    slot_id, token = await new_slot(client)
    other_slot, _ = await new_slot(client)
    origin = str(client.make_url("/"))
    now = client.app[CONFIG].clock()
    cases = {
        "another slot": claim_proof(alice, other_slot, origin),
        "another relay": claim_proof(alice, slot_id, "https://elsewhere.example"),
        "not fresh": claim_proof(alice, slot_id, origin, now - 3600),
        "does not verify": claim_proof(mallory, slot_id, origin),
        "exactly the fields": {**claim_proof(alice, slot_id, origin), "extra": 1},
    }
    for reason, proof in cases.items():
        resp = await claim(client, alice, slot_id, token, proof=proof)
        assert resp.status == 400, reason
        assert reason in (await resp.json())["error"]
    assert (await claim(client, alice, slot_id, token)).status == 201


async def test_record_serves_the_proof(client: Client) -> None:
    alice = make_agent("alice")
    slot_id, token = await new_slot(client)
    assert (await claim(client, alice, slot_id, token)).status == 201
    record = await (await client.get("/.well-known/wire/agent?handle=alice")).json()
    assert record["proven"] is True
    proof = record["claim_proof"]
    verify_claim_proof(
        proof,
        public_key=alice.card.public_key,
        nick="alice",
        slot_id=slot_id,
        relay_url=proof["relay"],
        now=proof["ts"],
    )


async def test_unproven_claims_with_the_switch_and_proven_replacement(make_relay: MakeRelay) -> None:
    client = await make_relay(accept_unproven_claims=True)
    assert (await (await client.get("/v1/info")).json())["claims"]["proof"] == "optional"
    squatter = make_agent("alice", seed=66)
    alice = make_agent("alice")
    slot_s, token_s = await new_slot(client)
    slot_a, token_a = await new_slot(client)
    assert (await claim(client, squatter, slot_s, token_s, proof=None)).status == 201
    record = await (await client.get("/.well-known/wire/agent?handle=alice")).json()
    assert (record["did"], record["proven"], record["claim_proof"]) == (squatter.did, False, None)
    resp = await claim(client, alice, slot_a, token_a)  # a proven claim replaces the unproven one
    assert resp.status == 201
    assert (await resp.json())["status"] == "claimed"
    record = await (await client.get("/.well-known/wire/agent?handle=alice")).json()
    assert (record["did"], record["slot_id"], record["proven"]) == (alice.did, slot_a, True)
    assert (await claim(client, squatter, slot_s, token_s, proof=None)).status == 409  # not back
    assert (await claim(client, squatter, slot_s, token_s)).status == 409  # a proof does not beat a proof
    assert (await claim(client, alice, slot_a, token_a, proof=None)).status == 409  # no downgrade
    assert (await claim(client, alice, slot_a, token_a)).status == 201
