# SPDX-License-Identifier: MIT
"""Adversarial probes of a real relay process, each a test with one clear verdict.

The relay runs as ``python -m wire_relay`` on a loopback port (rate limits off, except for the spam
probes, which get their own process with the production limits). Requests go out through
``http.client`` so odd targets and headers reach the server byte-for-byte.

Verdicts every probe shares: never a 5xx, every error is a JSON ``{"error": ...}`` object, and no
response ever carries a slot token other than the one ``POST /v1/slot/allocate`` just minted.

Slot enumeration, documented: an unknown (well-formed) slot id answers 404 and a known slot with a
wrong token answers 403, as in the reference — so the status reveals whether a slot id EXISTS.
That leaks nothing useful: slot ids are 128-bit random values, only ever learned from the owner,
and the token is compared via its stored hash (no byte-by-byte timing); the 403 body is the same
for every wrong token and never echoes it.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.badinput.http import Http, Reply
from tests.helpers.relay_process import RelayProcess
from wire_protocol import (
    MAX_EVENT_BYTES,
    SigningKey,
    b64encode,
    build_agent_card,
    build_claim_proof,
    build_event,
    card_canonical,
    sign_event,
)
from wire_relay.app import create_app
from wire_relay.config import RelayConfig
from wire_relay.openapi import openapi_document

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


# ------------------------------------------------------------------------------------------ fixtures


class Relay:
    """A relay process plus a connection and every token it handed out (for the leak check)."""

    def __init__(self, process: RelayProcess) -> None:
        self.process = process
        self.http = Http(process.url)
        self.tokens: set[str] = set()

    def check(self, reply: Reply, *, own: str | None = None) -> Reply:
        """The shared verdicts: no 5xx, JSON errors, no foreign token in the body."""
        assert reply.status < 500, (reply.status, reply.body[:300])
        if reply.status >= 400 and reply.body:
            assert reply.is_json_error(), (reply.status, reply.headers, reply.body[:300])
        text = reply.body.decode("utf-8", "replace")
        leaked = [t for t in self.tokens if t in text and t != own]
        assert not leaked, f"response leaks a slot token: {text[:300]}"
        return reply

    def request(self, method: str, target: str, **kwargs: Any) -> Reply:
        return self.check(self.http.request(method, target, **kwargs))

    def slot(self) -> tuple[str, str]:
        reply = self.http.post("/v1/slot/allocate", json_body={})
        assert reply.status == 201
        body = reply.json()
        self.check(reply, own=body["slot_token"])
        self.tokens.add(body["slot_token"])
        return body["slot_id"], body["slot_token"]


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    workdir: Path = tmp_path_factory.mktemp("probe-relay")
    with RelayProcess(workdir, extra_args=["--log-level", "warning"]) as process:
        r = Relay(process)
        yield r
        r.http.close()


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    workdir: Path = tmp_path_factory.mktemp("probe-relay-limited")
    with RelayProcess(workdir, rate_limits=True, extra_args=["--log-level", "warning"]) as process:
        r = Relay(process)
        yield r
        r.http.close()


def identity(nick: str, seed: int) -> tuple[SigningKey, Any]:
    key = SigningKey(bytes([seed]) * 32)
    card = build_agent_card(key, nick)
    _KEYS[card.did] = key
    return key, card


_KEYS: dict[str, SigningKey] = {}


def proof_for(relay: Relay, nick: str, did: str, slot_id: str) -> dict[str, Any]:
    """A claim proof signed by the key :func:`identity` made for ``did``."""
    return build_claim_proof(
        _KEYS[did], nick=nick, slot_id=slot_id, relay_url=relay.process.url, now=int(time.time()), nonce="ab" * 16
    )


def intro_event(key: SigningKey, card: Any, n: int = 0) -> Any:
    unsigned = build_event(
        from_did=card.did,
        to="did:wire:x",
        type="pair_drop",
        kind=1100,
        body={"card": card.to_json(), "n": n},
        timestamp=datetime(2027, 1, 15, 8, 0, tzinfo=UTC),
    )
    return sign_event(unsigned, key, card.did)


def claim(relay: Relay, nick: str, card: Any, slot_id: str, token: str) -> Reply:
    proof = proof_for(relay, nick, card.did, slot_id)
    body = {"nick": nick, "slot_id": slot_id, "relay_url": None, "card": card.to_json(), "proof": proof}
    return relay.request("POST", "/v1/handle/claim", json_body=body, token=token)


# ------------------------------------------------------------------------------------------ tokens


AUTHED = [
    ("GET", "/v1/events/{slot}", None),
    ("POST", "/v1/events/{slot}", {"event": {"event_id": "x"}}),
    ("POST", "/v1/events/{slot}/batch", {"events": [{"event_id": "x"}]}),
    ("GET", "/v1/events/{slot}/stream", None),
    ("GET", "/v1/slot/{slot}/state", None),
    ("POST", "/v1/slot/{slot}/responder-health", {"status": "ok", "set_at": "2027-01-01T00:00:00Z"}),
]

# (label, Authorization header or None, expected status); the right token is substituted for TOKEN
AUTH_HEADERS = [
    ("missing", None, 401),
    ("lowercase bearer", "bearer TOKEN", 401),
    ("BEARER uppercase", "BEARER TOKEN", 401),
    ("Basic scheme", "Basic dXNlcjpwYXNz", 401),
    ("Bearer without token", "Bearer", 401),
    ("Bearer and a space, no token", "Bearer ", 401),  # trailing whitespace is not part of a header value
    ("two spaces", "Bearer  TOKEN", 403),
    ("tab instead of space", "Bearer\tTOKEN", 401),
    ("token uppercased", "Bearer UPPER", 403),
    ("truncated token", "Bearer SHORT", 403),
    ("token twice", "Bearer TOKEN,TOKEN", 403),
    ("another slot's token", "Bearer OTHER", 403),
    # a header over aiohttp's 8 KiB field limit is refused by the HTTP parser itself, before any route
    # or middleware runs: 400 with a text/plain body (the only non-JSON error; documented)
    ("64 KiB token", "Bearer " + "a" * 65536, None),
]


@pytest.mark.parametrize(("label", "header", "expected"), AUTH_HEADERS, ids=[a[0] for a in AUTH_HEADERS])
def test_bad_tokens_are_refused_everywhere(relay: Relay, label: str, header: str | None, expected: int | None) -> None:
    slot_id, token = relay.slot()
    _, other = relay.slot()
    value = None
    if header is not None:
        value = (
            header.replace("TOKEN", token)
            .replace("UPPER", token.upper())
            .replace("SHORT", token[:-1])
            .replace("OTHER", other)
        )
    for method, path, body in AUTHED:
        headers = {"Authorization": value} if value is not None else {}
        if expected is None:
            raw = relay.http.request(method, path.format(slot=slot_id), json_body=body, headers=headers)
            assert raw.status == 400, (method, path, raw.status)
            assert raw.content_type == "text/plain"
            continue
        reply = relay.request(method, path.format(slot=slot_id), json_body=body, headers=headers)
        assert reply.status == expected, (method, path, label, reply.status, reply.body[:200])
        assert token not in reply.body.decode("utf-8", "replace")
    # nothing was stored through any of those
    assert relay.request("GET", f"/v1/events/{slot_id}", token=token).json() == []


def test_claim_and_unclaim_need_the_slots_own_bearer(relay: Relay) -> None:
    slot_id, token = relay.slot()
    _, other = relay.slot()
    _key, card = identity("tokentest", 11)
    assert claim(relay, "tokentest", card, slot_id, other).status == 403
    assert claim(relay, "tokentest", card, slot_id, token).status == 201
    assert relay.request("DELETE", "/v1/handle/claim/tokentest", token=other).status == 403
    assert relay.request("DELETE", "/v1/handle/claim/tokentest").status == 401
    assert relay.request("DELETE", "/v1/handle/claim/tokentest", token=token).status == 200


# ------------------------------------------------------------------------------------------ sizes


def test_event_just_over_256_kib_is_413(relay: Relay) -> None:
    slot_id, token = relay.slot()
    overhead = len(b'{"event_id":"big","p":""}')
    fits = {"event_id": "fits", "p": "x" * (MAX_EVENT_BYTES - overhead - 1)}
    over = {"event_id": "big", "p": "x" * (MAX_EVENT_BYTES - overhead + 1)}
    assert relay.request("POST", f"/v1/events/{slot_id}", json_body={"event": fits}, token=token).status == 201
    reply = relay.request("POST", f"/v1/events/{slot_id}", json_body={"event": over}, token=token)
    assert reply.status == 413
    assert reply.json()["max_bytes"] == MAX_EVENT_BYTES
    listed = relay.request("GET", f"/v1/events/{slot_id}", token=token).json()
    assert [e["event_id"] for e in listed] == ["fits"]


def test_body_over_2_mib_is_refused_without_reading_it(relay: Relay) -> None:
    """Issue 18 item 4: authorised from path and header first (401 anonymous), 413 for the token holder."""
    slot_id, token = relay.slot()
    body = b'{"event":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    for headers, status in (
        ({"Content-Type": "application/json"}, 401),
        ({"Content-Type": "application/json", "Authorization": "x"}, 401),
        ({"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, 413),
    ):
        reply = relay.request("POST", f"/v1/events/{slot_id}", body=body, headers=headers)
        assert reply.status == status


def test_chunked_body_over_2_mib_is_413(relay: Relay) -> None:
    """No Content-Length to check up front: the relay counts while reading and stops at 2 MiB."""
    import http.client

    slot_id, token = relay.slot()

    def chunks() -> Iterator[bytes]:
        yield b'{"event":"'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    conn = http.client.HTTPConnection(relay.http.host, relay.http.port, timeout=15)
    try:
        conn.request(
            "POST",
            f"/v1/events/{slot_id}",
            body=chunks(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            encode_chunked=True,
        )
        resp = conn.getresponse()
        reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()
    relay.check(reply)
    assert reply.status == 413


def test_batch_over_1000_events_is_413(relay: Relay) -> None:
    slot_id, token = relay.slot()
    events = [{"event_id": f"e{i}"} for i in range(1001)]
    reply = relay.request("POST", f"/v1/events/{slot_id}/batch", json_body={"events": events}, token=token)
    assert reply.status == 413
    assert reply.json()["max_events"] == 1000
    assert relay.request("GET", f"/v1/events/{slot_id}", token=token).json() == []


def test_batch_body_over_16_mib_is_413(relay: Relay) -> None:
    slot_id, token = relay.slot()
    body = b'{"events":["' + b"x" * (16 * 1024 * 1024) + b'"]}'
    reply = relay.request(
        "POST", f"/v1/events/{slot_id}/batch", body=body, token=token, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 413


@pytest.mark.parametrize("depth", [129, 990, 100_000])
def test_deeply_nested_json_is_400_not_500(relay: Relay, depth: int) -> None:
    """Regression: nesting past the decoder's recursion limit was a 500 with a traceback per request."""
    slot_id, token = relay.slot()
    nested = b"[" * depth + b"1.5" + b"]" * depth
    json_header = {"Content-Type": "application/json"}
    targets = [
        (f"/v1/events/{slot_id}", b'{"event":' + nested + b"}"),
        (f"/v1/events/{slot_id}/batch", b'{"events":[' + nested + b"]}"),
        ("/v1/slot/allocate", b'{"handle":' + nested + b"}"),
        ("/v1/handle/claim", b'{"nick":"x","slot_id":"' + slot_id.encode() + b'","card":' + nested + b"}"),
        ("/v1/handle/intro/somebody", b'{"event":' + nested + b"}"),
        ("/v1/pair", b'{"code_hash":' + nested + b"}"),
        ("/v1/invite/register", b'{"invite_url":' + nested + b"}"),
    ]
    for target, body in targets:
        reply = relay.request("POST", target, body=body, token=token, headers=json_header)
        if target in ("/v1/handle/intro/somebody", "/v1/pair", "/v1/handle/claim") and len(body) > 70_000:
            assert reply.status == 413, (target, reply.status, reply.body[:200])  # these bodies are bounded
        elif depth > 128 and not target.startswith("/v1/events/"):
            assert reply.status == 400, (target, reply.status, reply.body[:200])  # interpreted bodies: 128 max
        elif depth >= 990:
            assert reply.status == 400, (target, reply.status, reply.body[:200])  # beyond the decoder's limit


