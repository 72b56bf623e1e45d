"""Fetching a URL the policy allows, connected to exactly the address that was checked.

Each hop of a redirect chain is checked anew (`policy.check_url`), its host resolved once, every
address checked, and the connection made to the chosen address whatever the name resolves to
a moment later (DNS rebinding): httpx still sends the URL's Host header and, for https, its
name as SNI and for the certificate check. Bounded everywhere: a deadline over the whole chain
(resolution included), a byte cap over what is decoded (a gzip bomb stops at the cap), a
redirect count. No cookies, no credentials, no proxy or .netrc from the environment.
"""

from __future__ import annotations

import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from ipaddress import ip_address
from typing import Any

import httpcore
import httpx

from trove.config import Settings
from trove.scraper.policy import AllowList, IPAddress, Refused, Target, check_addresses, check_url

Resolver = Callable[[str, int], list[IPAddress]]
USER_AGENT = "Trove-WebScraper/1 (self-hosted asset manager)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The first bytes are enough to tell a text page from a binary file served as text/html.
SNIFF_BYTES = 1024


class FetchFailed(Exception):
    """The fetch was allowed but did not give a usable answer; the message says why."""


class Want(Enum):
    """What the caller accepts: a page refuses binary answers, an image only images."""

    PAGE = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5"
    IMAGE = "image/avif,image/webp,image/png,image/jpeg,image/gif,image/x-icon,image/*;q=0.8"
    ANY = "*/*"


@dataclass(frozen=True, kw_only=True)
class FetchLimits:
    timeout_s: float = 20.0
    max_bytes: int = 5 * 1024**2
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchLimits:
        return cls(
            timeout_s=settings.scraper_timeout_s,
            max_bytes=settings.scraper_max_bytes,
            max_redirects=settings.scraper_max_redirects,
        )


@dataclass(frozen=True, kw_only=True)
class Fetched:
    url: str  # after redirects
    status: int
    media_type: str  # "text/html", lower case, no parameters ("" when the server sent none)
    charset: str | None
    body: bytes
    location: str | None = None  # a redirect's target, when redirects are not followed
    address: str = ""  # what was connected to


def system_resolver(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))


