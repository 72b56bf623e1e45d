"""A net under the whole suite: test code may resolve no host name and connect to nothing but
loopback, so a test that reaches the web scraper by accident (a fuzzed URL asset, a link in
a page) fails its fetch instead of sending a packet off the machine.

Python-level only (socket.getaddrinfo and socket.create_connection, what httpx and the
scraper's resolver use): the tests that let the scraper connect on purpose also run in a
network namespace of their own (tests/netns.py), which holds whatever this misses.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}
_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection


def install() -> None:
    socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]  # the suite-wide guard
    socket.create_connection = _create_connection  # type: ignore[assignment]


def _local(host: Any) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    name = name.lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _local(host):
        raise socket.gaierror(socket.EAI_NONAME, f"tests resolve no names off loopback: {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


def _create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
    if not _local(address[0]):
        raise ConnectionRefusedError(f"tests connect to loopback only, not {address[0]}")
    return _real_create_connection(address, *args, **kwargs)
