# SPDX-License-Identifier: MIT
"""Keys, DIDs, handles, nicks and domains."""

from __future__ import annotations

import pytest

import wire_protocol as wp

PAUL = wp.SigningKey(b"\x01" * 32)


def test_fingerprint_of_zero_key_is_eight_hex() -> None:
    fp = wp.fingerprint(bytes(32))
    assert len(fp) == 8
    assert int(fp, 16) >= 0


def test_key_generation_uses_injected_randomness() -> None:
    key = wp.SigningKey.generate(lambda n: b"\x01" * n)
    assert key.public_key == PAUL.public_key
    assert len(wp.SigningKey.generate().seed) == 32


@pytest.mark.parametrize("seed", [b"", b"\x00" * 31, b"\x00" * 33])
def test_seed_must_be_32_bytes(seed: bytes) -> None:
    with pytest.raises(wp.KeyFormatError):
        wp.SigningKey(seed)


def test_seed_is_not_in_repr() -> None:
    assert PAUL.seed.hex() not in repr(PAUL)


@pytest.mark.parametrize(
    ("did", "handle"),
    [
        ("did:wire:paul-34750f98", "paul"),
        ("did:wire:paul-34750F98", "paul"),
        ("did:wire:paul", "paul"),
        ("paul-34750f98", "paul"),
        ("did:wire:my-agent-34750f98", "my-agent"),
        ("did:wire:my-agent", "my-agent"),
        ("did:wire:paul-3475", "paul-3475"),
        ("did:wire:paul-34750f9g", "paul-34750f9g"),
    ],
)
def test_display_handle_from_did(did: str, handle: str) -> None:
    assert wp.display_handle_from_did(did) == handle


def test_did_binding() -> None:
    assert wp.did_matches_key("did:wire:paul-34750f98", PAUL.public_key)
    assert wp.did_matches_key("did:wire:paul-34750F98", PAUL.public_key)
    assert not wp.did_matches_key("did:wire:paul", PAUL.public_key)
    assert not wp.did_matches_key("did:wire:paul-00000000", PAUL.public_key)
    assert not wp.did_matches_key("paul-34750f98", PAUL.public_key)
    assert not wp.did_matches_key("did:wire:-34750f98", PAUL.public_key)


def test_bare_handle() -> None:
    assert wp.bare_handle("alice@wireup.net") == "alice"
    assert wp.bare_handle("alice") == "alice"


@pytest.mark.parametrize("handle", ["paul", "Paul_2", "a", "my-agent", "x" * 64])
def test_valid_local_handles(handle: str) -> None:
    assert wp.validate_handle(handle) == handle


@pytest.mark.parametrize("handle", ["", "a b", "paul@x", "é", "x" * 65, None, 7, "a/b"])
def test_invalid_local_handles(handle: object) -> None:
    with pytest.raises(wp.HandleError):
        wp.validate_handle(handle)


@pytest.mark.parametrize("nick", ["ab", "dragonfly_42", "a-b", "x" * 32])
def test_nick_syntax_ok(nick: str) -> None:
    assert wp.nick_syntax_ok(nick)


@pytest.mark.parametrize("nick", ["a", "Paul", "x" * 33, "a.b", "a b", "", "é"])
def test_nick_syntax_rejects(nick: str) -> None:
    assert not wp.nick_syntax_ok(nick)


@pytest.mark.parametrize("nick", ["admin", "wire", "claude", "test", "demo", "root"])
def test_reserved_nicks_cannot_be_claimed(nick: str) -> None:
    assert wp.nick_syntax_ok(nick)
    assert not wp.is_valid_nick(nick)


@pytest.mark.parametrize(
    "domain",
    ["wireup.net", "home.arpa", "a", "a-b.example.com", "127.0.0.1:8771", "localhost:1", "localhost:65535"],
)
def test_valid_domains(domain: str) -> None:
    assert wp.is_valid_domain(domain)


@pytest.mark.parametrize(
    "domain",
    [
        "",
        "-bad.example.com",
        "bad-.example.com",
        "Example.com",
        "a..b",
        "example.com:443",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "localhost:",
        "localhost:port",
        "10.0.0.1:80",
        "x" * 64 + ".com",
        ("a." * 127) + "com",
        "exa_mple.com",
    ],
)
def test_invalid_domains(domain: str) -> None:
    assert not wp.is_valid_domain(domain)


def test_parse_address() -> None:
    address = wp.parse_address("dragonfly_42@home.arpa")
    assert (address.nick, address.domain, address.is_loopback) == ("dragonfly_42", "home.arpa", False)
    assert address.relay_url == "https://home.arpa"
    assert str(address) == "dragonfly_42@home.arpa"


@pytest.mark.parametrize("text", ["bob@127.0.0.1:8771", "bob@localhost:9000"])
def test_loopback_addresses_use_http(text: str) -> None:
    address = wp.parse_address(text)
    assert address.is_loopback
    assert address.relay_url == f"http://{address.domain}"


@pytest.mark.parametrize(
    "text", ["Paul@wireup.net", "a@wireup.net", "x" * 33 + "@wireup.net", "paul@-bad.example.com", "paul", "@x.com"]
)
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(wp.HandleError):
        wp.parse_address(text)


def test_tier_promotion_is_one_way() -> None:
    assert wp.Tier.VERIFIED.promoted_to(wp.Tier.ATTESTED) is wp.Tier.ATTESTED
    assert wp.Tier.ATTESTED.promoted_to(wp.Tier.VERIFIED) is wp.Tier.ATTESTED
    assert wp.Tier.parse("verified") is wp.Tier.VERIFIED
    assert wp.Tier.parse("bogus") is wp.Tier.UNTRUSTED
    assert wp.Tier.UNTRUSTED < wp.Tier.VERIFIED < wp.Tier.ATTESTED
