# SPDX-License-Identifier: MIT
"""The relay's fast stored form is byte-identical to wire_protocol.compact_json (property-based)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wire_protocol import CanonicalizationError, compact_json
from wire_relay.codec import loads_tracking, stored_form

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_stored_form_equals_compact_json(value: object) -> None:
    text = json.dumps(value)
    parsed, plain = loads_tracking(text.encode())
    try:
        expected = compact_json(parsed)
    except CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            stored_form(parsed, plain)
        return
    assert stored_form(parsed, plain) == expected


def test_tracking_flags() -> None:
    assert loads_tracking(b'{"a":[1,2,"x"]}')[1] is True
    assert loads_tracking(b'{"a":1.5}')[1] is False
    assert loads_tracking(b'{"a":18446744073709551616}')[1] is False
    assert loads_tracking(b'{"a":-9223372036854775808}')[1] is True
    for bad in (b"{", b'{"a":NaN}', b"\xff"):
        with pytest.raises(CanonicalizationError):
            loads_tracking(bad)
    with pytest.raises(CanonicalizationError):
        stored_form(loads_tracking(b'"\\ud800"')[0], True)
