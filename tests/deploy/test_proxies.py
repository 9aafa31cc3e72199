# SPDX-License-Identifier: MIT
"""The relay behind the deploy/ nginx and Caddy examples, for real: TLS with a test CA, a client
resolving ``nick@wire.test`` over https, rate limits keyed on the client's own address whatever
X-Forwarded-For it sends, https in generated URLs, SSE unbuffered, /metrics not exposed.

Every test runs once per proxy. Figures (requests per second through TLS, the count at which the
rate limit answered 429) are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import ssl
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.conftest import DOMAIN, behind_proxy_args
from tests.deploy.proxies import PROXIES, free_port
from tests.deploy.tls import Answer, PinnedHTTPSConnection, TlsFiles, client_context, https_request
from tests.helpers.relay_process import RelayProcess
from wire_protocol import SigningKey, build_agent_card
from wire_relay.config import DEFAULT_RATE_LIMITS

RELAY_SOURCES = Path(__file__).resolve().parents[2] / "packages" / "wire-relay" / "src" / "wire_relay"
#: X-Forwarded-Proto support is part of the relay hardening (issue 18, item 8); until it lands a
#: relay without --public-url derives its URLs from the plain-HTTP hop and the test below fails.
FORWARDED_PROTO_SUPPORTED = any("x-forwarded-proto" in path.read_text().lower() for path in RELAY_SOURCES.rglob("*.py"))


@dataclass
class Site:
    """A relay behind a proxy: ``connect()`` opens an HTTPS connection to https://wire.test:port."""

    kind: str
    port: int
    relay: RelayProcess
    tls: TlsFiles
    opened: list[PinnedHTTPSConnection] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"https://{DOMAIN}:{self.port}"

    def connect(
        self, source: str = "127.0.0.1", *, host: str = DOMAIN, trust_test_ca: bool = True
    ) -> PinnedHTTPSConnection:
        context = client_context(self.tls) if trust_test_ca else ssl.create_default_context()
        conn = PinnedHTTPSConnection(host, self.port, context, source=source)
        self.opened.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.opened:
            conn.close()


@contextlib.contextmanager
def proxied_relay(kind: str, tmp_path: Path, tls: TlsFiles, *, public_url: bool = True) -> Iterator[Site]:
    port = free_port()
    extra = behind_proxy_args() + (["--public-url", f"https://{DOMAIN}:{port}"] if public_url else [])
    relay = RelayProcess(tmp_path / "relay", rate_limits=True, extra_args=extra).start()
    try:
        with PROXIES[kind](tmp_path / kind, tls, [f"127.0.0.1:{relay.port}"], port):
            running = Site(kind, port, relay, tls)
            try:
                yield running
            finally:
                running.close()
    finally:
        relay.stop()


@pytest.fixture(
    params=[
        pytest.param("nginx", marks=pytest.mark.real_part("nginx")),
        pytest.param("caddy", marks=pytest.mark.real_part("caddy")),
    ]
)
def site(request: pytest.FixtureRequest, tmp_path: Path, tls_files: TlsFiles) -> Iterator[Site]:
    with proxied_relay(request.param, tmp_path, tls_files) as running:
        yield running


def _allocate(conn: PinnedHTTPSConnection, headers: dict[str, str] | None = None) -> Answer:
    return https_request(conn, "POST", "/v1/slot/allocate", body={}, headers=headers)


@pytest.mark.timeout(60)
def test_a_client_resolves_nick_at_domain_over_https(site: Site) -> None:
    conn = site.connect()
    allocated = _allocate(conn)
    assert allocated.status == 201, allocated.body
    slot = allocated.json()
    card = build_agent_card(SigningKey(secrets.token_bytes(32)), "alice")
    claim = https_request(
        conn,
        "POST",
        "/v1/handle/claim",
        body={"nick": card.handle, "slot_id": slot["slot_id"], "relay_url": site.origin, "card": card.to_json()},
        headers={"Authorization": f"Bearer {slot['slot_token']}"},
    )
    assert claim.status == 201, claim.body

    # nick@domain → https://domain/.well-known/wire/agent?handle=nick, verified TLS all the way
    handle = f"{card.handle}@{DOMAIN}"
    nick, _, domain = handle.partition("@")
    resolver = site.connect(host=domain)
    found = https_request(resolver, "GET", f"/.well-known/wire/agent?handle={nick}")
    assert found.status == 200, found.body
    record = found.json()
    assert record["did"] == card.did
    assert record["slot_id"] == slot["slot_id"]
    assert record["relay_url"] == site.origin
    assert "slot_token" not in found.body.decode()
    assert https_request(resolver, "GET", "/.well-known/wire/agent?handle=nobody").status == 404

    # a client that does not trust the test CA refuses the connection: TLS is really checked
    untrusting = site.connect(trust_test_ca=False)
    with pytest.raises(ssl.SSLCertVerificationError):
        https_request(untrusting, "GET", "/healthz")

    started, count = time.perf_counter(), 300
    for _ in range(count):
        assert https_request(conn, "GET", "/healthz").status == 200
    elapsed = time.perf_counter() - started
    print(f"\n[{site.kind}] {count} GET /healthz through TLS on one connection: {count / elapsed:.0f} req/s")


