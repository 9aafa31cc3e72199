# SPDX-License-Identifier: MIT
"""Property-based API test: schemathesis replays /openapi.json against a real relay process.

Checks: no 5xx, every status and content type is documented, every JSON body matches its schema,
and every error (4xx) is a JSON ``{"error": "..."}`` object. Two passes over every operation:

* positive — requests generated to satisfy the document (random bodies, params, bearer tokens);
* negative — requests generated to VIOLATE the document (wrong types, missing required fields,
  out-of-range values, malformed path params); these must be refused with a documented 4xx, never
  a 5xx, and still with a JSON error body.

The SSE route (``/v1/events/{slot_id}/stream``) is included: it authorises before it streams, and a
generated bearer never matches a real slot, so every generated request gets an answer that ends
(the open stream itself is covered in test_sse.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers.relay_process import RelayProcess


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayProcess]:
    workdir: Path = tmp_path_factory.mktemp("schemathesis-relay")
    with RelayProcess(workdir, extra_args=["--sse-keepalive", "0.2"]) as process:
        yield process


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _assert_json_error(case: schemathesis.Case, response: schemathesis.Response) -> None:
    if response.status_code < 400:
        return
    where = f"{case.method} {case.formatted_path} → {response.status_code}"
    content_type = response.headers.get("content-type", [""])[0].split(";", 1)[0].strip()
    assert content_type == "application/json", f"{where}: error with content type {content_type!r}"
    body = response.json()
    assert isinstance(body, dict), f"{where}: error body is not an object: {body!r}"
    assert isinstance(body.get("error"), str), f"{where}: error body has no `error` string: {body!r}"


def _run_operations(relay: RelayProcess, mode: GenerationMode, max_examples: int) -> int:
    # (schemathesis' pytest plugin does not run under pytest 9 yet, so operations are driven here)
    schema = schemathesis.openapi.from_url(f"{relay.url}/openapi.json")
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            # (a random bearer never matches a slot, so even the stream route answers and ends here)
            response = case.call(timeout=10)
            case.validate_response(response, checks=CHECKS)
            _assert_json_error(case, response)

        try:
            run()
        except Unsatisfiable:
            # nothing in this operation can be made invalid (no parameters, no body): e.g. GET /healthz
            assert mode is GenerationMode.NEGATIVE, operation.path
            continue
        tested += 1
    return tested


def test_openapi_conformance(relay: RelayProcess) -> None:
    assert _run_operations(relay, GenerationMode.POSITIVE, 20) >= 25


def test_openapi_negative_inputs(relay: RelayProcess) -> None:
    # every operation with a parameter or a body (those without one have nothing to violate)
    assert _run_operations(relay, GenerationMode.NEGATIVE, 15) >= 20
