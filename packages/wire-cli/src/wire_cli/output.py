# SPDX-License-Identifier: MIT
"""The only module that writes to the terminal.

Results go to stdout (JSON, or prose for people); warnings, notes and errors go to stderr so they
never corrupt JSON on stdout. Stdlib only at import time: ``wire whoami`` goes through here too.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Protocol

    class PersonaLike(Protocol):
        """What :meth:`Output.persona` needs from a ``wire_protocol.Character``."""

        @property
        def nickname(self) -> str: ...

        @property
        def emoji(self) -> str: ...

        def ascii_tag(self) -> str: ...

        @property
        def palette(self) -> Any: ...


__all__ = ["CliError", "Output", "clean", "clean_block"]

_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
_BOLD = "\x1b[1m"


class CliError(Exception):
    """A failure to report: ``message`` (the cause), ``hint`` (the next step), exit code 1 (2 = usage)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str = "error",
        exit_code: int = 1,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
        self.exit_code = exit_code
        self.data = data or {}


def clean(text: object, max_chars: int = 64) -> str:
    """Peer-supplied text made safe for a terminal (control/bidi characters dropped, length capped)."""
    from wire_protocol import sanitize_display_text

    return sanitize_display_text(str(text), max_chars)


def clean_block(text: str, max_chars: int = 4000) -> str:
    """Like :func:`clean` but keeps line breaks (each line is sanitized on its own)."""
    from wire_protocol import sanitize_display_text

    lines = text[:max_chars].splitlines() or [""]
    return "\n".join(sanitize_display_text(line, max_chars) for line in lines)


class Output:
    """How this process prints: JSON or prose, emoji or ASCII tags, colour or not."""

    __slots__ = ("color", "emoji", "json_mode", "stderr", "stdout")

    def __init__(self, *, json_mode: bool = False, emoji: bool = True, color: bool = False) -> None:
        self.json_mode = json_mode
        self.emoji = emoji
        self.color = color
        self.stdout: Any = sys.stdout
        self.stderr: Any = sys.stderr

    # --- stdout ----------------------------------------------------------------------------------

    def json(self, data: object, *, compact: bool = False) -> None:
        """One JSON document (pretty unless ``compact``; JSONL verbs pass ``compact=True``)."""
        text = (
            json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            if compact
            else json.dumps(data, ensure_ascii=False, indent=2)
        )
        self._write(self.stdout, text + "\n")

    def line(self, text: str = "") -> None:
        self._write(self.stdout, text + "\n")

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    def emit(self, data: object, human: Callable[[], None] | str) -> None:
        """``data`` as JSON in JSON mode, else the human rendering (a string or a callable that prints)."""
        if self.json_mode:
            self.json(data)
        elif isinstance(human, str):
            self.line(human)
        else:
            human()

    def flush(self) -> None:
        self.stdout.flush()

    # --- stderr ----------------------------------------------------------------------------------

    def warn(self, text: str) -> None:
        """A warning: stderr in both modes (it matters to agents too), never on stdout."""
        self._write(self.stderr, f"{self._paint('warning:', '33')} {text}\n")

    def note(self, text: str) -> None:
        """Human-mode chatter on stderr (progress, context); silent in JSON mode."""
        if not self.json_mode:
            self._write(self.stderr, text + "\n")

    def error(self, err: CliError) -> None:
        if self.json_mode:
            payload: dict[str, Any] = {"code": err.code, "message": err.message}
            if err.hint:
                payload["hint"] = err.hint
            payload.update(err.data)
            self._write(self.stderr, json.dumps({"error": payload}, ensure_ascii=False) + "\n")
            return
        text = f"{self._paint('error:', '31')} {err.message}\n"
        if err.hint:
            text += "".join(f"  → {hint_line}\n" for hint_line in err.hint.splitlines())
        self._write(self.stderr, text)

    # --- rendering helpers -----------------------------------------------------------------------

    def glyph(self, emoji: str, ascii_tag: str) -> str:
        """The emoji, or its ``[label]`` tag on terminals that cannot show emoji."""
        return clean(emoji, 16) if self.emoji else ascii_tag

    def persona(self, character: PersonaLike, *, force_color: bool = False) -> str:
        """``🦊 noble-creek`` (ASCII ``[fox] noble-creek``), in the agent's colour when colour is on."""
        text = f"{self.glyph(character.emoji, character.ascii_tag())} {clean(character.nickname)}"
        return self.paint256(text, int(character.palette.ansi256_primary), force=force_color)

    def paint256(self, text: str, colour: int, *, force: bool = False) -> str:
        return f"\x1b[38;5;{colour}m{text}{_RESET}" if (self.color or force) else text

    def dim(self, text: str, *, force: bool = False) -> str:
        return f"{_DIM}{text}{_RESET}" if (self.color or force) else text

    def bold(self, text: str) -> str:
        return f"{_BOLD}{text}{_RESET}" if self.color else text

    def _paint(self, text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}{_RESET}" if self.color else text

    def mark(self, ok: bool | None) -> str:
        """✓ / ✗ / ! (ASCII ``ok`` / ``FAIL`` / ``warn`` without emoji support)."""
        if ok is None:
            return self._paint("!" if self.emoji else "warn", "33")
        if ok:
            return self._paint("✓" if self.emoji else "ok", "32")
        return self._paint("✗" if self.emoji else "FAIL", "31")

    @staticmethod
    def _write(stream: Any, text: str) -> None:
        try:
            stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(text.encode(encoding, "replace").decode(encoding, "replace"))
