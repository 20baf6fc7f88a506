"""The client's address is read through trusted proxies only."""

from __future__ import annotations

import pytest

from bot.core.clients import client_address, is_loopback, parse_networks

PROXY = parse_networks("10.0.0.5, 192.168.0.0/16")


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("203.0.113.7", None, "203.0.113.7"),  # no proxy
        ("203.0.113.7", "1.2.3.4", "203.0.113.7"),  # not a trusted proxy: header ignored
        ("10.0.0.5", "198.51.100.9", "198.51.100.9"),  # through the proxy
        ("10.0.0.5", "1.2.3.4, 198.51.100.9", "198.51.100.9"),  # a spoofed hop on the left
        ("10.0.0.5", "198.51.100.9, 192.168.1.2", "198.51.100.9"),  # two trusted hops
        ("10.0.0.5", "not-an-ip", "10.0.0.5"),  # garbled: the proxy itself
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(peer: str, header: str | None, client: str) -> None:
    assert client_address(peer, header, PROXY) == client


def test_without_trusted_proxies_the_header_is_never_believed() -> None:
    assert client_address("127.0.0.1", "198.51.100.9", ()) == "127.0.0.1"


def test_bad_networks_are_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        parse_networks("10.0.0.1 10.0.0.300")


def test_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("")
