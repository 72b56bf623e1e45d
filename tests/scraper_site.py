"""A small local web site for the scraper tests and benchmark: a page with its title, Open Graph
tags, icon and picture, and the bad answers the scraper must survive (redirects to other
loopback addresses, a page that never finishes, a huge page, a gzip bomb, binary data, a page
whose script spins forever). Every request is recorded with the address it reached, so a test
can prove that a refused address was never contacted.

Only ever started inside a network namespace of its own (tests/netns.py) or on loopback.
"""

from __future__ import annotations

import gzip
import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image

TITLE = "Cabinet of Curiosities"
DESCRIPTION = "Shells, fossils & maps — catalogued."
SITE_NAME = "Trove Test Site"


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8">
<title>  {TITLE}
</title>
<meta name="description" content="{DESCRIPTION}">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:image" content="/og.png">
<link rel="canonical" href="/page">
<link rel="icon" href="/icon.png">
<script>document.title = "<b>not</b> " + document.title;</script>
</head>
<body style="background:#1e6b52;color:white"><h1>{TITLE}</h1><img src="/og.png"></body></html>
"""


@dataclass
class Site:
    base: str
    port: int
    hits: list[tuple[str, str, str]] = field(default_factory=list)  # (address, path, Host)

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.hits]


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.site.hits.append((self.server.server_address[0], self.path, self.headers["Host"]))
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        route = getattr(self, "_" + parts.path.strip("/").replace("-", "_").replace(".", "_"), None)
        if route is None:
            self._send(404, "text/plain", b"not here")
        else:
            route(query)

    def _send(self, status: int, content_type: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, query: dict[str, list[str]]) -> None:
        self._send(200, "text/html; charset=utf-8", PAGE.encode())

    def _icon_png(self, query: dict[str, list[str]]) -> None:
        self._send(200, "image/png", png((200, 30, 30), (32, 32)))

    def _og_png(self, query: dict[str, list[str]]) -> None:
        self._send(200, "image/png", png((30, 30, 200), (400, 300)))

    def _redirect(self, query: dict[str, list[str]]) -> None:
        self._send(302, "text/plain", b"", Location=query["to"][0])

    def _redirect_loop(self, query: dict[str, list[str]]) -> None:
        self._send(302, "text/plain", b"", Location="/redirect-loop")

    def _never(self, query: dict[str, list[str]]) -> None:
        """Headers, then a byte every half second, forever."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            self.wfile.write(b"<html><head><title>slow")
            while True:
                time.sleep(0.5)
                self.wfile.write(b".")
                self.wfile.flush()
        except OSError:
            return

    def _silent(self, query: dict[str, list[str]]) -> None:
        """Accepts the request and never answers."""
        time.sleep(30)

    def _huge(self, query: dict[str, list[str]]) -> None:
        """Fifty megabytes of page with no Content-Length."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        try:
            for _ in range(800):
                self.wfile.write(chunk)
        except OSError:
            return

    def _huge_declared(self, query: dict[str, list[str]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(10 * 1024**3))
        self.end_headers()

    def _gzip_bomb(self, query: dict[str, list[str]]) -> None:
        body = gzip.compress(b"<p>" + b"a" * (20 * 1024**2), compresslevel=9)
        self._send(200, "text/html", body, Content_Encoding="gzip")

    def _binary(self, query: dict[str, list[str]]) -> None:
        self._send(200, "application/octet-stream", bytes(range(256)) * 64)

    def _binary_as_html(self, query: dict[str, list[str]]) -> None:
        self._send(200, "text/html", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64)

    def _spin(self, query: dict[str, list[str]]) -> None:
        body = b"<html><body><h1>spinning</h1><script>while (true) {}</script></body></html>"
        self._send(200, "text/html", body)

    def _leaky(self, query: dict[str, list[str]]) -> None:
        """A page whose pictures and scripts reach for other addresses."""
        other = query["other"][0]
        body = f"""<html><head><title>leaky</title></head><body>
        <img src="{other}/from-img.png"><img src="http://10.0.0.1/private.png">
        <img src="http://169.254.169.254/latest/meta-data/">
        <iframe src="{other}/from-iframe"></iframe>
        <script>fetch("{other}/from-fetch"); new WebSocket("ws://127.0.0.1:{self.site.port}/ws");
        navigator.sendBeacon("/beacon", "x");</script></body></html>"""
        self._send(200, "text/html", body.encode())


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up on purpose (the tests' limits) is not news


@contextmanager
def serve(host: str = "127.0.0.1", port: int = 0) -> Iterator[Site]:
    """The site on host:port (0: a free port), in a thread, for the duration of the block."""
    server = _QuietServer((host, port), _Handler)
    bound = server.server_address[1]
    site = Site(base=f"http://{host}:{bound}", port=bound)
    server.RequestHandlerClass = type("Handler", (_Handler,), {"site": site})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