def test_validly_signed_deep_card_is_refused_not_500(relay: Relay) -> None:
    """Regression: a card nested 600 deep (signed by its own key) made verify_card recurse → 500."""
    import sys

    slot_id, token = relay.slot()
    deep: Any = 1
    for _ in range(600):
        deep = [deep]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        key = SigningKey(bytes([77]) * 32)
        card = build_agent_card(key, "deepcard", extra={"x": deep})
        _KEYS[card.did] = key
        reply = claim(relay, "deepcard", card, slot_id, token)
    finally:
        sys.setrecursionlimit(old)
    assert reply.status == 400
    assert "nested" in reply.json()["error"]


# ------------------------------------------------------------------------------------------ methods


def concrete_paths(slot_id: str) -> list[tuple[str, set[str]]]:
    """Every documented path with its params filled in, and the methods ANY matching template allows
    (``GET /v1/pair/abandon`` is ``GET /v1/pair/{pair_id}`` with pair_id "abandon", not a 405)."""
    doc = openapi_document(public=True)
    templates = [
        (re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(t)) + "$"), item)
        for t, item in doc["paths"].items()
    ]
    out = []
    for template in doc["paths"]:
        path = (
            template.replace("{slot_id}", slot_id)
            .replace("{pair_id}", "0" * 32)
            .replace("{nick}", "nobody")
            .replace("{token}", "abcdef")
            .replace("{token_id}", "0" * 16)
        )
        allowed = {m.upper() for regex, item in templates if regex.match(path) for m in item if m.upper() in METHODS}
        out.append((path, allowed))
    return out


