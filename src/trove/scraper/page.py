"""What a page says about itself: title, description, site name, canonical URL, its pictures.

Read with the standard library's tolerant HTML tokenizer, from the `<head>` only (parsing stops
at `<body>`), so a huge or hostile body costs nothing. Everything here is text from a stranger:
stored as plain strings, cut to a sane length, and never rendered as HTML.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

MAX_TEXT = 2000
MAX_TITLE = 500
MAX_URL = 2048
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._-]+)""", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_ICON_RELS = ("icon", "shortcut icon", "apple-touch-icon", "apple-touch-icon-precomposed")


@dataclass(frozen=True, kw_only=True)
class PageInfo:
    title: str | None = None
    description: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    image_url: str | None = None  # og:image / twitter:image
    icon_url: str | None = None  # the page's favicon, else /favicon.ico


def decode(body: bytes, *, charset: str | None) -> str:
    """The page's text: the header's charset, else a <meta charset>, else UTF-8."""
    for candidate in (charset, _meta_charset(body[:4096]), "utf-8"):
        if candidate and _known_codec(candidate):
            return body.decode(candidate, errors="replace")
    return body.decode("utf-8", errors="replace")


def read_page(html: str, *, url: str) -> PageInfo:
    parser = _HeadParser()
    try:
        parser.feed(html)
        parser.close()
    except _EndOfHead:
        pass
    base = _http_url(parser.base, url) or url
    meta = parser.meta
    title = parser.title_text() or meta.get("og:title") or meta.get("twitter:title")
    return PageInfo(
        title=_clean(title, MAX_TITLE),
        description=_clean(
            meta.get("description")
            or meta.get("og:description")
            or meta.get("twitter:description"),
            MAX_TEXT,
        ),
        site_name=_clean(meta.get("og:site_name") or meta.get("application-name"), MAX_TITLE),
        canonical_url=_http_url(parser.links.get("canonical") or meta.get("og:url"), base),
        image_url=_http_url(meta.get("og:image") or meta.get("twitter:image"), base),
        icon_url=_http_url(_first_icon(parser.links), base) or urljoin(url, "/favicon.ico"),
    )


class _EndOfHead(Exception):
    pass


class _HeadParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.base: str | None = None
        self._title: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "body":
            raise _EndOfHead
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and key not in self.meta and values.get("content"):
                self.meta[key] = values["content"]
        elif tag == "link" and values.get("href"):
            rel = " ".join(values.get("rel", "").lower().split())
            self.links.setdefault(rel, values["href"])
        elif tag == "base" and self.base is None:
            self.base = values.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            raise _EndOfHead

    def handle_data(self, data: str) -> None:
        if self._in_title and sum(map(len, self._title)) < MAX_TITLE * 2:
            self._title.append(data)

    def title_text(self) -> str | None:
        return "".join(self._title) or None


def _first_icon(links: dict[str, str]) -> str | None:
    return next((links[rel] for rel in _ICON_RELS if rel in links), None)


def _clean(text: str | None, limit: int) -> str | None:
    if not text:
        return None
    flat = _SPACE.sub(" ", text).strip()
    return flat[:limit] or None


def _http_url(value: str | None, base: str) -> str | None:
    """An absolute http(s) URL from an attribute, or None (javascript:, data:, junk)."""
    if not value:
        return None
    absolute = urljoin(base, value.strip())
    if urlsplit(absolute).scheme not in {"http", "https"} or len(absolute) > MAX_URL:
        return None
    return absolute


def _meta_charset(head: bytes) -> str | None:
    found = _META_CHARSET.search(head)
    return found.group(1).decode("ascii") if found else None


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True
