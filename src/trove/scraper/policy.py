"""Which URLs and addresses the scraper may reach. Pure: no resolution, no connection.

Two checks, both needed: `check_url` before anything is resolved (scheme, credentials, a host
written as a number in any of the forms resolvers accept), and `check_address` on every
address the host resolved to, right before the connection is pinned to one of them. A name
that resolves to a private address is refused exactly like the address itself.

Only public unicast addresses pass. Everything else is refused with the reason: loopback,
private (RFC 1918, unique-local fc00::/7), link-local (and 169.254.169.254, the cloud
metadata service), CGNAT 100.64/10, multicast, reserved, documentation and benchmarking
ranges, the unspecified address, and IPv6 forms that carry an IPv4 address inside
(IPv4-mapped, IPv4-compatible, NAT64, 6to4) when that IPv4 address is not public. Teredo is
refused outright: the client address inside it is obfuscated and routes through a relay.

`scraper_allow_hosts` is the one way past the address check: an entry `host` allows that host
on any port, `host:port` only that port ("[::1]:8080" for an IPv6 literal). It matches the
URL's host as written (after the numeric forms are normalised), never an address a name
happened to resolve to, so allowing `localhost:8080` does not allow a redirect to 127.0.0.2.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit, urlunsplit

import httpx

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = {"http": 80, "https": 443}
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# (network, reason): the first that contains an address names why it is refused.
_REFUSED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified / this network"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared address space (CGNAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "IETF protocol assignments"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "6to4 relay anycast"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),
)
_REFUSED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("64:ff9b:1::/48"), "local-use NAT64"),
    (_V6("100::/64"), "discard-only"),
    (_V6("2001::/32"), "Teredo"),
    (_V6("2001::/23"), "IETF protocol assignments"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("fc00::/7"), "unique-local (private)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local"),
    (_V6("ff00::/8"), "multicast"),
)
_GLOBAL_UNICAST_V6 = _V6("2000::/3")
_NAT64 = _V6("64:ff9b::/96")
_SIX_TO_FOUR = _V6("2002::/16")
_COMPATIBLE = _V6("::/96")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class Refused(ValueError):
    """The URL or address may not be fetched; the message says why, for the asset's error."""


@dataclass(frozen=True)
class AllowList:
    """`scraper_allow_hosts` parsed: (host, port or None for any port) pairs."""

    entries: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        return cls(
            frozenset(_allow_entry(part.strip()) for part in text.split(",") if part.strip())
        )

    def permits(self, host: str, port: int) -> bool:
        return (host, None) in self.entries or (host, port) in self.entries


@dataclass(frozen=True)
class Target:
    """A URL that passed `check_url`: what to resolve, what to connect to and what to say."""

    url: httpx.URL
    scheme: str
    host: str  # lower-case ASCII (IDNA) name, or the canonical text of an IP address
    port: int
    literal: IPAddress | None  # the address itself when the host is one (in any form)
    allowed: bool  # listed in scraper_allow_hosts: the address check does not apply


def check_url(url: str | httpx.URL, *, allow: AllowList) -> Target:
    """The URL as a Target, or Refused: only http(s), no credentials, a well-formed host; a
    host written as an address (any IPv4 form resolvers accept) is checked here already."""
    parsed = url if isinstance(url, httpx.URL) else _parse_url(url)
    scheme = parsed.scheme.lower()
    if scheme not in SCHEMES:
        raise Refused(f"only http and https URLs are fetched, not {scheme or 'a relative URL'}")
    if parsed.userinfo:
        raise Refused("URLs with credentials (user:password@) are not fetched")
    port = parsed.port or SCHEMES[scheme]
    literal = parse_host(parsed.raw_host.decode("ascii", "replace"))
    host = (
        str(literal)
        if isinstance(literal, ipaddress.IPv4Address | ipaddress.IPv6Address)
        else literal
    )
    address = None if isinstance(literal, str) else literal
    allowed = allow.permits(host, port)
    target = Target(
        url=parsed, scheme=scheme, host=host, port=port, literal=address, allowed=allowed
    )
    if address is not None:
        check_address(target, address)
    return target


def canonical_url(target: Target) -> str:
    """The URL as Trove stores it: scheme in lower case, the scheme's default port left out,
    so that the same page is written one way however it was typed (`HTTPS://h:443/` and
    `https://h/`), and writing it again gives it back unchanged."""
    default = target.url.port in (None, SCHEMES[target.scheme])
    return str(target.url.copy_with(scheme=target.scheme, port=None if default else target.port))