def test_method_audit_every_path_every_method(relay: Relay) -> None:
    slot_id, token = relay.slot()
    paths = concrete_paths(slot_id)
    assert len(paths) >= 20
    for path, documented in paths:
        for method in METHODS:
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            headers = {"Content-Type": "application/json"} if body else {}
            if path.endswith("/stream") and method in ("GET", "HEAD"):
                continue  # a valid stream never ends; its auth errors are probed above
            reply = relay.request(method, path, body=body, token=token, headers=headers)
            allowed = documented | ({"HEAD"} if "GET" in documented else set())
            if method in allowed:
                assert reply.status != 405, (method, path)
            else:
                assert reply.status == 405, (method, path, reply.status)
                assert "allow" in reply.headers, (method, path)
                if method != "HEAD":
                    assert reply.is_json_error(), (method, path, reply.body[:200])


# ------------------------------------------------------------------------------------------ paths


WEIRD_IDS = [
    "..",
    "../..",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e",
    "%2e%2e%2f%2e%2e",
    "..%5c..%5cwindows",
    "a" * 31,
    "a" * 33,
    "g" * 32,
    "%C3%A9" * 16,
    "%00" + "a" * 31,
    "a" * 31 + "%00",
    "%20" + "a" * 31,
    "*",
    "a" * 5000,
]


