"""The scraper against a real local web site, each test inside its own network namespace.

Every body here that may connect runs in `run_isolated` (tests/netns.py): a forked child with
only loopback up, so even a wrong answer from the code under test cannot send a packet off the
machine. The site (tests/scraper_site.py) records every request it receives with the address
it was received on: "refused" is proven by a request that never arrived.
"""

from __future__ import annotations

import time
from dataclasses import replace
from ipaddress import ip_address

import pytest

from tests import scraper_site
from tests.netns import interfaces_inside, run_isolated
from trove.config import Settings
from trove.scraper.fetch import Fetcher, FetchFailed, FetchLimits, Want
from trove.scraper.policy import AllowList, Refused
from trove.scraper.scrape import WebScraper


def fetcher(allow: str = "", **limits: float) -> Fetcher:
    return Fetcher(allow=AllowList.parse(allow), limits=FetchLimits(**{"timeout_s": 5, **limits}))


def outcome(call) -> str:  # type: ignore[no-untyped-def]
    """'ok <status>' or the refusal / failure as '<Kind>: <message>'."""
    try:
        return f"ok {call().status}"
    except (Refused, FetchFailed) as exc:
        return f"{type(exc).__name__}: {exc}"


def test_the_isolated_body_sees_loopback_and_nothing_else():
    assert run_isolated(interfaces_inside) == ["lo"]


def _local_site_by_default_and_when_allowed() -> dict[str, object]:
    with scraper_site.serve() as site:
        port = site.port
        refused = {
            url: outcome(lambda url=url: fetcher().get(url, want=Want.PAGE))
            for url in (
                site.url("/page"),
                f"http://localhost:{port}/page",
                f"http://2130706433:{port}/page",
                f"http://0x7f.1:{port}/page",
                f"http://0177.0.0.1:{port}/page",
                f"http://[::ffff:127.0.0.1]:{port}/page",
            )
        }
        hits_while_refused = list(site.hits)
        allowed = fetcher(f"127.0.0.1:{port}").get(site.url("/page"), want=Want.PAGE)
        other_port = outcome(lambda: fetcher("127.0.0.1:1").get(site.url("/page"), want=Want.PAGE))
        by_name = fetcher(f"localhost:{port}").get(f"http://localhost:{port}/page", want=Want.PAGE)
        return {
            "refused": refused,
            "hits_while_refused": hits_while_refused,
            "allowed": (
                allowed.status,
                allowed.address,
                scraper_site.TITLE in allowed.body.decode(),
            ),
            "other_port": other_port,
            "by_name": (by_name.status, by_name.address),
        }


def test_the_local_site_is_refused_by_default_in_every_spelling_and_fetched_once_allowed():
    result = run_isolated(_local_site_by_default_and_when_allowed)
    for answer in result["refused"].values():
        assert "Refused" in answer and "loopback" in answer
    assert result["hits_while_refused"] == []
    assert result["allowed"] == (200, "127.0.0.1", True)
    assert "Refused" in result["other_port"]
    assert result["by_name"] == (200, "127.0.0.1")


def _redirects() -> dict[str, object]:
    with scraper_site.serve() as site, scraper_site.serve("127.0.0.2", site.port) as other:
        allowed = fetcher(f"127.0.0.1:{site.port}", max_redirects=3)
        targets = {
            "127.0.0.2": f"http://127.0.0.2:{site.port}/page",
            "decimal": f"http://2130706434:{site.port}/page",
            "metadata": "http://169.254.169.254/latest/meta-data/",
            "mapped": f"http://[::ffff:127.0.0.2]:{site.port}/page",
            "file": "file:///etc/passwd",
        }
        answers = {
            name: outcome(lambda to=to: allowed.get(site.url(f"/redirect?to={to}"), want=Want.PAGE))
            for name, to in targets.items()
        }
        same_site = allowed.get(site.url("/redirect?to=/page"), want=Want.PAGE)
        loop = outcome(lambda: allowed.get(site.url("/redirect-loop"), want=Want.PAGE))
        return {
            "answers": answers,
            "other_hits": list(other.hits),
            "same_site": (same_site.status, same_site.url),
            "loop": loop,
        }


def test_every_redirect_is_checked_again_and_one_to_another_loopback_address_is_refused():
    result = run_isolated(_redirects)
    answers = result["answers"]
    assert all(answer.startswith("Refused") for answer in answers.values()), answers
    assert "127.0.0.2 is not a public address (loopback)" in answers["127.0.0.2"]
    assert "metadata" in answers["metadata"]
    assert result["other_hits"] == []  # 127.0.0.2 never received a request
    assert result["same_site"][0] == 200 and result["same_site"][1].endswith("/page")
    assert "more than 3 redirects" in result["loop"]


