"""Uploads against a real `trove serve`: many at once into a fresh install, and names the
scanner would skip. Every upload either lands (stored and registered) or is refused clearly."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.browser.server import TroveServer, start_server

pytestmark = pytest.mark.slow

UPLOADS = 20


@pytest.fixture
def fresh_server(tmp_path: Path, database_url: str) -> Iterator[TroveServer]:
    """A server on an empty database: no library, no upload root registered yet."""
    server = start_server(
        data_dir=tmp_path / "data", roots=[], env={"TROVE_DATABASE_URL": database_url}
    )
    try:
        yield server
    finally:
        server.stop()


def _upload(url: str, name: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{url}/api/dam/upload", files={"file": (name, data)}, timeout=120)


def _contents(i: int) -> bytes:
    return f"upload number {i}\n".encode() * (i + 1)


def test_twenty_uploads_at_once_into_a_fresh_install_are_all_stored_and_registered(
    fresh_server, tmp_path
):
    names = [f"concurrent {i:02}.txt" for i in range(UPLOADS)]
    with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
        responses = list(
            pool.map(lambda i: _upload(fresh_server.url, names[i], _contents(i)), range(UPLOADS))
        )
    assert [r.status_code for r in responses] == [201] * UPLOADS, [
        r.text for r in responses if r.status_code != 201
    ]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == UPLOADS
    upload_dir = tmp_path / "data" / "uploads" / "owner"
    stored = {p.name: p.read_bytes() for p in upload_dir.iterdir() if p.is_file()}
    assert stored == {names[i]: _contents(i) for i in range(UPLOADS)}
    listed = fresh_server.api("/api/dam/assets?limit=100")["items"]
    assert {a["id"] for a in listed if a["asset_type"] != "collection"} == ids
    roots = fresh_server.api("/api/dam/status")["roots"]
    assert len(roots) == 1 and roots[0]["path"] == str(upload_dir.parent.resolve())
    for response in responses:
        detail = fresh_server.api(f"/api/dam/assets/{response.json()['id']}")
        assert detail["filename"] in stored


@pytest.mark.parametrize("name", ["Thumbs.db", "desktop.ini", ".DS_Store"])
@pytest.mark.databases("sqlite")
def test_uploading_a_name_the_scanner_skips_is_refused_with_a_clear_4xx(
    fresh_server, tmp_path, name
):
    response = _upload(fresh_server.url, name, b"system file")
    assert response.status_code == 422, response.text
    assert name in response.json()["detail"]
    upload_dir = tmp_path / "data" / "uploads" / "owner"
    assert not (upload_dir / name).exists()
    after = _upload(fresh_server.url, "kept.txt", b"kept")
    assert after.status_code == 201, after.text
    assert (upload_dir / "kept.txt").read_bytes() == b"kept"


@pytest.mark.databases("sqlite")
def test_an_upload_keeps_the_modification_time_the_client_sent(fresh_server, tmp_path):
    uploads = tmp_path / "data" / "uploads" / "owner"
    modified = datetime(2019, 5, 4, 3, 2, 1, tzinfo=UTC)
    old = _upload_with(fresh_server.url, "old.png", modified=int(modified.timestamp() * 1000))
    assert (uploads / "old.png").stat().st_mtime == modified.timestamp()
    assert old["timeline_at"] == "2019-05-04T03:02:01Z"
    wrong_clock = int(time.time() * 1000) + 10 * 365 * 86400 * 1000  # the future: not kept
    new = _upload_with(fresh_server.url, "new.png", modified=wrong_clock)
    assert abs((uploads / "new.png").stat().st_mtime - time.time()) < 600
    assert new["timeline_at"].startswith(str(datetime.now(UTC).year))


def _upload_with(url: str, name: str, *, modified: int) -> dict:
    response = httpx.post(
        f"{url}/api/dam/upload",
        files={"file": (name, _png())},
        data={"modified": str(modified)},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()
