# SPDX-License-Identifier: AGPL-3.0-or-later
"""JSON decoding for request bodies and the stored form of events (the relay's hot path).

The stored form of an event is ``wire_protocol.compact_json(event)`` (sorted keys, compact). For a
value that holds no floats and no integers beyond 64 bits, ``compact_json`` is exactly the C JSON
encoder with ``sort_keys``; it finds that out by walking the value, which costs more than encoding
it. The relay already knows the answer from parsing: :func:`loads_tracking` notes floats and huge
integers while the C decoder runs, and :func:`stored_form` then skips the walk for plain bodies.
Anything else goes through ``compact_json`` itself, so the bytes are identical either way
(``tests/relay/test_codec.py`` checks it property-based).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from json.encoder import JSONEncoder, encode_basestring

from wire_protocol import JSON, CanonicalizationError, compact_json

__all__ = ["MAX_JSON_DEPTH", "exceeds_depth", "loads_tracking", "stored_form"]

#: nesting limit for the bodies of the routes that interpret what they parse (claim, intro, pairing,
#: invites): the reference's JSON parser (serde_json) refuses deeper documents the same way, and a
#: deeper card or event would make the verifiers (and clients resolving a handle) recurse too deep
MAX_JSON_DEPTH = 128

_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1
_ENCODER = JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
_c_make_encoder: Callable[..., Callable[[object, int], Iterable[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)
# ``_ENCODER.encode`` builds the C encoder anew on every call (``iterencode(_one_shot=True)``);
# building it once saves ~1.5 µs per event (~25% of encoding a 300-byte event). No circular check
# (``markers=None``): a parsed value cannot contain a cycle, and nesting too deep still ends in
# RecursionError as before. Same output: the same C encoder with the same settings.
_c_encode = (
    _c_make_encoder(None, _ENCODER.default, encode_basestring, None, ":", ",", True, False, False)
    if _c_make_encoder is not None
    else None
)


def _encode(value: object) -> str:
    if _c_encode is None:  # pragma: no cover - CPython always has the C encoder
        return _ENCODER.encode(value)
    return "".join(_c_encode(value, 0))


def _reject_constant(name: str) -> JSON:
    raise CanonicalizationError(f"{name} is not valid JSON")


class _Tracking(threading.local):
    """Per-thread flag the decoder hooks clear when a value is not plain (one decode at a time per thread)."""

    plain = True


_tracking = _Tracking()


def _on_float(text: str) -> float:
    _tracking.plain = False
    return float(text)


def _on_int(text: str) -> int:
    value = int(text)
    if not _INT_MIN <= value <= _INT_MAX:
        _tracking.plain = False
    return value


# Built once: ``json.loads`` with hooks builds a new decoder (and its C scanner) on every call, which
# cost ~4 µs of the ~10 µs it takes to parse a 350-byte event.
_DECODER = json.JSONDecoder(parse_float=_on_float, parse_int=_on_int, parse_constant=_reject_constant)


def loads_tracking(data: bytes) -> tuple[JSON, bool]:
    """Parse like ``wire_protocol.loads``; also return whether the value is *plain* (no float, no
    integer outside the 64-bit ranges). Raises :class:`CanonicalizationError` on invalid JSON."""
    _tracking.plain = True
    try:
        # what json.loads does with bytes: detect UTF-8/16/32, decode, then parse the text
        value: JSON = _DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CanonicalizationError(f"not valid JSON: {exc}") from exc
    except ValueError as exc:  # an integer beyond Python's 4,300-digit conversion limit (was a 500)
        raise CanonicalizationError(f"not valid JSON: {exc}") from exc
    except RecursionError as exc:  # ~1,000 levels: the C decoder gives up (was a 500)
        raise CanonicalizationError("not valid JSON: nested too deeply") from exc
    return value, _tracking.plain


def exceeds_depth(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects in ``value`` nest more than ``limit`` levels (iterative walk)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is dict:
            children: Iterable[object] = node.values()
        elif type(node) is list:
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if type(child) is dict or type(child) is list)
    return False


def stored_form(value: object, plain: bool) -> bytes:
    """``compact_json(value)``, fast for values parsed by :func:`loads_tracking` as plain."""
    try:
        if not plain:
            return compact_json(value)
        return _encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("string contains a lone surrogate, which is not valid UTF-8") from exc
    except RecursionError as exc:  # a value parsed just under the decoder's limit (was a 500)
        raise CanonicalizationError("value is nested too deeply") from exc
