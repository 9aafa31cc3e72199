# SPDX-License-Identifier: Apache-2.0
"""DIDs, local handles, directory nicks and ``nick@domain`` addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from wire_protocol._keys import fingerprint
from wire_protocol.errors import HandleError

__all__ = [
    "DID_PREFIX",
    "RESERVED_NICKS",
    "WireAddress",
    "bare_handle",
    "did_for",
    "did_matches_key",
    "display_handle_from_did",
    "is_valid_domain",
    "is_valid_nick",
    "nick_syntax_ok",
    "parse_address",
    "relay_url_for_domain",
    "validate_handle",
]

DID_PREFIX = "did:wire:"

RESERVED_NICKS = frozenset(
    """abuse admin agent all anthropic api bar baz bot claude contact copilot cursor daemon demo everyone
    example foo gemini help here hostmaster info kernel me mistral mod moderator none noreply null official
    openai ops owner postmaster robot root security self server service slancha staff support sys system
    team test webmaster wire you""".split()
)

_HANDLE_RE = re.compile(r"[A-Za-z0-9_-]+")
_NICK_RE = re.compile(r"[a-z0-9_-]{2,32}")
_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_HEX8_RE = re.compile(r"[0-9a-fA-F]{8}")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def validate_handle(handle: object) -> str:
    """Check a local identity handle (``wire init <handle>``): 1–64 of ``[A-Za-z0-9_-]``."""
    if not isinstance(handle, str) or not _HANDLE_RE.fullmatch(handle) or len(handle) > 64:
        raise HandleError(
            f"handle {handle!r} must be 1-64 characters of letters, digits, '_' or '-' "
            "(lowercase is recommended so it can also be claimed as a nick)"
        )
    return handle


def did_for(handle: str, public_key: bytes) -> str:
    """The suffixed DID ``did:wire:<handle>-<fingerprint>`` every identity publishes."""
    return f"{DID_PREFIX}{handle}-{fingerprint(public_key)}"


def display_handle_from_did(did: str) -> str:
    """The local handle of a DID: prefix and an 8-hex key suffix removed.

    This is the key of trust records, peer state and inbox/outbox file names.
    """
    rest = did.removeprefix(DID_PREFIX)
    head, sep, tail = rest.rpartition("-")
    if sep and _HEX8_RE.fullmatch(tail):
        return head
    return rest


def did_matches_key(did: str, public_key: bytes) -> bool:
    """True when the DID's 8-hex suffix is the fingerprint of ``public_key``."""
    rest = did.removeprefix(DID_PREFIX)
    if not did.startswith(DID_PREFIX):
        return False
    head, sep, tail = rest.rpartition("-")
    return bool(sep and head and _HEX8_RE.fullmatch(tail) and tail.lower() == fingerprint(public_key))


def bare_handle(name: str) -> str:
    """The part before the first ``@`` (``nick@domain`` → ``nick``)."""
    return name.split("@", 1)[0]


def nick_syntax_ok(nick: str) -> bool:
    """2–32 characters of ``[a-z0-9_-]``."""
    return bool(_NICK_RE.fullmatch(nick))


def is_valid_nick(nick: str) -> bool:
    """A nick that may be claimed in a relay's directory: valid syntax and not reserved."""
    return nick_syntax_ok(nick) and nick not in RESERVED_NICKS


def _split_port(domain: str) -> tuple[str, int | None] | None:
    host, sep, port = domain.rpartition(":")
    if not sep:
        return domain, None
    if not port.isdigit() or not port.isascii() or len(port) > 5 or not 0 < int(port) <= 65535:
        return None
    return host, int(port)


def is_valid_domain(domain: str) -> bool:
    """A DNS name of lowercase labels, or a loopback authority ``127.0.0.1:PORT`` / ``localhost:PORT``."""
    split = _split_port(domain)
    if split is None:
        return False
    host, port = split
    if port is not None:
        return host in _LOOPBACK_HOSTS
    if not 1 <= len(host) <= 253:
        return False
    return all(_LABEL_RE.fullmatch(label) for label in host.split("."))


def _is_loopback(domain: str) -> bool:
    split = _split_port(domain)
    return split is not None and split[0] in _LOOPBACK_HOSTS


@dataclass(frozen=True, slots=True)
class WireAddress:
    """A parsed ``nick@domain`` address."""

    nick: str
    domain: str

    @property
    def is_loopback(self) -> bool:
        return _is_loopback(self.domain)

    @property
    def relay_url(self) -> str:
        """Where the domain's directory lives: ``http://`` for loopback, ``https://`` otherwise."""
        return relay_url_for_domain(self.domain)

    def __str__(self) -> str:
        return f"{self.nick}@{self.domain}"


def relay_url_for_domain(domain: str) -> str:
    scheme = "http" if _is_loopback(domain) else "https"
    return f"{scheme}://{domain}"


def parse_address(text: str) -> WireAddress:
    """Parse ``nick@domain`` (syntax only: reserved nicks can still be resolved)."""
    if not isinstance(text, str):
        raise HandleError("an address must be a string like alice@wireup.net")
    nick, sep, domain = text.strip().partition("@")
    if not sep:
        raise HandleError(f"{text!r} is not an address: expected nick@domain (e.g. alice@wireup.net)")
    if not nick_syntax_ok(nick):
        raise HandleError(f"nick {nick!r} must be 2-32 characters of lowercase letters, digits, '_' or '-'")
    if not is_valid_domain(domain):
        raise HandleError(
            f"domain {domain!r} is not valid: use a lowercase DNS name, or 127.0.0.1:PORT / localhost:PORT"
        )
    return WireAddress(nick=nick, domain=domain)