def _bad_answers() -> dict[str, tuple[str, float]]:
    with scraper_site.serve() as site:
        client = fetcher(f"127.0.0.1:{site.port}", timeout_s=2, max_bytes=1024**2)
        answers = {}
        for path in (
            "/never",
            "/silent",
            "/huge",
            "/huge-declared",
            "/gzip-bomb",
            "/binary",
            "/binary-as-html",
            "/nowhere",
        ):
            started = time.monotonic()
            answer = outcome(lambda path=path: client.get(site.url(path), want=Want.PAGE))
            answers[path] = (answer, time.monotonic() - started)
        image = outcome(lambda: client.get(site.url("/page"), want=Want.IMAGE))
        answers["page as image"] = (image, 0.0)
        return answers


def test_pages_that_never_finish_huge_pages_and_binary_answers_fail_within_their_limits():
    answers = run_isolated(_bad_answers)
    expected = {
        "/never": "took too long",
        "/silent": "did not answer in time",
        "/huge": "larger than the 1048576 byte limit",
        "/huge-declared": "over the 1048576 limit",
        "/gzip-bomb": "larger than the 1048576 byte limit",
        "/binary": "not a page but application/octet-stream",
        "/binary-as-html": "binary data, not a page",
        "/nowhere": "HTTP 404",
        "page as image": "not an image but text/html",
    }
    for path, words in expected.items():
        answer, elapsed = answers[path]
        assert answer.startswith("FetchFailed") and words in answer, (path, answer)
        assert elapsed < 3.5, (path, elapsed)


def _pinned() -> tuple[list[tuple[str, str, str]], int]:
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list:  # type: ignore[type-arg]
        calls.append(host)  # first answer loopback (allowed), then anything else
        return [ip_address("127.0.0.1")] if len(calls) == 1 else [ip_address("127.0.0.2")]

    with scraper_site.serve() as site:
        client = Fetcher(
            allow=AllowList.parse(f"shop.test:{site.port}"),
            limits=FetchLimits(timeout_s=5),
            resolver=rebinding,
        )
        client.get(f"http://shop.test:{site.port}/page", want=Want.PAGE)
        return list(site.hits), len(calls)


def test_the_host_is_resolved_once_and_the_connection_pinned_with_its_name_in_the_host_header():
    hits, resolutions = run_isolated(_pinned)
    assert resolutions == 1
    assert hits == [("127.0.0.1", "/page", f"shop.test:{hits[0][2].split(':')[1]}")]


def _scrape(settings: Settings) -> dict[str, object]:
    with scraper_site.serve() as site, scraper_site.serve("127.0.0.2", site.port) as other:
        allowed = replace(
            settings, scraper_allow_hosts=f"127.0.0.1:{site.port}", scraper_script_seconds=2
        )
        scraper = WebScraper(allowed)
        try:
            page = scraper.scrape(site.url("/page"))
            leaky = scraper.scrape(site.url(f"/leaky?other=http://127.0.0.2:{site.port}"))
            started = time.monotonic()
            spin = scraper.scrape(site.url("/spin"))
        finally:
            scraper.close()
        return {
            "page": page,
            "leaky_shot": _is_png(leaky.screenshot),
            "spin": (_is_png(spin.screenshot), time.monotonic() - started),
            "paths": site.paths(),
            "other_paths": other.paths(),
        }


def _is_png(data: bytes | None) -> bool:
    return data is not None and data.startswith(b"\x89PNG")


@pytest.mark.slow
def test_a_page_is_scraped_with_its_picture_and_a_screenshot_whose_requests_pass_the_policy(
    tmp_path,
):
    result = run_isolated(_scrape, Settings(data_dir=tmp_path))
    page = result["page"]
    meta = page.metadata
    assert meta.title == scraper_site.TITLE  # the page's own text, not what its script made
    assert meta.description == scraper_site.DESCRIPTION
    assert meta.site_name == scraper_site.SITE_NAME
    assert meta.canonical_url.endswith("/page") and meta.preview_from == "og:image"
    assert page.picture is not None and _is_png(page.screenshot)
    assert result["leaky_shot"]
    # The browser fetched the page and its picture through the scraper (twice: the scraper's
    # own request for og:image, then the browser's) ...
    assert result["paths"].count("/og.png") == 2
    # ... and nothing it asked of 127.0.0.2, a private or a metadata address arrived anywhere;
    # its POST (a beacon) never left the browser.
    assert result["other_paths"] == []
    assert "/beacon" not in result["paths"]
    # A script that spins forever is stopped after its 2 s and the page still photographed.
    shot, elapsed = result["spin"]
    assert shot and elapsed < 10
