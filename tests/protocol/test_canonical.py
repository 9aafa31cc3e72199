# SPDX-License-Identifier: MIT
"""Canonical JSON: rules, refusals and properties."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import wire_protocol as wp
from wire_protocol._canonical import format_float

json_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's insertion order shuffled."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@given(json_values, st.integers())
def test_canonical_form_is_stable_under_key_reordering(value: Any, seed: int) -> None:
    shuffled = _shuffled(value, random.Random(seed))
    assert wp.canonical_bytes(value, strict=True) == wp.canonical_bytes(shuffled, strict=True)


@given(json_values)
def test_canonical_form_round_trips_through_json(value: Any) -> None:
    encoded = wp.canonical_bytes(value, strict=False)
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in ("signature", "public_key_id")}
    assert wp.loads(encoded) == value


@given(json_values)
def test_fast_and_exact_paths_agree(value: Any) -> None:
    # a float forces the exact path for the whole document; its text is appended at the end
    fast = wp.compact_json([value])
    exact = wp.compact_json([value, 0.5])
    assert exact == fast[:-1] + b",0.5]"


def test_python_sort_matches_utf8_byte_order() -> None:
    keys = ["é", "z", "Z", "\U0001f600", "\uffff", "a\x00", "ab", "a"]
    ordered = list(wp.loads(wp.canonical_bytes(dict.fromkeys(keys, 1), strict=False)))  # type: ignore[arg-type]
    assert ordered == sorted(keys, key=lambda k: k.encode("utf-8"))


@pytest.mark.parametrize("bad", [1.5, {"a": [0.1]}, {"n": 2**64}, {"n": -(2**63) - 1}])
def test_signing_refuses_floats_and_wide_integers(bad: object) -> None:
    with pytest.raises(wp.CanonicalizationError):
        wp.canonical_bytes(bad, strict=True)


def test_float_refusal_names_the_path() -> None:
    with pytest.raises(wp.CanonicalizationError, match=r"\$\.body\.t"):
        wp.canonical_bytes({"body": {"t": 21.5}}, strict=True)


def test_bool_is_not_an_integer() -> None:
    assert wp.canonical_bytes({"a": True, "b": 1}, strict=False) == b'{"a":true,"b":1}'


@pytest.mark.parametrize("bad", [{1: "x"}, {"a": object()}, {"a": {1, 2}}, {"a": b"bytes"}])
def test_non_json_values_are_rejected(bad: object) -> None:
    with pytest.raises(wp.CanonicalizationError):
        wp.canonical_bytes(bad, strict=False)


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(wp.CanonicalizationError, match="surrogate"):
        wp.canonical_bytes({"s": "\ud800"}, strict=False)


def test_only_top_level_fields_are_stripped() -> None:
    value = {"signature": 1, "public_key_id": 2, "event_id": 3, "x": {"signature": 4}}
    assert wp.canonical_bytes(value, strict=False) == b'{"event_id":3,"x":{"signature":4}}'
    assert wp.canonical_bytes(value, strict=True) == b'{"x":{"signature":4}}'


def test_tuples_encode_as_arrays() -> None:
    assert wp.canonical_bytes({"a": (1, 2)}, strict=False) == b'{"a":[1,2]}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1e-5, "0.00001"),
        (1e-6, "1e-6"),
        (1.5e-7, "1.5e-7"),
        (-0.0, "-0.0"),
        (100.0, "100.0"),
        (2.5e-5, "0.000025"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
    ],
)
def test_float_layout_matches_reference_writer(value: float, text: str) -> None:
    assert format_float(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_round_trips(value: float) -> None:
    assert float(format_float(value)) == value


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_floats_are_rejected(bad: float) -> None:
    with pytest.raises(wp.CanonicalizationError):
        format_float(bad)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "{", b"\xff", '{"a":1,}'])
def test_loads_rejects_invalid_json(text: str | bytes) -> None:
    with pytest.raises(wp.CanonicalizationError):
        wp.loads(text)


def test_loads_keeps_last_duplicate_key() -> None:
    assert wp.loads('{"a":1,"a":2}') == {"a": 2}


def test_verification_mode_renders_big_integers_as_floats() -> None:
    assert wp.canonical_bytes({"n": 2**64}, strict=False, allow_floats=True) == b'{"n":1.8446744073709552e+19}'
    assert json.loads(wp.compact_json({"n": 1.5})) == {"n": 1.5}
