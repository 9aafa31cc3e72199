# SPDX-License-Identifier: Apache-2.0
"""Canonical JSON, byte-compatible with the reference implementation.

Rules (docs/PROTOCOL.md §3):

* on a top-level object, ``signature`` and ``public_key_id`` are removed; in *strict* mode
  ``event_id`` is removed too. Nested objects are never stripped;
* keys sorted by code point at every level (equal to UTF-8 byte order), compact separators;
* strings emitted as raw UTF-8, escaping only ``"``, ``\\``, the short control escapes and other
  C0 controls as lowercase ``\\u00xx``;
* numbers: integers in plain decimal. What we *sign* must be integers in the signed/unsigned 64-bit
  range (floats have no agreed text form). When *verifying* content signed by another
  implementation, floats are rendered the way the reference's JSON library renders them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TypeAlias

from wire_protocol.errors import CanonicalizationError

__all__ = [
    "JSON",
    "JSONObject",
    "canonical_bytes",
    "compact_json",
    "loads",
]

JSON: TypeAlias = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
JSONObject: TypeAlias = dict[str, JSON]

INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
_ALWAYS_STRIPPED = ("signature", "public_key_id")


def canonical_bytes(value: object, *, strict: bool, allow_floats: bool = False) -> bytes:
    """Return the canonical encoding of ``value``.

    ``strict`` also strips a top-level ``event_id`` (the event-id preimage). With
    ``allow_floats=False`` (signing) a float or an out-of-range integer raises
    :class:`CanonicalizationError`; with ``allow_floats=True`` (verifying a peer's content) they
    are rendered as the reference renders them.
    """
    if isinstance(value, Mapping):
        stripped = {k: v for k, v in value.items() if k not in _ALWAYS_STRIPPED}
        if strict:
            stripped.pop("event_id", None)
        value = stripped
    return _serialize(value, allow_floats=allow_floats)


def compact_json(value: object) -> bytes:
    """Sorted-key compact JSON of ``value`` with nothing stripped (relay storage, bootstrap blobs)."""
    return _serialize(value, allow_floats=True)


def _serialize(value: object, *, allow_floats: bool) -> bytes:
    # Fast path: plain JSON (no floats, no huge integers) goes through the C encoder, whose output
    # for such values is exactly the canonical form. Anything else takes the exact slow path.
    try:
        if _is_plain(value):
            text = _DUMPS(value)
        else:
            parts: list[str] = []
            _encode(value, parts, allow_floats=allow_floats, path="$")
            text = "".join(parts)
    except RecursionError as exc:
        raise CanonicalizationError("value is nested too deeply to canonicalize") from exc
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("string contains a lone surrogate, which is not valid UTF-8") from exc


_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode


def _is_plain(value: object) -> bool:
    """True when ``value`` holds only str-keyed dicts, lists, strings, bools, None and 64-bit ints."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, str | bool):
            continue
        if isinstance(item, int):
            if not INT_MIN <= item <= INT_MAX:
                return False
        elif type(item) is dict:
            for key, child in item.items():
                if not isinstance(key, str):
                    return False
                stack.append(child)
        elif type(item) is list:
            stack.extend(item)
        else:
            return False
    return True


def loads(data: str | bytes) -> JSON:
    """Parse JSON the way the reference does: no NaN/Infinity, last duplicate key wins."""

    def reject_constant(name: str) -> JSON:
        raise CanonicalizationError(f"{name} is not valid JSON")

    try:
        result: JSON = json.loads(data, parse_constant=reject_constant, parse_int=_parse_int)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CanonicalizationError(f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise CanonicalizationError("JSON is nested too deeply") from exc
    except ValueError as exc:  # an integer literal longer than Python's int conversion limit
        raise CanonicalizationError(f"not valid JSON: {exc}") from exc
    return result


def _parse_int(text: str) -> int | float:
    # the reference reads "-0" as the float -0.0 (an integer cannot be negative zero)
    return -0.0 if text == "-0" else int(text)


_encode_str = json.encoder.py_encode_basestring


def _encode(value: object, out: list[str], *, allow_floats: bool, path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            out.append(str(value))
        elif allow_floats:
            out.append(format_float(float(value)))
        else:
            raise CanonicalizationError(
                f"integer at {path} is outside the signed/unsigned 64-bit range; "
                "other implementations would read it as a float"
            )
    elif isinstance(value, float):
        if not allow_floats:
            raise CanonicalizationError(
                f"float at {path}: signed content must use integers only (encode decimals as strings)"
            )
        out.append(format_float(value))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key in sorted(value):
            if not isinstance(key, str):
                raise CanonicalizationError(f"object key at {path} is not a string")
            if not first:
                out.append(",")
            first = False
            out.append(_encode_str(key))
            out.append(":")
            _encode(value[key], out, allow_floats=allow_floats, path=f"{path}.{key}")
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, allow_floats=allow_floats, path=f"{path}[{index}]")
        out.append("]")
    else:
        raise CanonicalizationError(f"value at {path} of type {type(value).__name__} is not JSON")


def format_float(value: float) -> str:
    """Render a float as the reference's JSON writer does (serde_json 1.0.149: shortest digits).

    Python's ``repr`` finds the same shortest digits; only the layout differs: the reference
    writes ``1e-7`` where Python writes ``1e-07``, and switches between plain and exponent form at
    different magnitudes (confirmed against the real library: tests/vectors/serde_json_canonical.json).
    """
    if not math.isfinite(value):
        raise CanonicalizationError("NaN and infinity are not valid JSON")
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    magnitude = abs(value)
    if magnitude == 0.0:
        return f"{sign}0.0"
    mantissa, _, exponent_text = repr(magnitude).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    # value == 0.<significant> * 10**point
    point = len(whole) + int(exponent_text or 0) - (len(all_digits) - len(significant))
    digits = significant.rstrip("0")
    length = len(digits)
    if point >= length and point <= 16:
        return f"{sign}{digits}{'0' * (point - length)}.0"
    if 0 < point <= 16:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -5 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    exp = point - 1
    exp_text = f"e+{exp}" if exp > 0 else f"e{exp}"
    if length == 1:
        return f"{sign}{digits}{exp_text}"
    return f"{sign}{digits[0]}.{digits[1:]}{exp_text}"
