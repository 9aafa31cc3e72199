# SPDX-License-Identifier: MIT
"""Server-sent events from raw bytes, as they come off the socket (no per-line awaits).

Only ``id:`` and ``data:`` fields matter to us; comments (``:`` keep-alives) and other fields are
skipped. A message (its data lines) and an unterminated line are both bounded by ``limit`` bytes:
a relay that streams more is refused, never buffered without end.
"""

from __future__ import annotations

__all__ = ["SseMessage", "SseParser", "SseTooLargeError"]

SseMessage = tuple[str | None, str]  # (the id: field or None, the data: lines joined by "\n")


class SseTooLargeError(ValueError):
    """A stream message or line is over the parser's limit."""


class SseParser:
    """Feed it chunks; it returns the messages those chunks completed."""

    __slots__ = ("_data", "_event_id", "_limit", "_partial", "_partial_size", "_size")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._partial: list[bytes] = []  # pieces of a line not yet ended (joined once, when it ends)
        self._partial_size = 0
        self._event_id: str | None = None
        self._data: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[SseMessage]:
        if b"\n" not in chunk:
            self._keep(chunk)
            return []
        if self._partial:
            chunk = b"".join([*self._partial, chunk])
            self._partial, self._partial_size = [], 0
        lines = chunk.split(b"\n")
        self._keep(lines.pop())  # the unterminated rest (b"" when the chunk ended a line)
        done: list[SseMessage] = []
        for raw in lines:
            line = raw[:-1] if raw.endswith(b"\r") else raw
            if not line:
                if self._data:
                    done.append((self._event_id, b"\n".join(self._data).decode("utf-8", "replace")))
                self._event_id, self._data, self._size = None, [], 0
            elif line.startswith(b"data:"):
                value = line[6:] if line.startswith(b"data: ") else line[5:]
                self._size += len(value)
                if self._size > self._limit:
                    raise SseTooLargeError(f"a stream message is over {self._limit} bytes")
                self._data.append(value)
            elif line.startswith(b"id:") or line == b"id":
                value = line[4:] if line.startswith(b"id: ") else line[3:]
                self._event_id = value.decode("utf-8", "replace") or None
            elif line == b"data":
                self._data.append(b"")
        return done

    def _keep(self, piece: bytes) -> None:
        if piece:
            self._partial.append(piece)
            self._partial_size += len(piece)
            if self._partial_size > self._limit:
                raise SseTooLargeError(f"a stream line is over {self._limit} bytes")