@pytest.mark.parametrize("weird", WEIRD_IDS, ids=[w[:20] for w in WEIRD_IDS])
def test_weird_slot_pair_invite_nick_ids(relay: Relay, weird: str) -> None:
    _, token = relay.slot()
    targets = [
        ("GET", f"/v1/events/{weird}"),
        ("POST", f"/v1/events/{weird}"),
        ("POST", f"/v1/events/{weird}/batch"),
        ("GET", f"/v1/events/{weird}/stream"),
        ("GET", f"/v1/slot/{weird}/state"),
        ("POST", f"/v1/slot/{weird}/responder-health"),
        ("GET", f"/v1/pair/{weird}?as_role=host"),
        ("POST", f"/v1/pair/{weird}/bootstrap"),
        ("GET", f"/i/{weird}"),
        ("GET", f"/i/{weird}?format=url"),
        ("POST", f"/v1/handle/intro/{weird}"),
        ("DELETE", f"/v1/handle/claim/{weird}"),
        ("GET", f"/.well-known/wire/agent?handle={weird}"),
    ]
    bodies = {
        "/v1/events": {"event": {"event_id": "x"}, "events": [], "status": "ok", "set_at": "x"},
        "/v1/pair": {"role": "host", "sealed": "AAAA"},
        "/v1/handle/intro": {"event": {}},
    }
    for method, target in targets:
        body = next((b for prefix, b in bodies.items() if target.startswith(prefix)), None)
        if target.startswith("/v1/slot/"):
            body = {"status": "ok", "set_at": "x"}
        reply = relay.request(method, target, json_body=body if method == "POST" else None, token=token)
        assert reply.status in (400, 404, 405, 410, 414, 422), (method, target, reply.status, reply.body[:200])
        assert reply.status != 200


