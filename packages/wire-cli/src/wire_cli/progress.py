# SPDX-License-Identifier: MIT
"""Progress for waits: any wait that lasts over a second says what it waits for, on stderr.

On a terminal a one-line spinner with the elapsed time (redrawn in place, cleared at the end); piped, a
plain line now and then. JSON mode stays quiet: stdout and stderr remain machine-readable."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from wire_cli.context import Ctx

__all__ = ["with_progress"]

T = TypeVar("T")

_QUIET_FOR = 1.0
_PLAIN_EVERY = 10.0


async def with_progress(ctx: Ctx, label: str, work: Awaitable[T], *, limit: float) -> T:
    """Await ``work``; after a second, show ``label`` with the elapsed time (of at most ``limit`` s)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    started = loop.time()
    done, _ = await asyncio.wait({task}, timeout=_QUIET_FOR)
    if done or ctx.json:
        return await task

    def elapsed() -> str:
        return f"{loop.time() - started:.0f} s of up to {limit:.0f} s"

    if _is_terminal(ctx):
        stream = ctx.out.stderr
        frames = "|/-\\"
        tick = 0
        while not task.done():
            stream.write(f"\r{frames[tick % len(frames)]} {label} — {elapsed()}  ")
            stream.flush()
            tick += 1
            await asyncio.wait({task}, timeout=0.25)
        stream.write("\r\x1b[2K")  # clear the progress line before the result is printed
        stream.flush()
        return await task
    ctx.out.note(f"{label} (up to {limit:.0f} s; Ctrl-C stops waiting)…")
    while not task.done():
        await asyncio.wait({task}, timeout=_PLAIN_EVERY)
        if not task.done():
            ctx.out.note(f"  still {label} — {elapsed()}")
    return await task


def _is_terminal(ctx: Ctx) -> bool:
    isatty = getattr(ctx.out.stderr, "isatty", None)
    return bool(isatty and isatty())
