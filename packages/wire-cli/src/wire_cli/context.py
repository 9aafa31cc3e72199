# SPDX-License-Identifier: MIT
"""What every verb works with: the output policy, the home, an event loop, and error handling.

Stdlib only at import time. wire-client is imported by the verbs that need it, never here, so
``wire --help`` stays cheap.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Coroutine, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from wire_cli._env import color_wanted, emoji_env, json_wanted
from wire_cli.output import CliError, Output

if TYPE_CHECKING:
    from wire_client import Endpoint, Identity, Refusal, WireAgent, WireHome
    from wire_protocol import AgentCard

__all__ = ["Ctx", "LocalHome", "cli"]

T = TypeVar("T")


class LocalHome:
    """One home's identity and files, for verbs that answer from the disk alone.

    The same attribute names as :class:`wire_client.WireAgent` (``home``, ``identity``, ``trust``,
    ``relay_state``, ``inbox``, ``did``, ``handle``, ``card``, ``endpoints()``) plus ``outbox`` (the agent's
    ``sender.outbox``), without importing wire-client's relay, messaging or pairing layers (or asyncio).
    """

    def __init__(self, home: WireHome, identity: Identity) -> None:
        from wire_client import EventLog, OutboxStore, RelayStateStore, TrustStore

        self.home = home
        self.identity = identity
        self.trust = TrustStore(home)
        self.relay_state = RelayStateStore(home)
        self.inbox = EventLog(home.inbox_dir)
        self.outbox = OutboxStore(home)

    @property
    def did(self) -> str:
        return self.identity.did

    @property
    def handle(self) -> str:
        return self.identity.handle

    @property
    def card(self) -> AgentCard:
        return self.identity.card

    def endpoints(self) -> list[Endpoint]:
        return self.relay_state.self_endpoints()

    def refusal(self, handle: str) -> Refusal | None:
        """As ``WireAgent.refusal``: set while ``handle`` declined our pair request and gave us no slot."""
        from wire_client import refusal_in_force

        return refusal_in_force(self.home, handle, self.relay_state.peer_endpoints(handle))


class Ctx:
    """What a verb works with: the output policy, the home, and an event loop runner."""

    def __init__(self, json_flag: bool = False, *, env: Mapping[str, str] | None = None) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.out = Output(json_mode=json_wanted(json_flag, self.env), color=color_wanted(self.env))
        self._emoji: bool | None = None

    @property
    def json(self) -> bool:
        return self.out.json_mode

    def enable_emoji_detection(self) -> None:
        """Decide emoji vs ASCII tags (``wire_protocol.terminal_supports_emoji``; imports wire_protocol)."""
        from wire_protocol import terminal_supports_emoji

        self.out.emoji = terminal_supports_emoji(emoji_env(self.env), is_windows=sys.platform == "win32")

    def home(self) -> WireHome:
        from wire_client import WireHome

        return WireHome.from_env(self.env)

    def require_home(self) -> WireHome:
        home = self.home()
        if not home.is_initialized:
            raise CliError(
                f"no wire identity in {home.config_dir}",
                hint="run `wire init <handle> --relay <url>` (or `wire init <handle> --offline` for keys only)",
                code="not_initialized",
            )
        return home

    def agent(self, *, oneshot: bool = False) -> WireAgent:
        """The identity of this home; network verbs close it with ``async with agent:`` in their loop.

        ``oneshot=True`` for a verb that makes a few requests and exits (``send``): relay requests go
        through wire-client's stdlib transport instead of importing aiohttp (the send wall budget).
        """
        from wire_client import Identity, WireAgent

        home = self.require_home()
        return WireAgent(home, Identity.load(home), transport="oneshot" if oneshot else "aiohttp")

    def local(self) -> LocalHome:
        """The identity of this home and its files, for a verb that answers from the disk alone."""
        from wire_client import Identity

        home = self.require_home()
        return LocalHome(home, Identity.load(home))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        import asyncio

        return asyncio.run(coro)


@contextlib.contextmanager
def cli(json_flag: bool = False, *, emoji: bool = True) -> Iterator[Ctx]:
    """Run one verb: build its :class:`Ctx`, turn failures into a message on stderr and an exit code.

    Exits with ``SystemExit`` (not typer's ``Exit``) so the typer-free fast paths can use it too.
    """
    ctx = Ctx(json_flag)
    if emoji:
        ctx.enable_emoji_detection()
    try:
        yield ctx
    except CliError as err:
        ctx.out.flush()
        ctx.out.error(err)
        raise SystemExit(err.exit_code) from None
    except KeyboardInterrupt:
        ctx.out.flush()
        raise SystemExit(130) from None
    except Exception as exc:  # every library error becomes a message, never a traceback
        from wire_cli.errors import translate

        translated = translate(exc)
        if translated is None:
            raise
        ctx.out.flush()
        ctx.out.error(translated)
        raise SystemExit(translated.exit_code) from None