def test_uppercase_slot_id_is_not_an_alias(relay: Relay) -> None:
    slot_id, token = relay.slot()
    relay.request("POST", f"/v1/events/{slot_id}", json_body={"event": {"event_id": "x"}}, token=token)
    for variant in (slot_id.upper(), slot_id[:16].upper() + slot_id[16:]):
        reply = relay.request("GET", f"/v1/events/{variant}", token=token)
        assert reply.status == 404, reply.status
        reply = relay.request("POST", f"/v1/events/{variant}", json_body={"event": {"event_id": "y"}}, token=token)
        assert reply.status == 404
    assert [e["event_id"] for e in relay.request("GET", f"/v1/events/{slot_id}", token=token).json()] == ["x"]


def test_traversal_in_the_raw_target_never_reaches_another_route(relay: Relay) -> None:
    slot_id, token = relay.slot()
    for target in (
        f"/v1/events/{slot_id}/../../slot/allocate",
        f"/v1/events/{slot_id}/%2e%2e/%2e%2e/slot/allocate",
        "/v1/events/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//v1/slot/allocate",
    ):
        reply = relay.request("POST", target, json_body={}, token=token)
        assert reply.status != 201, target  # never allocates a slot through a traversal


# ------------------------------------------------------------------------------------------ enumeration


def test_slot_enumeration_reveals_existence_only(relay: Relay) -> None:
    slot_id, token = relay.slot()
    unknown = "f" * 32 if slot_id != "f" * 32 else "e" * 32
    wrong_a = "0" * 64
    wrong_b = token[:-1] + ("0" if token[-1] != "0" else "1")  # all but the last character right
    replies = {
        "unknown slot": relay.request("GET", f"/v1/events/{unknown}", token=token),
        "wrong token": relay.request("GET", f"/v1/events/{slot_id}", token=wrong_a),
        "nearly right token": relay.request("GET", f"/v1/events/{slot_id}", token=wrong_b),
    }
    assert replies["unknown slot"].status == 404
    assert replies["wrong token"].status == 403
    assert replies["nearly right token"].status == 403
    assert replies["wrong token"].body == replies["nearly right token"].body == b'{"error":"bad token"}'
    for reply in replies.values():
        text = reply.body.decode()
        assert token not in text
        assert wrong_a not in text
        assert wrong_b not in text

    def median_ms(tok: str) -> float:
        times = [relay.http.get(f"/v1/events/{slot_id}", token=tok).elapsed for _ in range(60)]
        return statistics.median(times) * 1000

    # the stored hash is compared, so a nearly-right token takes no measurably longer than a wrong one
    assert abs(median_ms(wrong_b) - median_ms(wrong_a)) < 5.0


# ------------------------------------------------------------------------------------------ spam


def test_intro_spam_per_nick_then_per_client(limited: Relay) -> None:
    slot_a, token_a = limited.slot()
    slot_b, token_b = limited.slot()
    _key_a, card_a = identity("spamtarget", 21)
    _key_b, card_b = identity("othertarget", 22)
    assert claim(limited, "spamtarget", card_a, slot_a, token_a).status == 201
    assert claim(limited, "othertarget", card_b, slot_b, token_b).status == 201
    sender_key, sender_card = identity("spammer", 23)
    statuses = [
        limited.request(
            "POST", "/v1/handle/intro/spamtarget", json_body={"event": intro_event(sender_key, sender_card, n)}
        ).status
        for n in range(6)
    ]
    assert statuses[:5] == [201] * 5
    reply = limited.request(
        "POST", "/v1/handle/intro/spamtarget", json_body={"event": intro_event(sender_key, sender_card, 99)}
    )
    assert reply.status == 429
    assert int(reply.headers["retry-after"]) >= 1
    assert reply.json()["retry_after_seconds"] >= 1
    # the per-nick bucket is the target's: another nick still takes intros from the same client
    ok = limited.request(
        "POST", "/v1/handle/intro/othertarget", json_body={"event": intro_event(sender_key, sender_card, 0)}
    )
    assert ok.status == 201
    # per client: 60 intros at once, then 429, whatever the target (unknown nicks cost a token too)
    codes = [limited.request("POST", f"/v1/handle/intro/ghost{n}", json_body={"event": {}}).status for n in range(70)]
    assert 429 in codes
    first = codes.index(429)
    assert set(codes[:first]) == {404}
    assert set(codes[first:]) == {429}
    assert len(limited.request("GET", f"/v1/events/{slot_a}", token=token_a).json()) == 5


