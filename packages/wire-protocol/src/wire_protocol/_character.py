# SPDX-License-Identifier: Apache-2.0
"""Agent characters: a deterministic nickname, emoji and colour palette derived from a DID.

Pure and sans-IO. The derivation is a cross-implementation contract: colours are computed in IEEE
float32 arithmetic (each step rounded to f32) so other implementations using ``f32`` get the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wire_protocol._words import ADJECTIVES, EMOJI, EMOJI_ASCII, NOUNS

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "UNKNOWN_CHARACTER",
    "Character",
    "Palette",
    "character_for",
    "character_from_did",
    "sanitize_display_text",
    "terminal_supports_emoji",
]

_ANSI_RESET = "\x1b[0m"
_EMOJI_OVERRIDE_MAX_CHARS = 16

# Characters that must never reach a terminal from peer-supplied text: C0 controls (ESC, BEL, NL, TAB...),
# DEL, C1 controls, bidi embedding/override/isolate controls, and the invisible bidi marks (LRM, RLM, ALM).
_UNSAFE_CODEPOINTS: frozenset[int] = frozenset(
    (*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)
)

_EMOJI_ON_VALUES = frozenset({"on", "1", "true", "yes"})
_EMOJI_TERMS = ("256color", "kitty", "alacritty")


@dataclass(frozen=True, slots=True, kw_only=True)
class Palette:
    """Primary and accent colours as ``#rrggbb`` hex and xterm-256 indices (16..231 when derived)."""

    primary_hex: str
    accent_hex: str
    ansi256_primary: int
    ansi256_accent: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Character:
    """How an agent is shown to people: nickname, one emoji, and a palette."""

    nickname: str
    emoji: str
    palette: Palette

    def short(self) -> str:
        """``"<emoji> <nickname>"``, e.g. ``"🦊 noble-creek"``."""
        return f"{self.emoji} {self.nickname}"

    def ascii_tag(self) -> str:
        """The emoji's ASCII label in brackets (``"[fox]"``), or ``"[*]"`` for an emoji without one."""
        label = EMOJI_ASCII.get(self.emoji)
        return f"[{label}]" if label is not None else "[*]"

    def short_ascii(self) -> str:
        """``"[fox] noble-creek"``: for terminals that cannot show emoji."""
        return f"{self.ascii_tag()} {self.nickname}"

    def colored(self, ascii: bool = False) -> str:
        """:meth:`short` (or :meth:`short_ascii`) wrapped in the primary xterm-256 foreground colour."""
        text = self.short_ascii() if ascii else self.short()
        return f"\x1b[38;5;{self.palette.ansi256_primary}m{text}{_ANSI_RESET}"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict: ``nickname``, ``emoji`` and ``palette``."""
        return {
            "nickname": self.nickname,
            "emoji": self.emoji,
            "palette": {
                "primary_hex": self.palette.primary_hex,
                "accent_hex": self.palette.accent_hex,
                "ansi256_primary": self.palette.ansi256_primary,
                "ansi256_accent": self.palette.ansi256_accent,
            },
        }


UNKNOWN_CHARACTER = Character(
    nickname="unknown-peer",
    emoji="\N{BLACK QUESTION MARK ORNAMENT}",
    palette=Palette(primary_hex="#808080", accent_hex="#a8a8a8", ansi256_primary=244, ansi256_accent=248),
)
"""Shown when there is no DID to derive a character from."""


# --- float32 emulation -------------------------------------------------------------------------------------

_F32 = struct.Struct("<f")


def _f32(x: float) -> float:
    """Round to the nearest IEEE float32. An f64 op on f32 operands then this rounding equals the f32 op."""
    value: float = _F32.unpack(_F32.pack(x))[0]
    return value


# Decimal constants as f32 literals (0.5, 0.25 and the integers are exact already).
_F32_0_55 = _f32(0.55)
_F32_0_15 = _f32(0.15)
_F32_0_65 = _f32(0.65)


def _add(a: float, b: float) -> float:
    return _f32(a + b)


def _sub(a: float, b: float) -> float:
    return _f32(a - b)


def _mul(a: float, b: float) -> float:
    return _f32(a * b)


def _div(a: float, b: float) -> float:
    return _f32(a / b)


def _round_half_away(x: float) -> int:
    """Rust ``f32::round``: nearest integer, halves away from zero (exact for f32 inputs)."""
    magnitude = abs(x)
    floor = math.floor(magnitude)
    result = floor + 1 if magnitude - floor >= 0.5 else floor
    return -result if x < 0 else result


def _channel(x: float) -> int:
    return min(255, max(0, _round_half_away(_mul(x, 255.0))))


def _hsl_to_rgb(hue: float, saturation: float, lightness: float) -> tuple[int, int, int]:
    """Standard sextant HSL to RGB in f32 arithmetic; ``hue`` in degrees [0, 360), ``s``/``l`` in [0, 1]."""
    one = 1.0
    chroma = _mul(_sub(one, abs(_sub(_mul(2.0, lightness), one))), saturation)
    h_prime = _div(hue, 60.0)
    x = _mul(chroma, _sub(one, abs(_sub(math.fmod(h_prime, 2.0), one))))
    m = _sub(lightness, _div(chroma, 2.0))
    sextant = min(5, max(0, math.floor(h_prime)))
    r1, g1, b1 = (
        (chroma, x, 0.0),
        (x, chroma, 0.0),
        (0.0, chroma, x),
        (0.0, x, chroma),
        (x, 0.0, chroma),
        (chroma, 0.0, x),
    )[sextant]
    return _channel(_add(r1, m)), _channel(_add(g1, m)), _channel(_add(b1, m))


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _ansi256(rgb: tuple[int, int, int]) -> int:
    """Nearest entry of the xterm 6x6x6 colour cube (16..231)."""
    r, g, b = ((c * 5 + 127) // 255 for c in rgb)
    return 16 + 36 * r + 6 * g + b


def _be32(data: bytes, start: int) -> int:
    return int.from_bytes(data[start : start + 4], "big")


# --- public API --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def character_from_did(did: str) -> Character:
    """Derive the character for ``did`` from ``sha256(did)``; the same DID always gives the same character.

    Any string is accepted (lone surrogates are encoded with ``surrogatepass`` rather than raising).
    """
    h = hashlib.sha256(did.encode("utf-8", "surrogatepass")).digest()
    adjective = ADJECTIVES[_be32(h, 0) % len(ADJECTIVES)]
    noun = NOUNS[_be32(h, 4) % len(NOUNS)]
    emoji = EMOJI[_be32(h, 8) % len(EMOJI)]

    hue = _div(float(_be32(h, 12) % 3600), 10.0)
    saturation = _add(_F32_0_55, _mul(_div(float(h[16]), 255.0), 0.25))
    lightness = _add(0.50, _mul(_div(float(h[17]), 255.0), _F32_0_15))
    accent_hue = math.fmod(_add(hue, 30.0), 360.0)
    accent_lightness = _add(_F32_0_65, _mul(_div(float(h[18]), 255.0), _F32_0_15))
    primary = _hsl_to_rgb(hue, saturation, lightness)
    accent = _hsl_to_rgb(accent_hue, saturation, accent_lightness)
    return Character(
        nickname=f"{adjective}-{noun}",
        emoji=emoji,
        palette=Palette(
            primary_hex=_hex(primary),
            accent_hex=_hex(accent),
            ansi256_primary=_ansi256(primary),
            ansi256_accent=_ansi256(accent),
        ),
    )


def character_for(
    did: str | None, *, nickname_override: str | None = None, emoji_override: str | None = None
) -> Character:
    """The character to show for ``did``, with optional peer- or user-chosen nickname/emoji.

    Overrides are sanitised first; one that is empty (or only whitespace) afterwards counts as unset. The
    palette always comes from the DID, so a peer cannot pick another agent's colours. No DID gives
    :data:`UNKNOWN_CHARACTER` (overrides are ignored then).
    """
    if not did:
        return UNKNOWN_CHARACTER
    base = character_from_did(did)
    nickname = _clean_override(nickname_override, 64)
    emoji = _clean_override(emoji_override, _EMOJI_OVERRIDE_MAX_CHARS)
    if nickname is None and emoji is None:
        return base
    return Character(
        nickname=nickname if nickname is not None else base.nickname,
        emoji=emoji if emoji is not None else base.emoji,
        palette=base.palette,
    )


def _clean_override(value: str | None, max_chars: int) -> str | None:
    if value is None:
        return None
    cleaned = sanitize_display_text(value, max_chars).strip()
    return cleaned or None


def sanitize_display_text(text: str, max_chars: int = 64) -> str:
    """Make peer-supplied text safe to print: drop control and bidi-control characters, cap the length.

    Removes C0 controls (including ESC, BEL, newline and tab), DEL, C1 controls (U+0080..U+009F), bidi
    embeddings/overrides/isolates (U+202A..U+202E, U+2066..U+2069) and bidi marks (U+200E, U+200F, U+061C),
    then keeps at most ``max_chars`` code points. This is the defence against ANSI/terminal injection.
    """
    if max_chars < 0:
        raise ValueError(f"max_chars must be >= 0, got {max_chars}")
    cleaned = "".join(ch for ch in text if ord(ch) not in _UNSAFE_CODEPOINTS)
    return cleaned[:max_chars]


def terminal_supports_emoji(env: Mapping[str, str], *, is_windows: bool) -> bool:
    """Whether to print emoji, judged from environment variables (pass ``os.environ``).

    ``WIRE_EMOJI`` decides when set (``on``/``1``/``true``/``yes`` enable, anything else disables); then a
    known terminal (``TERM_PROGRAM``, a 256-colour/kitty/alacritty ``TERM``) or a UTF-8 locale enables;
    then Windows consoles, ``TERM=dumb`` and the ``C``/``POSIX`` locale disable; otherwise enabled.
    Empty variables count as unset.
    """
    override = env.get("WIRE_EMOJI", "").strip()
    if override:
        return override.lower() in _EMOJI_ON_VALUES
    if env.get("TERM_PROGRAM"):
        return True
    term = env.get("TERM", "")
    if any(marker in term.lower() for marker in _EMOJI_TERMS):
        return True
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name, "").lower()
        if "utf-8" in value or "utf8" in value:
            return True
    if is_windows:
        return False
    if term == "dumb":
        return False
    return not any(env.get(name) in {"C", "POSIX"} for name in ("LANG", "LC_ALL"))
