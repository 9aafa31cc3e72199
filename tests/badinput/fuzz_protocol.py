# SPDX-License-Identifier: MIT
"""Fuzz target: wire-protocol's parsers and canonicalization must fail only with documented errors.

One input = one selector byte (which parser) + the payload. Targets:

==  =====================================================================================
0   ``loads`` → ``compact_json`` / ``canonical_bytes`` (and compact form idempotent)
1   ``verify_card`` (with and without DID binding); a card that verifies re-verifies from JSON
2   ``verify_event`` against a known card; ``compute_event_id``; ``check_schema_version``;
    ``parse_timestamp`` of the event's timestamp
3   ``parse_invite`` (UTF-8 text)
4   ``parse_a2a_card``
5   ``parse_code_phrase``; ``parse_address``; ``validate_handle``; ``sanitize_display_text``;
    ``character_from_did``; ``b64decode_exact``
6   ``parse_bootstrap_payload``; ``open_bootstrap`` of the text as a sealed blob
==  =====================================================================================

Anything but the documented exception of each call (``CanonicalizationError``, ``CardError``,
``VerificationError``, ``EventError``, ``InviteError``, ``PairingError``, ``HandleError``,
``KeyFormatError``) escaping is a bug, and so is a broken round trip.

Two drivers:

* atheris (libFuzzer, coverage-guided), when ``atheris`` is importable::

      .venv/bin/python tests/badinput/fuzz_protocol.py -max_total_time=600      # by hand, 10 min
      .venv/bin/python tests/badinput/fuzz_protocol.py -runs=200000 CORPUS_DIR  # keep a corpus

  (libFuzzer flags pass through; a seed corpus of valid cards, events, invites, A2A cards,
  bootstrap payloads and code phrases is written to a temporary directory, or to CORPUS_DIR);
* plain Python (no atheris needed): random structure-aware and byte-level mutations of the same
  seeds, reproducible from ``--seed``::

      .venv/bin/python tests/badinput/fuzz_protocol.py --plain --seconds 60 --seed 7

CI runs both briefly (``tests/badinput/test_fuzz_protocol.py``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``tests`` importable like under pytest
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _import_protocol() -> Any:
    """``wire_protocol``, coverage-instrumented when this file runs under atheris (only that package
    is instrumented: instrumenting everything loaded costs ~30 s of start-up)."""
    if __name__ == "__main__" and "--plain" not in sys.argv:
        try:
            import atheris  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            pass
        else:
            with atheris.instrument_imports(include=["wire_protocol"]):
                import wire_protocol
            return wire_protocol
    import wire_protocol

    return wire_protocol


wp = _import_protocol()

NOW = 1_900_000_000

# ------------------------------------------------------------------------------------------ fixtures


@functools.cache
def fixtures() -> dict[str, Any]:
    key = wp.SigningKey(bytes(range(32)))
    card = wp.build_agent_card(key, "fuzzy", profile={"emoji": "🦊", "motto": "fuzz ü"})
    event = wp.sign_event(
        wp.build_event(
            from_did=card.did,
            to="did:wire:peer-0123abcd",
            type="claim",
            kind=1001,
            body={"text": "hello", "n": [1, -2, 2**63], "nested": {"a": None, "b": True}},
            timestamp=datetime(2027, 1, 15, 8, 0, tzinfo=UTC),
        ),
        key,
        card.did,
    )
    invite = wp.mint_invite(
        key=key,
        card=card,
        relay_url="http://127.0.0.1:8771",
        slot_id="a" * 32,
        slot_token="b" * 64,
        nonce="c" * 64,
        exp=NOW + 3600,
    )
    a2a = wp.a2a_card_for_claim(
        nick="fuzzy",
        did=card.did,
        card=card.to_json(),
        slot_id="a" * 32,
        relay_url="https://relay.example",
        claimed_at="2027-01-15T08:00:00Z",
    )
    bootstrap = wp.build_bootstrap_payload(card, "http://127.0.0.1:8771", "a" * 32, "b" * 64)
    aead_key = bytes(32)
    sealed = wp.seal_bootstrap(aead_key, bootstrap, bytes(12))
    return {
        "key": key,
        "card": card,
        "trust": wp.CardTrust([card]),
        "event": event,
        "invite": invite,
        "a2a": a2a,
        "bootstrap": bootstrap,
        "aead_key": aead_key,
        "sealed": sealed,
    }


def seeds() -> list[bytes]:
    """Valid inputs for every target (selector byte first): where mutation starts from."""
    f = fixtures()
    dump = functools.partial(json.dumps, ensure_ascii=False)
    per_target: dict[int, list[str | bytes]] = {
        0: ['{"b":1,"a":[1,2.5,-0,1e300,18446744073709551616],"c":"\\u00e9\\ud83e\\udd8a"}', "[]", '"x"', "-1"],
        1: [dump(f["card"].to_json())],
        2: [dump(f["event"])],
        3: [f["invite"]],
        4: [dump(f["a2a"])],
        5: ["12-ABCDEF", "alice@wireup.net", "fuzzy_handle-1", base64.b64encode(bytes(32)).decode()],
        6: [f["bootstrap"], f["sealed"]],
    }
    out = []
    for selector, values in per_target.items():
        for value in values:
            data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
            out.append(bytes([selector]) + data)
    return out


# ------------------------------------------------------------------------------------------ targets


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


# Two escapes this target found are fixed in wire-protocol and pinned by regression tests in
# test_fuzz_protocol.py: ``loads`` on JSON nested ~1,000 deep (RecursionError → CanonicalizationError)
# and ``parse_timestamp`` on a well-formed but impossible date (ValueError → EventError).
KNOWN_LOADS = (wp.CanonicalizationError,)
KNOWN_TIMESTAMP = (wp.EventError,)


def _json(data: bytes) -> Any:
    """``loads`` or ``None`` when the payload is not JSON (a documented rejection)."""
    try:
        return wp.loads(data)
    except KNOWN_LOADS:
        return None


def t_canonical(data: bytes) -> bool:
    try:
        value = wp.loads(data)
    except KNOWN_LOADS:
        return False
    try:
        compact = wp.compact_json(value)
    except wp.CanonicalizationError:
        return False  # e.g. a lone surrogate: cannot be UTF-8
    again = wp.compact_json(wp.loads(compact))
    assert again == compact, f"compact_json not idempotent: {compact[:200]!r} -> {again[:200]!r}"
    wp.canonical_bytes(value, strict=True, allow_floats=True)
    with contextlib.suppress(wp.CanonicalizationError):
        wp.canonical_bytes(value, strict=False, allow_floats=False)
    return True


def t_card(data: bytes) -> bool:
    value = _json(data)
    with contextlib.suppress(wp.CardError):
        wp.verify_card(value, require_did_binding=False)
    try:
        card = wp.verify_card(value)
    except wp.CardError:
        return False
    again = wp.verify_card(wp.loads(wp.compact_json(card.to_json())))
    assert again.did == card.did
    assert again.public_key == card.public_key
    return True


def t_event(data: bytes) -> bool:
    value = _json(data)
    if isinstance(value, dict):
        wp.check_schema_version(value)
        with contextlib.suppress(wp.CanonicalizationError):
            wp.compute_event_id(value, allow_floats=True)
        with contextlib.suppress(KNOWN_TIMESTAMP):
            wp.parse_timestamp(value.get("timestamp"))
    try:
        wp.verify_event(value, fixtures()["trust"])
    except wp.VerificationError:
        return False
    return True


def t_invite(data: bytes) -> bool:
    try:
        wp.parse_invite(_text(data), now_unix=NOW)
    except wp.InviteError:  # includes InviteExpiredError
        return False
    return True


def t_a2a(data: bytes) -> bool:
    value = _json(data)
    try:
        wp.parse_a2a_card(value)
    except (wp.CardError, wp.HandleError):
        return False
    return True


def t_strings(data: bytes) -> bool:
    text = _text(data)
    accepted = 0
    try:
        wp.parse_code_phrase(text)
        accepted += 1
    except wp.PairingError:
        pass
    try:
        wp.parse_address(text)
        accepted += 1
    except wp.HandleError:
        pass
    try:
        wp.validate_handle(text)
        accepted += 1
    except wp.HandleError:
        pass
    try:
        wp.b64decode_exact(text, 32)
        accepted += 1
    except wp.KeyFormatError:
        pass
    assert len(wp.sanitize_display_text(text)) <= 64
    wp.character_from_did(text)
    wp.display_handle_from_did(text)
    wp.is_valid_nick(text)
    return accepted > 0


def t_bootstrap(data: bytes) -> bool:
    accepted = 0
    try:
        wp.parse_bootstrap_payload(data)
        accepted += 1
    except wp.PairingError:
        pass
    try:
        wp.open_bootstrap(fixtures()["aead_key"], _text(data))
        accepted += 1
    except wp.PairingError:
        pass
    return accepted > 0


TARGETS: list[Callable[[bytes], bool]] = [t_canonical, t_card, t_event, t_invite, t_a2a, t_strings, t_bootstrap]


def test_one_input(data: bytes) -> bool:
    """The fuzz entry point: True when the payload was accepted, False when rejected as documented."""
    if not data:
        return False
    return TARGETS[data[0] % len(TARGETS)](data[1:])


# ------------------------------------------------------------------------------------------ plain driver

_TOKENS = [
    b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"\\u0000", b"\\ud800", b"1e400", b"-0", b"0.1",
    b"18446744073709551616", b"-9223372036854775809", b"null", b"true", b"NaN", b"\x00", b"\xff", b"\xed\xa0\x80",
    b"=", b".", b"&inv=", b"%", b"@", b"-", b"did:wire:", b"\xf0\x9f\xa6\x8a", b"[" * 64, b"{\"a\":" * 64,
]  # fmt: skip
_VALUES: list[Any] = [None, True, False, 0, -1, 2**63, 2**64, -(2**63) - 1, 1.5, -0.0, 1e300, "", "x", "\ud800", [], {}]


def _mutate_json(value: Any, rng: random.Random) -> Any:
    """Replace, delete or add one node somewhere in a parsed JSON value."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(sorted(value))
        out = dict(value)
        roll = rng.random()
        if roll < 0.2:
            del out[key]
        elif roll < 0.3:
            out[key + rng.choice(["", "_", "\u0000", "é"])] = rng.choice(_VALUES)
        else:
            out[key] = _mutate_json(value[key], rng)
        return out
    if isinstance(value, list) and value and rng.random() < 0.7:
        out_list = list(value)
        index = rng.randrange(len(out_list))
        out_list[index] = _mutate_json(out_list[index], rng)
        return out_list
    if isinstance(value, str) and value and rng.random() < 0.5:
        chars = list(value)
        chars[rng.randrange(len(chars))] = chr(rng.choice([0, 0x7F, 0x202E, 0xD800, 0x1F98A, rng.randrange(32, 127)]))
        return "".join(chars)
    return rng.choice([*_VALUES, [value], {"x": value}])


