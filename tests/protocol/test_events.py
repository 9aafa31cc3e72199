# SPDX-License-Identifier: MIT
"""Events: envelope, ids, signatures, verification verdicts, kinds, schema versions, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wire_protocol as wp

PAUL = wp.SigningKey(b"\x01" * 32)
PAUL_CARD = wp.build_agent_card(PAUL, "paul")
WILLARD = wp.SigningKey(b"\x02" * 32)
WILLARD_CARD = wp.build_agent_card(WILLARD, "willard")
T0 = datetime(2026, 5, 23, tzinfo=UTC)
TRUST = wp.CardTrust([PAUL_CARD])

json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63) | st.text(),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=20,
)


def signed(body: wp.JSON = "hi", **extra: Any) -> wp.JSONObject:
    event = wp.build_event(
        from_did=PAUL_CARD.did, to="did:wire:willard", type="claim", kind=1001, body=body, timestamp=T0, **extra
    )
    return wp.sign_event(event, PAUL, PAUL_CARD.did)


def test_sign_and_verify() -> None:
    event = signed()
    verified = wp.verify_event(event, TRUST)
    assert verified.event_id == event["event_id"]
    assert verified.sender_handle == "paul"
    assert verified.kind == 1001
    assert verified.type == "claim"
    assert verified.body == "hi"
    assert len(verified.event_id) == 64


def test_event_id_is_stable_after_signing() -> None:
    event = signed()
    assert wp.compute_event_id(event) == event["event_id"]


def test_bare_handle_sender_accepted() -> None:
    event = wp.build_event(from_did="paul", to="x", type="claim", kind=1001, body="b", timestamp=T0)
    assert wp.verify_event(wp.sign_event(event, PAUL, PAUL_CARD.did), TRUST).sender_handle == "paul"


def test_schema_version_optional() -> None:
    event = wp.build_event(
        from_did=PAUL_CARD.did, to="x", type="claim", kind=1001, body="b", timestamp=T0, schema_version=None
    )
    assert "schema_version" not in event
    assert wp.verify_event(wp.sign_event(event, PAUL, PAUL_CARD.did), TRUST)


def test_unknown_extra_fields_are_signed() -> None:
    event = signed(extra={"enc": "wire-x25519.v1"})
    assert wp.verify_event(event, TRUST).data["enc"] == "wire-x25519.v1"
    event["enc"] = "other"
    with pytest.raises(wp.VerificationError) as info:
        wp.verify_event(event, TRUST)
    assert info.value.code == "event_id_mismatch"
    assert not info.value.transient


def test_identical_sends_at_different_times_differ() -> None:
    a = wp.build_event(from_did=PAUL_CARD.did, to="x", type="claim", kind=1001, body="b", timestamp=T0)
    b = wp.build_event(
        from_did=PAUL_CARD.did, to="x", type="claim", kind=1001, body="b", timestamp=T0 + timedelta(seconds=1)
    )
    assert wp.compute_event_id(a) != wp.compute_event_id(b)


@pytest.mark.parametrize(
    ("mutate", "code", "transient"),
    [
        (lambda e: e.update(body="tampered"), "event_id_mismatch", False),
        (lambda e: e.update(event_id="0" * 64), "event_id_mismatch", False),
        (lambda e: e.pop("signature"), "missing_field", False),
        (lambda e: e.pop("from"), "missing_field", False),
        (lambda e: e.pop("public_key_id"), "missing_field", False),
        (lambda e: e.update(event_id=7), "missing_field", False),
        (lambda e: e.update(signature="!!!"), "malformed", False),
        (lambda e: e.update(signature=wp.b64encode(b"\x00" * 64)), "bad_signature", False),
        (lambda e: e.update(public_key_id="paul:00000000"), "unknown_key", True),
    ],
)
def test_verification_failures(mutate: Any, code: str, transient: bool) -> None:
    event = signed()
    mutate(event)
    with pytest.raises(wp.VerificationError) as info:
        wp.verify_event(event, TRUST)
    assert (info.value.code, info.value.transient) == (code, transient)


def test_unknown_sender_is_transient() -> None:
    with pytest.raises(wp.VerificationError) as info:
        wp.verify_event(signed(), wp.CardTrust([WILLARD_CARD]))
    assert (info.value.code, info.value.transient) == ("unknown_agent", True)


def test_inactive_key_is_rejected() -> None:
    class Inactive:
        def keys_for(self, handle: str) -> list[wp.TrustedKey]:
            return [wp.TrustedKey(key_id="paul:34750f98", public_key=PAUL.public_key, active=False)]

    with pytest.raises(wp.VerificationError) as info:
        wp.verify_event(signed(), Inactive())
    assert info.value.code == "inactive_key"


def test_signature_by_other_key_is_rejected() -> None:
    event = signed()
    event["signature"] = wp.b64encode(WILLARD.sign(bytes.fromhex(str(event["event_id"]))))
    with pytest.raises(wp.VerificationError) as info:
        wp.verify_event(event, TRUST)
    assert info.value.code == "bad_signature"


@pytest.mark.parametrize("value", [None, [], "x"])
def test_non_object_event(value: object) -> None:
    with pytest.raises(wp.VerificationError):
        wp.verify_event(value, TRUST)


def test_signing_refuses_floats() -> None:
    with pytest.raises(wp.EventError, match="float"):
        signed(body={"t": 21.5})


def test_float_content_from_other_implementations_verifies() -> None:
    event = wp.build_event(from_did=PAUL_CARD.did, to="x", type="claim", kind=1001, body="b", timestamp=T0)
    event["body"] = {"t": 21.5, "big": 1e16}
    event_id = wp.compute_event_id(event, allow_floats=True)
    event.update(
        event_id=event_id,
        public_key_id="paul:34750f98",
        signature=wp.b64encode(PAUL.sign(bytes.fromhex(event_id))),
    )
    assert wp.verify_event(event, TRUST).event_id == event_id


@settings(max_examples=50)
@given(json_bodies)
def test_verify_sign_round_trip_for_any_body(body: wp.JSON) -> None:
    assert wp.verify_event(signed(body=body), TRUST)


@settings(max_examples=60)
@given(st.data())
def test_any_single_byte_tamper_of_a_signed_event_is_rejected(data: st.DataObject) -> None:
    event = signed(body={"text": "héllo ✓", "n": 42})
    encoded = bytearray(wp.compact_json(event))
    index = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    encoded[index] = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != encoded[index]))
    try:
        parsed = wp.loads(bytes(encoded))
    except wp.CanonicalizationError:
        return
    if wp.compact_json(parsed) == wp.compact_json(event):
        return
    with pytest.raises(wp.VerificationError):
        wp.verify_event(parsed, TRUST)


def test_deadline_is_signed() -> None:
    event = signed(time_sensitive_until=T0 + timedelta(minutes=30))
    assert event["time_sensitive_until"] == "2026-05-23T00:30:00Z"
    event["time_sensitive_until"] = "2026-05-23T00:31:00Z"
    with pytest.raises(wp.VerificationError):
        wp.verify_event(event, TRUST)


def test_deadline_text_is_validated() -> None:
    assert signed(time_sensitive_until="2026-05-23T01:00:00Z")["time_sensitive_until"] == "2026-05-23T01:00:00Z"
    with pytest.raises(wp.EventError):
        signed(time_sensitive_until="tomorrow")


@pytest.mark.parametrize("kind", [-1, 2**32, True])
def test_kind_range(kind: int) -> None:
    with pytest.raises(wp.EventError):
        wp.build_event(from_did="a", to="b", type="t", kind=kind, body=None, timestamp=T0)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 5, 23, 23, 36, 6, tzinfo=UTC), "2026-05-23T23:36:06Z"),
        (datetime(2026, 5, 23, 23, 36, 6, 123450, tzinfo=UTC), "2026-05-23T23:36:06.12345Z"),
        (datetime(2026, 5, 23, 23, 36, 6, 100000, tzinfo=UTC), "2026-05-23T23:36:06.1Z"),
        (datetime(2026, 5, 24, 1, 36, 6, tzinfo=timezone(timedelta(hours=2))), "2026-05-23T23:36:06Z"),
    ],
)
def test_timestamp_format(moment: datetime, text: str) -> None:
    assert wp.format_timestamp(moment) == text


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(wp.EventError):
        wp.format_timestamp(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "text",
    ["2026-05-23T23:36:06Z", "2026-05-23T23:36:06.123456789Z", "2026-05-23T23:36:06+02:00", "2026-05-23t23:36:06z"],
)
def test_parse_timestamp(text: str) -> None:
    assert wp.parse_timestamp(text).tzinfo is not None


@pytest.mark.parametrize("text", ["2026-05-23", "yesterday", "", 5, "2026-05-23T23:36:06"])
def test_parse_timestamp_rejects(text: object) -> None:
    with pytest.raises(wp.EventError):
        wp.parse_timestamp(text)


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        (1, "regular"),
        (100, "ephemeral"),
        (1000, "regular"),
        (9999, "regular"),
        (10000, "replaceable"),
        (19999, "replaceable"),
        (20000, "ephemeral"),
        (29999, "ephemeral"),
        (30000, "addressable"),
        (7, "unknown"),
        (99999, "unknown"),
    ],
)
def test_kind_classes(kind: int, cls: str) -> None:
    assert wp.kind_class(kind) == cls


def test_known_kinds() -> None:
    for kind in (1, 100, 1000, 1100, 1101, 1201):
        assert wp.is_known_kind(kind)
    for kind in (0, 9999, 1099, 50000, 1900, 1901, 10500, True, "1001"):
        assert not wp.is_known_kind(kind)
    assert len(wp.KINDS) == 10
    assert wp.Kind.CLAIM == 1001


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("decision", 1),
        ("claim", 1001),
        ("ack", 1002),
        ("agent_card", 1100),
        ("wire_close", 1201),
        ("1000", 1000),
        ("question", 1),
        ("pair_drop", 1),
    ],
)
def test_kind_for_name(name: str, kind: int) -> None:
    assert wp.kind_for_name(name) == kind


def test_kind_for_name_rejects_oversized_number() -> None:
    with pytest.raises(wp.EventError):
        wp.kind_for_name(str(2**32))


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        (None, None),
        ("v3.1", None),
        ("v3.2", None),
        ("v3", None),
        ("v4.0", "schema_mismatch=v4.0 binary_supports=v3.1"),
        ("v2.9", "schema_mismatch=v2.9 binary_supports=v3.1"),
    ],
)
def test_schema_version_rules(version: str | None, reason: str | None) -> None:
    event: dict[str, object] = {} if version is None else {"schema_version": version}
    assert wp.check_schema_version(event) == reason
