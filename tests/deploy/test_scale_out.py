# SPDX-License-Identifier: MIT
"""The scale-out shape of deploy/compose (two relays on one PostgreSQL behind a proxy), run with
real processes: the nginx example with two upstreams, two relay processes, a real PostgreSQL.
Whichever replica answers, a claimed nick resolves over https and the rate limit is one limit."""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import DOMAIN, behind_proxy_args
from tests.deploy.proxies import free_port, run_nginx
from tests.deploy.tls import PinnedHTTPSConnection, TlsFiles, client_context, https_request
from tests.helpers import postgres as pg
from tests.helpers.relay_process import RelayProcess
from wire_protocol import SigningKey, build_agent_card
from wire_relay.config import DEFAULT_RATE_LIMITS

pg_server = pg.pg_server
fresh_pg_url = pg.fresh_pg_url

pytestmark = [pytest.mark.postgres, pytest.mark.real_part("nginx"), pytest.mark.timeout(120)]


def _requests_served(relay: RelayProcess, route: str) -> float:
    with urllib.request.urlopen(f"{relay.url}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("wire_relay_http_requests_total{") and f'route="{route}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def replicas(tmp_path: Path, fresh_pg_url: str) -> Iterator[tuple[int, list[RelayProcess]]]:
    port = free_port()
    extra = [*behind_proxy_args(), "--public-url", f"https://{DOMAIN}:{port}"]
    relays = [
        RelayProcess(tmp_path / f"relay{n}", store_url=fresh_pg_url, rate_limits=True, extra_args=extra) for n in (1, 2)
    ]
    try:
        for relay in relays:
            relay.start()
        yield port, relays
    finally:
        for relay in relays:
            relay.stop()


def test_two_replicas_on_postgres_behind_nginx(
    replicas: tuple[int, list[RelayProcess]], tmp_path: Path, tls_files: TlsFiles
) -> None:
    port, relays = replicas
    with run_nginx(tmp_path / "nginx", tls_files, [f"127.0.0.1:{r.port}" for r in relays], port):
        conn = PinnedHTTPSConnection(DOMAIN, port, client_context(tls_files), source="127.0.0.4")
        try:
            slot = https_request(conn, "POST", "/v1/slot/allocate", body={}).json()
            card = build_agent_card(SigningKey(secrets.token_bytes(32)), "alice")
            claim = https_request(
                conn,
                "POST",
                "/v1/handle/claim",
                body={"nick": card.handle, "slot_id": slot["slot_id"], "card": card.to_json()},
                headers={"Authorization": f"Bearer {slot['slot_token']}"},
            )
            assert claim.status == 201, claim.body
            for _ in range(10):
                found = https_request(conn, "GET", f"/.well-known/wire/agent?handle={card.handle}")
                assert found.status == 200
                assert json.loads(found.body)["did"] == card.did
            assert all(_requests_served(r, "/.well-known/wire/agent") > 0 for r in relays), "both replicas answer"

            spec = DEFAULT_RATE_LIMITS["allocate"]
            started, granted = time.monotonic(), 1  # one allocation above
            for _ in range(int(spec.burst) * 2):
                status = https_request(conn, "POST", "/v1/slot/allocate", body={}).status
                if status == 429:
                    break
                assert status == 201
                granted += 1
            else:
                pytest.fail("no 429 across the two replicas")
            elapsed = time.monotonic() - started
            print(f"\n[nginx → 2 relays → PostgreSQL] allocate: 429 after {granted} (burst {spec.burst:.0f})")
            assert spec.burst <= granted <= spec.burst + spec.per_second * elapsed + 1
        finally:
            conn.close()