class Fetcher:
    def __init__(
        self,
        *,
        allow: AllowList,
        limits: FetchLimits,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.allow, self.limits, self.resolver = allow, limits, resolver
        # Loading the CA bundle costs tens of milliseconds: once per fetcher, not per hop.
        self._ssl_context = httpx.create_ssl_context(trust_env=False)

    def get(
        self,
        url: str,
        *,
        want: Want,
        follow_redirects: bool = True,
        deadline: float | None = None,
        max_bytes: int | None = None,
    ) -> Fetched:
        """GET the URL, following (and re-checking) redirects. Refused when the policy says
        no at any hop, FetchFailed for everything else that goes wrong, within the limits."""
        limit = (
            self.limits.max_bytes if max_bytes is None else min(max_bytes, self.limits.max_bytes)
        )
        deadline = min(deadline or float("inf"), time.monotonic() + self.limits.timeout_s)
        current = url
        for _ in range(self.limits.max_redirects + 1):
            target = check_url(current, allow=self.allow)
            address = target.literal
            if address is None:
                address = check_addresses(target, self._resolve(target, deadline))
            fetched = self._hop(target, address, want=want, deadline=deadline, max_bytes=limit)
            if fetched.location is None or not follow_redirects:
                return fetched
            current = fetched.location
        raise FetchFailed(f"more than {self.limits.max_redirects} redirects")

    def _resolve(self, target: Target, deadline: float) -> list[IPAddress]:
        # getaddrinfo has no timeout of its own: wait for it at most until the deadline.
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            future = pool.submit(self.resolver, target.host, target.port)
            return future.result(timeout=_remaining(deadline))
        except FutureTimeout:
            raise FetchFailed(f"resolving {target.host} took too long") from None
        except OSError as exc:
            raise FetchFailed(f"cannot resolve {target.host}: {exc}") from None
        finally:
            pool.shutdown(wait=False)

    def _hop(
        self, target: Target, address: IPAddress, *, want: Want, deadline: float, max_bytes: int
    ) -> Fetched:
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": want.value,
            "Accept-Encoding": "gzip, deflate",
        }
        try:
            with (
                _pinned_client(target, address, deadline, self._ssl_context) as client,
                client.stream("GET", target.url, headers=headers) as response,
            ):
                return _answer(response, target, address, want, deadline, max_bytes)
        except httpx.TimeoutException:
            raise FetchFailed(f"{target.host} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise FetchFailed(f"fetching {target.url} failed: {exc}") from None


def _answer(
    response: httpx.Response,
    target: Target,
    address: IPAddress,
    want: Want,
    deadline: float,
    max_bytes: int,
) -> Fetched:
    media_type, charset = _content_type(response.headers.get("content-type", ""))
    answer = Fetched(
        url=str(target.url),
        status=response.status_code,
        address=str(address),
        media_type=media_type,
        charset=charset,
        body=b"",
    )
    if response.status_code in REDIRECTS and "location" in response.headers:
        return replace(answer, location=str(target.url.join(response.headers["location"])))
    if response.status_code >= 400:
        raise FetchFailed(f"{target.url} answered HTTP {response.status_code}")
    _check_type(media_type, want)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailed(f"{target.url} is {int(declared)} bytes, over the {max_bytes} limit")
    body = _read(response, deadline=deadline, max_bytes=max_bytes)
    if want is Want.PAGE and _looks_binary(body[:SNIFF_BYTES]):
        raise FetchFailed(f"{target.url} is binary data, not a page")
    return replace(answer, body=body)


def _check_type(media_type: str, want: Want) -> None:
    if (
        want is Want.PAGE
        and media_type
        and not (
            media_type in {"text/html", "application/xhtml+xml"} or media_type.startswith("text/")
        )
    ):
        raise FetchFailed(f"not a page but {media_type}")
    if want is Want.IMAGE and not media_type.startswith("image/"):
        raise FetchFailed(f"not an image but {media_type or 'an untyped answer'}")


def _read(response: httpx.Response, *, deadline: float, max_bytes: int) -> bytes:
    """The decoded body, stopped at the deadline or the byte cap, whichever comes first.

    Decoded here rather than by httpx so the cap applies to what decompression produces."""
    decoder = _decoder(response.headers.get("content-encoding", "identity"))
    chunks: list[bytes] = []
    size = 0
    for raw in response.iter_raw():
        if time.monotonic() > deadline:
            raise FetchFailed(f"{response.url} took too long to send")
        chunk = decoder(raw, max_bytes - size + 1)
        size += len(chunk)
        if size > max_bytes:
            raise FetchFailed(f"{response.url} is larger than the {max_bytes} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _decoder(encoding: str) -> Callable[[bytes, int], bytes]:
    encoding = encoding.strip().lower()
    if encoding in {"", "identity"}:
        return lambda data, _limit: data
    if encoding in {"gzip", "x-gzip", "deflate"}:
        state = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected

        def decode(data: bytes, limit: int) -> bytes:
            try:
                return state.decompress(data, max(limit, 1))
            except zlib.error as exc:
                raise FetchFailed(f"the answer's {encoding} encoding is broken: {exc}") from None

        return decode
    raise FetchFailed(f"unsupported content encoding {encoding!r}")


def _content_type(header: str) -> tuple[str, str | None]:
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media_type.strip().lower(), charset


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head:
        return not (head.startswith((b"\xff\xfe", b"\xfe\xff")))  # UTF-16 text has NULs
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    return controls > len(head) // 10


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchFailed("the time for this fetch ran out")
    return left


@contextmanager
def _pinned_client(
    target: Target, address: IPAddress, deadline: float, ssl_context: ssl.SSLContext
) -> Iterator[httpx.Client]:
    """A client for one request, whose every connection goes to `address`.

    Fresh per hop: nothing (cookies, connections) carries from one host to the next."""
    transport = _PinnedTransport(target, address, ssl_context)
    with httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(_remaining(deadline)),
        follow_redirects=False,
        trust_env=False,
    ) as client:
        yield client


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport, whose connection pool dials the checked address instead of
    resolving the host again. TLS still uses the URL's host for SNI and certificate checks."""

    def __init__(self, target: Target, address: IPAddress, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False, retries=0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            retries=0,
            network_backend=_PinnedBackend(target, address),
        )


class _PinnedBackend(httpcore.NetworkBackend):
    def __init__(self, target: Target, address: IPAddress) -> None:
        self.target, self.address = target, address
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        if port != self.target.port:
            raise Refused(f"connection to port {port} instead of the checked {self.target.port}")
        return self._backend.connect_tcp(
            str(self.address), port, timeout=timeout, socket_options=socket_options
        )

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise Refused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
