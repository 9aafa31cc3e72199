# SPDX-License-Identifier: MIT
"""``GET /metrics`` scraped from a real relay process, and the JSON-lines log format (access log
included) — what an operator's Prometheus and log shipper see."""

from __future__ import annotations

import json
import logging
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.relay_process import RelayProcess
from wire_relay.config import DEFAULT_RATE_LIMITS
from wire_relay.logs import JsonLinesFormatter, kv

TIMEOUT = 10


def _call(url: str, method: str = "GET", body: object = None, token: str | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def _samples(relay: RelayProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = _call(f"{relay.url}/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
    }


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RelayProcess]:
    with RelayProcess(tmp_path, rate_limits=True) as running:
        yield running


@pytest.mark.timeout(60)
def test_metrics_scrape_counts_requests_events_streams_slots_and_rate_limits(relay: RelayProcess) -> None:
    spec = DEFAULT_RATE_LIMITS["allocate"]
    slots, rejected = [], 0
    for _ in range(int(spec.burst) * 3):  # until the limit answers (the bucket refills meanwhile)
        status, body = _call(f"{relay.url}/v1/slot/allocate", "POST", {})
        if status == 201:
            slots.append(json.loads(body))
        else:
            assert status == 429
            rejected += 1
            break
    assert rejected == 1
    assert len(slots) >= spec.burst
    slot = slots[0]
    for n in range(5):
        event = {"event_id": f"e{n}-{secrets.token_hex(4)}", "type": "chat"}
        assert _call(f"{relay.url}/v1/events/{slot['slot_id']}", "POST", {"event": event}, slot["slot_token"])[0] == 201
    assert _call(f"{relay.url}/v1/events/{slot['slot_id']}", "POST", {"event": {}}, "0" * 64)[0] == 403
    assert _call(f"{relay.url}/no/such/route")[0] == 404

    # one SSE stream open while we scrape
    stream = urllib.request.Request(
        f"{relay.url}/v1/events/{slot['slot_id']}/stream", headers={"Authorization": f"Bearer {slot['slot_token']}"}
    )
    opened = urllib.request.urlopen(stream, timeout=TIMEOUT)
    try:
        samples = _samples(relay)
    finally:
        opened.close()

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    allocate = "/v1/slot/allocate"
    assert value("wire_relay_http_requests_total", route=allocate, method="POST", status="201") == len(slots)
    assert value("wire_relay_http_requests_total", route=allocate, method="POST", status="429") == rejected
    assert value("wire_relay_rate_limited_total", route=allocate) == rejected
    events = "/v1/events/{slot_id}"
    assert value("wire_relay_http_requests_total", route=events, method="POST", status="201") == 5
    assert value("wire_relay_http_requests_total", route=events, method="POST", status="403") == 1
    assert value("wire_relay_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert value("wire_relay_http_request_duration_seconds_count", route=events, method="POST") == 6
    assert value("wire_relay_events_stored_total") == 5
    assert value("wire_relay_slots_active") == len(slots)
    assert value("wire_relay_streams_active") == 1
    assert value("wire_relay_store_operation_duration_seconds_count", operation="append") == 5
    assert value("wire_relay_store_operation_duration_seconds_count", operation="allocate_slot") == len(slots)
    # labels never carry raw paths, slot ids or tokens
    assert not any(slot["slot_id"] in str(key) or slot["slot_token"] in str(key) for key in samples)


@pytest.mark.timeout(60)
def test_json_log_format_covers_server_and_access_lines(tmp_path: Path) -> None:
    relay = RelayProcess(tmp_path, extra_args=["--log-format", "json", "--access-log"])
    with relay:
        status, body = _call(f"{relay.url}/v1/slot/allocate", "POST", {})
        assert status == 201
        token = json.loads(body)["slot_token"]
        assert _call(f"{relay.url}/i/{'ab' * 3}")[0] == 404
        assert _call(f"{relay.url}/healthz")[0] == 200
    lines = [line for line in relay.stderr_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"ts", "level", "logger"} <= record.keys() for record in records)
    events = [record.get("event") for record in records]
    assert "listening" in events
    assert "shutdown_done" in events
    access = [record for record in records if record.get("event") == "access"]
    assert {(r["method"], r["route"], r["status"]) for r in access} >= {
        ("POST", "/v1/slot/allocate", 201),
        ("GET", "/i/{token}", 404),
        ("GET", "/healthz", 200),
    }
    assert all(isinstance(r["duration_ms"], float) and r["remote"] == "127.0.0.1" for r in access)
    text = relay.stderr_path.read_text()
    assert token not in text
    assert "/i/ababab" not in text  # raw paths (invite tokens) are never logged


def test_json_formatter_keeps_foreign_messages_and_tracebacks() -> None:
    formatter = JsonLinesFormatter()

    def record(message: str, *args: object, exc: bool = False) -> dict[str, object]:
        exc_info = None
        if exc:
            try:
                raise ValueError("boom")
            except ValueError:
                exc_info = sys.exc_info()
        entry = logging.LogRecord("x", logging.WARNING, __file__, 1, message, args, exc_info)
        parsed: dict[str, object] = json.loads(formatter.format(entry))
        return parsed

    assert record("event=%s n=%s took=%s %s", "swept", 3, "1.5", kv(who='a "b" c'))["who"] == 'a "b" c'
    assert record("event=swept n=3 took=1.5") | {"ts": ""} == {
        "ts": "",
        "level": "warning",
        "logger": "x",
        "event": "swept",
        "n": 3,
        "took": 1.5,
    }
    assert record("Unclosed client session")["msg"] == "Unclosed client session"
    assert record("level=spoofed")["level"] == "warning"  # a message cannot overwrite the envelope
    assert "ValueError: boom" in str(record("event=failed", exc=True)["exc"])
