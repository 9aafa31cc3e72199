# SPDX-License-Identifier: MIT
"""``wire whoami``: the statusline hot path (run every few hundred ms by shells and editors).

It needs only the signed card and the local display override, so it reads those files directly
and keeps what it derived from them (character, palette, the emoji decision per environment) in
``state/wire/whoami-cache.json``, keyed on the files' size and mtime. A cache hit imports nothing
beyond the standard library; a miss imports wire-protocol, never wire-client or aiohttp.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING

from wire_cli._env import color_wanted, emoji_env, home_dirs, json_wanted
from wire_cli.output import CliError, Output

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["run"]

_CACHE_VERSION = 1
_EMOJI_ENV = ("WIRE_EMOJI", "TERM_PROGRAM", "TERM", "LC_ALL", "LC_CTYPE", "LANG")
_MAX_EMOJI_DECISIONS = 32


def _stat_key(path: str) -> list[int]:
    try:
        st = os.stat(path)
    except OSError:
        return [-1, -1]
    return [st.st_mtime_ns, st.st_size]


def _read_json(path: str) -> Any:
    """The parsed file, or ``None`` when it is missing or not JSON."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _derive(config_dir: str) -> dict[str, Any]:
    """Everything whoami shows, from ``agent-card.json`` and ``display.json`` (imports wire-protocol)."""
    from wire_protocol import CardError, b64encode, character_for, verify_card

    card_path = os.path.join(config_dir, "agent-card.json")
    try:
        card = verify_card(_read_json(card_path))
    except CardError as exc:
        raise CliError(
            f"{card_path} is unreadable or does not verify ({exc})",
            hint="`wire doctor` checks the identity files",
            code="home_error",
        ) from None
    loaded = _read_json(os.path.join(config_dir, "display.json"))
    display: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    nickname = display.get("nickname") if isinstance(display.get("nickname"), str) else None
    emoji = display.get("emoji") if isinstance(display.get("emoji"), str) else None
    character = character_for(card.did, nickname_override=nickname or None, emoji_override=emoji or None)
    return {
        "data": {
            "did": card.did,
            "handle": card.handle,
            "fingerprint": card.fingerprint,
            "key_id": card.key_id,
            "public_key_b64": b64encode(card.public_key),
            "capabilities": card.capabilities,
            "config_dir": str(config_dir),
            "character": character.to_json(),
            "character_override": bool(nickname or emoji),
        },
        "ascii_tag": character.ascii_tag(),
    }


def _emoji_decision(env: Mapping[str, str], cache: dict[str, Any]) -> tuple[bool, bool]:
    """(supports emoji, cache changed): ``wire_protocol.terminal_supports_emoji``, memoised per environment."""
    env = emoji_env(env)
    key = "\x1f".join([sys.platform, *(env.get(name, "") for name in _EMOJI_ENV)])
    decisions = cache.setdefault("emoji", {})
    if isinstance(decisions, dict) and isinstance(decisions.get(key), bool):
        return bool(decisions[key]), False
    from wire_protocol import terminal_supports_emoji

    value = terminal_supports_emoji(env, is_windows=sys.platform == "win32")
    if not isinstance(decisions, dict) or len(decisions) >= _MAX_EMOJI_DECISIONS:
        decisions = cache["emoji"] = {}
    decisions[key] = value
    return value, True


def _load(config_dir: str, state_dir: str) -> tuple[dict[str, Any], str, bool]:
    """The cache entry for this home (fresh or re-derived); third item: whether it must be saved."""
    card = os.path.join(config_dir, "agent-card.json")
    if not os.path.isfile(os.path.join(config_dir, "private.key")) or not os.path.isfile(card):
        raise CliError(
            f"not initialized — no wire identity in {config_dir}",
            hint="run `wire init <handle> --relay <url>` (or `wire init <handle> --offline`)",
            code="not_initialized",
        )
    cache_path = os.path.join(state_dir, "whoami-cache.json")
    key = [_CACHE_VERSION, config_dir, *_stat_key(card), *_stat_key(os.path.join(config_dir, "display.json"))]
    loaded = _read_json(cache_path)
    cache: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    if cache.get("key") == key and isinstance(cache.get("data"), dict):
        return cache, cache_path, False
    derived = _derive(config_dir)
    return {"key": key, **derived, "emoji": cache.get("emoji", {})}, cache_path, True


def _save(path: str, cache: dict[str, Any]) -> None:
    """Best effort, atomic (temp + rename): a read-only state dir only costs speed."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(cache, handle, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _tilde(path: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "~", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


def run(json_flag: bool = False, short: bool = False, colored: bool = False) -> int:
    """Print who this home is; returns the exit code."""
    env = os.environ
    # --short/--colored are statusline formats: they win over JSON-when-piped (statuslines pipe stdout)
    out = Output(json_mode=json_flag or (not (short or colored) and json_wanted(False, env)), color=color_wanted(env))
    if json_flag and (short or colored):
        out.error(CliError("--json, --short and --colored are mutually exclusive", code="usage", exit_code=2))
        return 2
    if short and colored:
        out.error(CliError("--short and --colored are mutually exclusive", code="usage", exit_code=2))
        return 2
    config_dir, state_dir, _ = home_dirs(env)
    try:
        cache, cache_path, dirty = _load(config_dir, state_dir)
    except CliError as err:
        out.error(err)
        return err.exit_code
    data: dict[str, Any] = cache["data"]
    if out.json_mode:
        if dirty:
            _save(cache_path, cache)
        out.json(data)
        return 0
    out.emoji, changed = _emoji_decision(env, cache)
    if dirty or changed:
        _save(cache_path, cache)
    character = data["character"]
    glyph = character["emoji"] if out.emoji else cache.get("ascii_tag", "[*]")
    persona = f"{glyph} {character['nickname']}"
    colour = int(character["palette"]["ansi256_primary"])
    if short or colored:
        cwd = _tilde(os.getcwd()) if os.path.isdir(".") else "?"
        if colored:
            out.line(f"{out.paint256(persona, colour, force=True)} {out.dim('·', force=True)} {cwd}")
        else:
            out.line(f"{persona} · {cwd}")
        return 0
    out.line(f"{out.paint256(persona, colour)}  ({data['handle']})")
    out.line(f"{data['did']}  (ed25519:{data['key_id']})")
    out.line(f"fingerprint {data['fingerprint']} · capabilities {', '.join(data['capabilities']) or '-'}")
    out.line(out.dim(f"home {data['config_dir']}"))
    return 0