def mutate(data: bytes, corpus: list[bytes], rng: random.Random) -> bytes:
    selector, payload = data[:1], data[1:]
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = None
    if parsed is not None and rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            parsed = _mutate_json(parsed, rng)
        try:
            return selector + json.dumps(parsed, ensure_ascii=rng.random() < 0.3).encode("utf-8", "surrogatepass")
        except ValueError:
            return selector + payload
    buf = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        pos = rng.randint(0, len(buf))
        if roll < 0.25 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif roll < 0.45:
            buf[pos:pos] = rng.choice(_TOKENS)
        elif roll < 0.6 and buf:
            del buf[pos : pos + rng.randint(1, 16)]
        elif roll < 0.75 and buf:
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start : start + rng.randint(1, 32)]
        elif roll < 0.85:
            other = rng.choice(corpus)[1:]
            cut = rng.randint(0, len(other))
            buf = buf[:pos] + bytearray(other[cut:])
        else:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    if rng.random() < 0.05:
        selector = bytes([rng.randrange(len(TARGETS))])
    return selector + bytes(buf)


def run_plain(*, seed: int, iterations: int | None = None, seconds: float | None = None) -> dict[str, int]:
    """Run the plain-Python driver; raises the first undocumented exception (with the input)."""
    rng = random.Random(seed)
    corpus = seeds()
    accepted: list[bytes] = list(corpus)
    stats = {"runs": 0, "accepted": 0}
    deadline = time.monotonic() + seconds if seconds is not None else None
    for data in corpus:
        assert test_one_input(data), f"seed not accepted by its target: {data[:80]!r}"
    while (iterations is None or stats["runs"] < iterations) and (deadline is None or time.monotonic() < deadline):
        parent = rng.choice(accepted if rng.random() < 0.8 else corpus)
        data = mutate(parent, corpus, rng)
        try:
            ok = test_one_input(data)
        except BaseException as exc:
            raise AssertionError(f"undocumented failure on input {data!r}: {type(exc).__name__}: {exc}") from exc
        stats["runs"] += 1
        if ok:
            stats["accepted"] += 1
            if len(accepted) < 5000:
                accepted.append(data)
    return stats


