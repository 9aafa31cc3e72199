# SPDX-License-Identifier: MIT
"""The byte-level SSE parser the receiver streams through: fields, chunk boundaries, bounds."""

from __future__ import annotations

import pytest

from wire_client._relay.sse import SseParser, SseTooLargeError

STREAM = b': keep-alive\n\nid: 1\ndata: {"a":1}\n\nid:2\ndata:{"b":\ndata: 2}\r\n\r\nevent: x\ndata: {}\n\n'
EXPECTED = [("1", '{"a":1}'), ("2", '{"b":\n2}'), (None, "{}")]


def test_fields_comments_and_line_endings() -> None:
    assert SseParser(1024).feed(STREAM) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_any_chunking_gives_the_same_messages(size: int) -> None:
    parser = SseParser(1024)
    got = [m for i in range(0, len(STREAM), size) for m in parser.feed(STREAM[i : i + size])]
    assert got == EXPECTED


def test_a_message_over_the_limit_is_refused() -> None:
    parser = SseParser(100)
    with pytest.raises(SseTooLargeError):
        parser.feed(b"data: " + b"x" * 60 + b"\ndata: " + b"y" * 60 + b"\n")


def test_an_endless_line_is_refused_even_in_tiny_chunks() -> None:
    parser = SseParser(1000)
    for _ in range(1000):
        assert parser.feed(b"d") == []
    with pytest.raises(SseTooLargeError):
        parser.feed(b"d")


def test_an_incomplete_message_is_not_delivered() -> None:
    assert SseParser(1024).feed(b"id: 9\ndata: {}\n") == []