def test_allocate_flood_is_limited_per_client(limited: Relay) -> None:
    codes = [limited.http.post("/v1/slot/allocate", json_body={}) for _ in range(200)]
    statuses = [r.status for r in codes]
    assert 429 in statuses
    limited_reply = codes[statuses.index(429)]
    limited.check(limited_reply)
    assert int(limited_reply.headers["retry-after"]) >= 1


# ------------------------------------------------------------------------------------------ squatting


def test_claim_with_a_card_for_another_nick_is_400(relay: Relay) -> None:
    slot_id, token = relay.slot()
    _, card = identity("mallory", 31)
    reply = claim(relay, "victim", card, slot_id, token)
    assert reply.status == 400
    assert reply.json()["expected"] == "mallory"


def test_claim_with_a_did_that_is_not_the_keys_is_400(relay: Relay) -> None:
    slot_id, token = relay.slot()
    key, honest = identity("victim2", 32)
    _, other = identity("victim2", 33)
    forged = honest.to_json() | {"did": other.did}  # victim's DID on mallory's key: signature then breaks
    body = {"nick": "victim2", "slot_id": slot_id, "relay_url": None, "card": forged}
    assert relay.request("POST", "/v1/handle/claim", json_body=body, token=token).status == 400
    unsigned = {k: v for k, v in forged.items() if k != "signature"}
    body["card"] = unsigned | {"signature": b64encode(key.sign(card_canonical(unsigned)))}  # valid sig, foreign DID
    reply = relay.request("POST", "/v1/handle/claim", json_body=body, token=token)
    assert reply.status == 400
    assert "does not end in the fingerprint" in reply.json()["error"]


@pytest.mark.parametrize("nick", ["admin", "root", "postmaster", "support", "system"])
def test_claim_of_a_reserved_nick_is_400(relay: Relay, nick: str) -> None:
    slot_id, token = relay.slot()
    _, card = identity(nick, 34)
    assert claim(relay, nick, card, slot_id, token).status == 400


def test_claim_of_someone_elses_nick_is_409(relay: Relay) -> None:
    slot_a, token_a = relay.slot()
    slot_m, token_m = relay.slot()
    _, owner = identity("taken", 35)
    _, mallory = identity("taken", 36)  # same nick, another key → another DID
    assert claim(relay, "taken", owner, slot_a, token_a).status == 201
    reply = claim(relay, "taken", mallory, slot_m, token_m)
    assert reply.status == 409
    assert reply.json()["claimed_by"] == owner.did
    record = relay.request("GET", "/.well-known/wire/agent?handle=taken").json()
    assert record["slot_id"] == slot_a