@pytest.mark.timeout(60)
def test_rate_limits_key_on_the_real_client_address(site: Site) -> None:
    """A client rotating forged X-Forwarded-For values still has one bucket; another client
    (another source address) is not affected by the first one's exhaustion."""
    spec = DEFAULT_RATE_LIMITS["allocate"]
    mallory = site.connect(source="127.0.0.2")
    started = time.monotonic()
    granted = 0
    for attempt in range(int(spec.burst) * 2):
        forged = f"10.{attempt % 250}.{attempt // 250}.7, 192.0.2.{attempt % 250}"
        answer = _allocate(mallory, headers={"X-Forwarded-For": forged, "X-Real-IP": forged})
        if answer.status == 429:
            assert int(answer.headers["retry-after"]) >= 1
            assert "error" in answer.json()
            break
        assert answer.status == 201, answer.body
        granted += 1
    else:
        pytest.fail(f"no 429 after {int(spec.burst) * 2} allocations with forged X-Forwarded-For")
    elapsed = time.monotonic() - started
    refilled = spec.per_second * elapsed
    print(
        f"\n[{site.kind}] allocate: 429 after {granted} requests "
        f"(burst {spec.burst:.0f}, +{refilled:.1f} refilled in {elapsed:.2f}s)"
    )
    assert spec.burst <= granted <= spec.burst + refilled + 1

    alice = site.connect(source="127.0.0.3")
    assert _allocate(alice).status == 201
    assert _allocate(mallory, headers={"X-Forwarded-For": "203.0.113.99"}).status == 429


@pytest.mark.timeout(60)
def test_generated_urls_use_https_with_public_url(site: Site) -> None:
    page = https_request(site.connect(), "GET", "/")
    assert page.status == 200
    text = page.body.decode()
    assert f"https://{DOMAIN}:{site.port}" in text
    assert f"http://{DOMAIN}" not in text
    assert "http://127.0.0.1" not in text


@pytest.mark.timeout(60)
@pytest.mark.xfail(
    not FORWARDED_PROTO_SUPPORTED,
    reason="waits for the relay hardening (issue 18 item 8: X-Forwarded-Proto honoured for generated URLs)",
    strict=True,
)
@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("nginx", marks=pytest.mark.real_part("nginx")),
        pytest.param("caddy", marks=pytest.mark.real_part("caddy")),
    ],
)
def test_generated_urls_use_https_from_forwarded_proto(kind: str, tmp_path: Path, tls_files: TlsFiles) -> None:
    with proxied_relay(kind, tmp_path, tls_files, public_url=False) as site:
        text = https_request(site.connect(), "GET", "/").body.decode()
    assert re.search(r"http://[^\s\"'<]*wire\.test", text) is None
    assert f"https://{DOMAIN}" in text


@pytest.mark.timeout(60)
def test_sse_is_not_buffered_by_the_proxy(site: Site) -> None:
    conn = site.connect()
    slot = _allocate(conn).json()
    auth = {"Authorization": f"Bearer {slot['slot_token']}"}
    stream = site.connect()
    stream.request("GET", f"/v1/events/{slot['slot_id']}/stream", headers={**auth, "Accept": "text/event-stream"})
    response = stream.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type", "").startswith("text/event-stream")
    event = {"event_id": secrets.token_hex(16), "type": "chat", "body": "through the proxy"}
    posted = https_request(conn, "POST", f"/v1/events/{slot['slot_id']}", body={"event": event}, headers=auth)
    assert posted.status == 201, posted.body
    deadline = time.monotonic() + 10
    seen = b""
    while time.monotonic() < deadline and event["event_id"].encode() not in seen:
        line = response.fp.readline()  # bounded by the connection's 10 s socket timeout
        if not line:
            break
        seen += line
    assert event["event_id"].encode() in seen, f"event not streamed through {site.kind}: {seen!r}"


@pytest.mark.timeout(60)
def test_metrics_are_not_served_to_the_internet(site: Site) -> None:
    assert https_request(site.connect(), "GET", "/metrics").status == 404
    with urllib.request.urlopen(f"{site.relay.url}/metrics", timeout=10) as direct:
        assert direct.status == 200
        assert b"wire_relay_http_requests_total" in direct.read()
