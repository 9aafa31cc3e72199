# SPDX-License-Identifier: Apache-2.0
"""Agent characters: deterministic nickname/emoji/palette from a DID, sanitising, emoji detection."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire_protocol._character import (
    UNKNOWN_CHARACTER,
    Character,
    Palette,
    _round_half_away,
    character_for,
    character_from_did,
    sanitize_display_text,
    terminal_supports_emoji,
)
from wire_protocol._words import ADJECTIVES, EMOJI, EMOJI_ASCII, NOUNS

PAUL = "did:wire:paul-34750f98"
NICKNAME_RE = re.compile(r"^[a-z]+-[a-z]+$")
HEX_RE = re.compile(r"^#[0-9a-f]{6}$")
WORD_RE = re.compile(r"^[a-z]{3,9}$")


def assert_valid(character: Character) -> None:
    assert NICKNAME_RE.fullmatch(character.nickname)
    adjective, noun = character.nickname.split("-")
    assert adjective in ADJECTIVES
    assert noun in NOUNS
    assert character.emoji in EMOJI
    palette = character.palette
    assert HEX_RE.fullmatch(palette.primary_hex)
    assert HEX_RE.fullmatch(palette.accent_hex)
    assert 16 <= palette.ansi256_primary <= 231
    assert 16 <= palette.ansi256_accent <= 231


# --- known answer -------------------------------------------------------------------------------------------


def test_known_answer_is_pinned() -> None:
    # Changing this means every agent's character changes: only do so deliberately (word lists, maths).
    assert character_from_did(PAUL) == Character(
        nickname="pale-sleet",
        emoji="\U0001f996",  # T-rex
        palette=Palette(primary_hex="#273ce4", accent_hex="#9d6bec", ansi256_primary=62, ansi256_accent=141),
    )


def test_known_answer_renderings() -> None:
    character = character_from_did(PAUL)
    assert character.short() == "\U0001f996 pale-sleet"
    assert character.ascii_tag() == "[trex]"
    assert character.short_ascii() == "[trex] pale-sleet"
    assert character.colored() == "\x1b[38;5;62m\U0001f996 pale-sleet\x1b[0m"
    assert character.colored(ascii=True) == "\x1b[38;5;62m[trex] pale-sleet\x1b[0m"
    assert character.to_json() == {
        "nickname": "pale-sleet",
        "emoji": "\U0001f996",
        "palette": {"primary_hex": "#273ce4", "accent_hex": "#9d6bec", "ansi256_primary": 62, "ansi256_accent": 141},
    }


def test_deterministic_and_distinct() -> None:
    assert character_from_did(PAUL) == character_from_did(PAUL)
    assert character_from_did.__wrapped__(PAUL) == character_from_did(PAUL)  # the cache changes nothing
    others = {character_from_did(f"did:wire:agent{i}-{i:08x}").nickname for i in range(200)}
    assert len(others) > 150


# --- word lists ---------------------------------------------------------------------------------------------


def test_list_sizes() -> None:
    assert len(ADJECTIVES) >= 200
    assert len(NOUNS) >= 200
    assert len(EMOJI) >= 128


@pytest.mark.parametrize("words", [ADJECTIVES, NOUNS], ids=["adjectives", "nouns"])
def test_words_are_unique_lowercase_ascii(words: tuple[str, ...]) -> None:
    assert len(set(words)) == len(words)
    assert [w for w in words if not WORD_RE.fullmatch(w)] == []


def test_adjectives_and_nouns_do_not_overlap() -> None:
    assert set(ADJECTIVES).isdisjoint(NOUNS)


def test_emoji_are_single_codepoints_with_unique_labels() -> None:
    assert len(set(EMOJI)) == len(EMOJI)
    for emoji in EMOJI:
        assert len(emoji) == 1, f"{emoji!r} is {len(emoji)} code points"
        assert ord(emoji) not in {0xFE0E, 0xFE0F, 0x200D}
        assert unicodedata.category(emoji) == "So", emoji
    assert set(EMOJI_ASCII) == set(EMOJI)
    labels = list(EMOJI_ASCII.values())
    assert len(set(labels)) == len(labels)
    assert [label for label in labels if not re.fullmatch(r"[a-z]{2,12}", label)] == []


# --- derivation ---------------------------------------------------------------------------------------------


@given(st.text())
def test_any_did_gives_valid_character(did: str) -> None:
    assert_valid(character_from_did(did))


def test_lone_surrogate_does_not_raise() -> None:
    assert_valid(character_from_did("did:wire:\ud800"))


def test_round_half_away_from_zero() -> None:
    assert [_round_half_away(x) for x in (0.0, 0.49999997, 0.5, 1.5, 2.5, 254.5, -0.5, -1.5)] == [
        0,
        0,
        1,
        2,
        3,
        255,
        -1,
        -2,
    ]


# --- character_for ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("did", ["", None])
def test_unknown_for_missing_did(did: str | None) -> None:
    assert character_for(did) is UNKNOWN_CHARACTER
    assert character_for(did, nickname_override="x", emoji_override="\U0001f98a") is UNKNOWN_CHARACTER


def test_unknown_sentinel() -> None:
    assert UNKNOWN_CHARACTER.nickname == "unknown-peer"
    assert UNKNOWN_CHARACTER.emoji == "\u2753"
    assert UNKNOWN_CHARACTER.palette == Palette(
        primary_hex="#808080", accent_hex="#a8a8a8", ansi256_primary=244, ansi256_accent=248
    )
    assert UNKNOWN_CHARACTER.ascii_tag() == "[*]"
    assert UNKNOWN_CHARACTER.short_ascii() == "[*] unknown-peer"


def test_no_overrides_is_derived() -> None:
    assert character_for(PAUL) == character_from_did(PAUL)


def test_overrides_replace_text_but_keep_palette() -> None:
    derived = character_from_did(PAUL)
    custom = character_for(PAUL, nickname_override="Paul's bot", emoji_override="\U0001f98a")
    assert custom.nickname == "Paul's bot"
    assert custom.emoji == "\U0001f98a"
    assert custom.ascii_tag() == "[fox]"
    assert custom.palette == derived.palette

    only_emoji = character_for(PAUL, emoji_override="\U0001f98a")
    assert only_emoji.nickname == derived.nickname
    assert only_emoji.palette == derived.palette


def test_overrides_are_sanitised_and_empty_means_unset() -> None:
    derived = character_from_did(PAUL)
    evil = character_for(PAUL, nickname_override="\x1b[31mred\x1b[0m\n", emoji_override="\u202e\U0001f600")
    assert evil.nickname == "[31mred[0m"
    assert "\x1b" not in evil.short()
    assert evil.colored().count("\x1b") == 2  # only our own colour and reset codes
    assert evil.emoji == "\U0001f600"
    assert evil.ascii_tag() == "[*]"
    blank = character_for(PAUL, nickname_override="\x1b\x07\t ", emoji_override="")
    assert blank == derived


def test_long_override_is_capped() -> None:
    assert len(character_for(PAUL, nickname_override="a" * 500).nickname) == 64


def test_character_is_frozen() -> None:
    character = character_from_did(PAUL)
    with pytest.raises(AttributeError):
        character.nickname = "other"  # type: ignore[misc]


# --- sanitize_display_text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain text", "plain text"),
        ("a\x1b[2Jb", "a[2Jb"),  # ESC
        ("ring\x07", "ring"),  # BEL
        ("two\nlines\r", "twolines"),
        ("tab\there", "tabhere"),
        ("del\x7f", "del"),
        ("c1\x9b31m\x85", "c131m"),  # CSI and NEL as C1 controls
        ("\u202eevil\u202c", "evil"),  # RLO ... PDF
        ("\u2066iso\u2069\u2067\u2068", "iso"),  # isolates
        ("\u202a\u202b\u202d", ""),
        ("mark\u200e\u200f\u061c", "mark"),
        ("caf\u00e9 \U0001f98a \u4e16\u754c", "caf\u00e9 \U0001f98a \u4e16\u754c"),  # ordinary text survives
    ],
)
def test_sanitize_strips_controls(raw: str, clean: str) -> None:
    assert sanitize_display_text(raw) == clean


def test_sanitize_caps_codepoints() -> None:
    assert sanitize_display_text("x" * 100) == "x" * 64
    assert sanitize_display_text("\U0001f98a" * 10, max_chars=3) == "\U0001f98a" * 3
    assert sanitize_display_text("\x1b" * 10 + "abc", max_chars=2) == "ab"  # cap applies after stripping
    assert sanitize_display_text("abc", max_chars=0) == ""
    with pytest.raises(ValueError, match="max_chars"):
        sanitize_display_text("abc", max_chars=-1)


@given(st.text(), st.integers(min_value=0, max_value=80))
def test_sanitize_property(text: str, max_chars: int) -> None:
    clean = sanitize_display_text(text, max_chars)
    assert len(clean) <= max_chars
    for ch in clean:
        code = ord(ch)
        assert code >= 0x20
        assert not 0x7F <= code <= 0x9F
        assert not 0x202A <= code <= 0x202E
        assert not 0x2066 <= code <= 0x2069
    assert sanitize_display_text(clean, max_chars) == clean


# --- terminal_supports_emoji --------------------------------------------------------------------------------

UTF8 = "en_US.UTF-8"


@pytest.mark.parametrize(
    ("env", "is_windows", "expected"),
    [
        ({"WIRE_EMOJI": "on"}, False, True),
        ({"WIRE_EMOJI": "YES", "TERM": "dumb", "LANG": "C"}, True, True),
        ({"WIRE_EMOJI": "1"}, True, True),
        ({"WIRE_EMOJI": "True"}, False, True),
        ({"WIRE_EMOJI": "off", "LANG": UTF8, "TERM_PROGRAM": "iTerm.app"}, False, False),
        ({"WIRE_EMOJI": "0", "TERM": "xterm-256color"}, False, False),
        ({"WIRE_EMOJI": "nonsense", "LC_ALL": UTF8}, False, False),
        ({"WIRE_EMOJI": "", "LANG": "C"}, False, False),  # empty counts as unset
        ({"TERM_PROGRAM": "vscode", "LANG": "C"}, True, True),
        ({"TERM": "xterm-256color"}, True, True),
        ({"TERM": "xterm-kitty"}, False, True),
        ({"TERM": "alacritty", "LANG": "POSIX"}, False, True),
        ({"LANG": UTF8, "TERM": "dumb"}, True, True),
        ({"LC_CTYPE": "C.utf8"}, True, True),
        ({"LC_ALL": "de_DE.utf-8"}, False, True),
        ({}, True, False),
        ({"TERM": "xterm"}, True, False),
        ({"TERM": "dumb"}, False, False),
        ({"TERM": "xterm", "LANG": "C"}, False, False),
        ({"TERM": "xterm", "LC_ALL": "POSIX"}, False, False),
        ({"TERM": "xterm", "LANG": "en_US.ISO-8859-1"}, False, True),
        ({}, False, True),
    ],
)
def test_terminal_supports_emoji(env: dict[str, str], is_windows: bool, expected: bool) -> None:
    assert terminal_supports_emoji(env, is_windows=is_windows) is expected