def _parse_url(text: str) -> httpx.URL:
    """httpx's reading of the URL (what it will send), with the dotted IPv4 forms it rejects
    (0177.0.0.1) rewritten to the address a resolver makes of them first."""
    try:
        return httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        error = exc
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        address = parse_host(host)
        if isinstance(address, str):
            raise Refused(f"not a valid URL: {error}")
        netloc = parts.netloc.replace(host, str(address), 1)
        return httpx.URL(urlunsplit(parts._replace(netloc=netloc)))
    except (httpx.InvalidURL, ValueError) as exc:
        raise Refused(f"not a valid URL: {exc}") from None


def check_address(target: Target, address: IPAddress) -> None:
    """Refused unless the address is public (or the target's host is explicitly allowed)."""
    if target.allowed:
        return
    reason = refusal(address)
    if reason is None:
        return
    if target.host == str(address):
        raise Refused(f"{address} is not a public address ({reason})")
    raise Refused(f"{target.host} resolves to {address}, not a public address ({reason})")


def check_addresses(target: Target, addresses: Iterable[IPAddress]) -> IPAddress:
    """The address to connect to: the first one, once every one of them passed.

    All must pass, not just the one chosen: a name that answers with a public and a private
    address is a rebinding attempt, and the next resolution might pick the other one.
    """
    chosen: IPAddress | None = None
    for address in addresses:
        check_address(target, address)
        chosen = chosen or address
    if chosen is None:
        raise Refused(f"{target.host} has no address")
    return chosen


def refusal(address: IPAddress) -> str | None:
    """Why the address is not a public unicast one, or None when it is."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(address, ipaddress.IPv4Address):
        return next((why for net, why in _REFUSED_V4 if address in net), None)
    embedded = _embedded_v4(address)
    if embedded is not None:
        inner = refusal(embedded)
        return None if inner is None else f"{inner}: {embedded} inside"
    reason = next((why for net, why in _REFUSED_V6 if address in net), None)
    if reason is None and address not in _GLOBAL_UNICAST_V6:
        reason = "reserved"
    return reason


def parse_host(host: str) -> IPAddress | str:
    """An IP address when the host is one, in any form a resolver reads as one; else the
    lower-case name. Refused for hosts that are neither (percent signs, zone ids, a number
    that does not fit, a name whose last label is numeric)."""
    host = host.lower()
    if ":" in host:
        if "%" in host:
            raise Refused("IPv6 addresses with a zone id are not fetched")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise Refused(f"{host!r} is not a valid IPv6 address") from None
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if not name or not all(_LABEL.match(label) for label in labels):
        raise Refused(f"{host!r} is not a valid host name")
    if _numeric(labels[-1]):
        return _legacy_ipv4(labels)
    return name


def _legacy_ipv4(parts: list[str]) -> ipaddress.IPv4Address:
    """inet_aton's reading, which resolvers and browsers share: one to four parts, each decimal,
    octal (leading 0) or hex (0x); the last part fills the remaining bytes, so 127.1 is
    127.0.0.1 and 2130706433 is too."""
    if len(parts) > 4 or not all(_numeric(part) for part in parts):
        raise Refused(f"{'.'.join(parts)!r} is neither a host name nor an IPv4 address")
    numbers = [_number(part) for part in parts]
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise Refused(f"{'.'.join(parts)!r} is out of range for an IPv4 address")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _numeric(part: str) -> bool:
    if part[:2] == "0x":
        return all(c in "0123456789abcdef" for c in part[2:])
    return part.isdigit()


def _number(part: str) -> int:
    if part[:2] == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if any(c in "89" for c in part):
            raise Refused(f"{part!r} is not an octal number")
        return int(part, 8)
    return int(part)


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: mapped ::ffff:a.b.c.d, compatible
    ::a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:aabb:ccdd::."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _allow_entry(text: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]` or `[v6]:port`, normalised the way check_url normalises."""
    host, port = text.lower(), None
    if host.startswith("["):
        inside, _, rest = host[1:].partition("]")
        host = inside
        if rest.startswith(":"):
            port = int(rest[1:])
    elif host.count(":") == 1:
        host, _, port_text = host.partition(":")
        port = int(port_text)
    parsed = parse_host(host)
    return (parsed if isinstance(parsed, str) else str(parsed)), port
