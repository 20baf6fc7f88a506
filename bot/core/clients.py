"""Who is on the other end of a request: the client's address, through trusted proxies only.

Behind a reverse proxy every request comes from the proxy's address, so per-address limits
would lump all customers together; the proxy names the real client in `X-Forwarded-For`. That
header is believed only as far as it was written by proxies listed in LOKET_TRUSTED_PROXIES:
anyone can send one, so it is read from the right (the hop nearest to us) and the first
address that is not a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def parse_networks(spec: str) -> tuple[Network, ...]:
    """'10.0.0.1, 192.168.0.0/16, ::1' -> networks; raises ValueError naming a bad entry."""
    networks = []
    for item in spec.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(text: str, networks: Iterable[Network]) -> bool:
    ip = _ip(text)
    return ip is not None and any(ip in net for net in networks)


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str:
    """The client's address: the peer itself, unless the peer is a trusted proxy; then the
    nearest address in `forwarded_for` that is not a trusted proxy ("" when unknown)."""
    address = peer or ""
    if not trusted or not forwarded_for or not _trusted(address, trusted):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if _ip(hop) is None:
            return address  # a garbled header: fall back to the proxy itself
        address = hop.strip("[]")
        if not _trusted(hop, trusted):
            return address
    return address


def resolver(trusted: tuple[Network, ...]) -> Callable[[str | None, str | None], str]:
    """`client_address` with the trusted proxies filled in, for the web edges."""

    def resolve(peer: str | None, forwarded_for: str | None) -> str:
        return client_address(peer, forwarded_for, trusted)

    return resolve


def is_loopback(address: str) -> bool:
    ip = _ip(address)
    return ip is not None and ip.is_loopback