def write_corpus(directory: Path, data: Iterable[bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for index, item in enumerate(data):
        (directory / f"seed-{index:03d}").write_bytes(item)


def _atheris_entry(data: bytes) -> None:
    test_one_input(data)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plain", action="store_true", help="the plain-Python driver even if atheris is installed")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args, libfuzzer_args = parser.parse_known_args(argv[1:])
    try:
        import atheris  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        atheris = None
    if args.plain or atheris is None:
        if atheris is None and not args.plain:
            print("atheris is not installed: running the plain-Python driver", file=sys.stderr)
        seconds = args.seconds if args.seconds is not None or args.iterations is not None else 30.0
        stats = run_plain(seed=args.seed, iterations=args.iterations, seconds=seconds)
        print(f"plain driver: {stats['runs']} runs, {stats['accepted']} accepted, no undocumented failure")
        return 0
    corpus_dirs = [a for a in libfuzzer_args if not a.startswith("-")]
    flags = [a for a in libfuzzer_args if a.startswith("-")]
    if not corpus_dirs:
        corpus_dirs = [tempfile.mkdtemp(prefix="wire-fuzz-corpus-")]
    write_corpus(Path(corpus_dirs[0]), seeds())
    fixtures()  # build keys and signatures before fuzzing starts
    atheris.Setup([argv[0], *flags, *corpus_dirs], _atheris_entry)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