def test_replayed_public_card_cannot_move_someone_elses_nick(relay: Relay) -> None:
    slot_v, token_v = relay.slot()
    slot_m, token_m = relay.slot()
    _, victim = identity("replayed", 37)
    assert claim(relay, "replayed", victim, slot_v, token_v).status == 201
    public = relay.request("GET", "/.well-known/wire/agent?handle=replayed").json()
    body = {"nick": "replayed", "slot_id": slot_m, "relay_url": None, "card": public["card"]}
    reply = relay.request("POST", "/v1/handle/claim", json_body=body, token=token_m)
    assert reply.status == 403  # no proof of key possession (issue 18 item 2)
    replayed = relay.request(
        "POST", "/v1/handle/claim", json_body=body | {"proof": public["claim_proof"]}, token=token_m
    )
    assert replayed.status == 400  # the served proof names the victim's slot
    assert "another slot" in replayed.json()["error"]
    body["proof"] = proof_for(relay, "replayed", victim.did, slot_m)  # the owner's own key, for the new slot
    reply = relay.request("POST", "/v1/handle/claim", json_body=body, token=token_m)
    assert reply.status == 409
    assert reply.json()["bound_slot_id"] == slot_v
    wrong = relay.request("POST", "/v1/handle/claim", json_body=body | {"current_slot_token": token_m}, token=token_m)
    assert wrong.status == 409  # mallory's own token proves nothing about the victim's slot
    record = relay.request("GET", "/.well-known/wire/agent?handle=replayed").json()
    assert record["slot_id"] == slot_v
    # the real owner moves the nick by proving the slot it points to now
    moved = relay.request("POST", "/v1/handle/claim", json_body=body | {"current_slot_token": token_v}, token=token_m)
    assert moved.status == 201
    assert moved.json()["status"] == "re-claimed"


# ------------------------------------------------------------------------------------------ invites


def test_single_use_invite_is_410_after_one_read_of_either_form(relay: Relay) -> None:
    """Issue 18 item 1: ``?format=url`` hands out the same secret, so it uses the invite up too."""
    reply = relay.request("POST", "/v1/invite/register", json_body={"invite_url": "wire://pair?v=1&inv=x.y", "uses": 1})
    assert reply.status == 201
    token = reply.json()["token"]
    peek = relay.request("GET", f"/i/{token}?format=url")
    assert peek.status == 200
    assert peek.body == b"wire://pair?v=1&inv=x.y"
    for target in (f"/i/{token}", f"/i/{token}?format=url"):
        gone = relay.request("GET", target)
        assert gone.status == 410
        assert gone.json() == {"error": "this invite has been used up"}
    relay.process.restart()  # use counts are durable: a restart does not re-arm it
    relay.http.close()
    assert relay.request("GET", f"/i/{token}").status == 410


async def test_expired_invite_is_410() -> None:
    now = [1_800_000_000.0]
    app = create_app(RelayConfig(store_url="sqlite://:memory:", rate_limits_enabled=False, clock=lambda: now[0]))
    async with TestClient(TestServer(app)) as client:
        resp = await client.post(
            "/v1/invite/register", json={"invite_url": "wire://pair?v=1&inv=a.b", "ttl_seconds": 60}
        )
        token = (await resp.json())["token"]
        assert (await client.get(f"/i/{token}?format=url")).status == 200
        now[0] += 61
        for target in (f"/i/{token}", f"/i/{token}?format=url"):
            resp = await client.get(target)
            assert resp.status == 410
            assert await resp.json() == {"error": "this invite has expired"}


# ------------------------------------------------------------------------------------------ token leaks


def test_no_response_carries_another_slots_token(relay: Relay) -> None:
    slot_a, token_a = relay.slot()
    slot_b, token_b = relay.slot()
    _key, card = identity("leakcheck", 41)
    claim(relay, "leakcheck", card, slot_b, token_b)
    relay.request("POST", f"/v1/events/{slot_b}", json_body={"event": {"event_id": "b1"}}, token=token_b)
    tour = [
        ("GET", "/"),
        ("GET", "/stats"),
        ("GET", "/stats.json"),
        ("GET", "/v1/info"),
        ("GET", "/openapi.json"),
        ("GET", "/v1/handles"),
        ("GET", "/.well-known/wire/agent?handle=leakcheck"),
        ("GET", "/.well-known/agent-card.json?handle=leakcheck"),
        ("GET", "/leakcheck"),
        ("GET", f"/v1/events/{slot_a}"),
        ("GET", f"/v1/events/{slot_b}"),
        ("GET", f"/v1/slot/{slot_a}/state"),
        ("GET", f"/v1/slot/{slot_b}/state"),
        ("POST", f"/v1/events/{slot_b}"),
        ("DELETE", "/v1/handle/claim/leakcheck"),
    ]
    for method, target in tour:
        body = {"event": {"event_id": "a"}} if method == "POST" else None
        reply = relay.request(method, target, json_body=body, token=token_a)
        text = reply.body.decode("utf-8", "replace")
        assert token_b not in text, target
        assert token_a not in text, target  # not even echoed back to its owner
