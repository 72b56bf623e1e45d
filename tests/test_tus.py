"""Resumable uploads (TUS) against a real `trove serve`: an upload survives the server being
killed mid-transfer, many at once into a fresh install all land, and each file is an
`uploading` asset from creation until its last byte."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests import tus_client
from tests.browser.server import TroveServer, start_server

pytestmark = pytest.mark.slow

UPLOADS = 20
MiB = 1024 * 1024


def _serve(tmp_path: Path, database_url: str) -> TroveServer:
    return start_server(
        data_dir=tmp_path / "data", roots=[], env={"TROVE_DATABASE_URL": database_url}
    )


@pytest.fixture
def fresh_server(tmp_path: Path, database_url: str) -> Iterator[TroveServer]:
    server = _serve(tmp_path, database_url)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.databases("sqlite")
def test_an_upload_resumes_after_the_server_is_killed_mid_upload_and_ends_byte_for_byte_equal(
    tmp_path, database_url
):
    data = os.urandom(6 * MiB)
    server = _serve(tmp_path, database_url)
    try:
        created = tus_client.create(server.url, "resumed.bin", len(data))
        assert created.status_code == 201, created.text
        upload = tus_client.Upload(created.headers["Location"])
        assert server.api(f"/api/dam/assets/{upload.id}")["status"] == "uploading"
        first = upload.patch(server.url, 0, data[: 2 * MiB])
        assert first.status_code == 204, first.text

        def killed_half_way() -> Iterator[bytes]:
            yield data[2 * MiB : 3 * MiB]
            time.sleep(0.5)  # the server has written that MiB, and not recorded it
            server.process.kill()
            server.process.wait(10)
            yield data[3 * MiB : 4 * MiB]

        with pytest.raises(httpx.HTTPError):
            upload.patch(server.url, 2 * MiB, killed_half_way())
    finally:
        server.stop()

    server = _serve(tmp_path, database_url)
    try:
        offset = upload.offset(server.url)
        assert offset == 2 * MiB  # what was recorded; the unrecorded MiB was cut
        assert server.api(f"/api/dam/assets/{upload.id}")["status"] == "uploading"
        last = upload.patch(server.url, offset, data[offset:])
        assert last.status_code == 204, last.text
        assert last.headers["Trove-Asset-Id"] == upload.id
        stored = tmp_path / "data" / "uploads" / "owner" / "resumed.bin"
        assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(data).digest()
        asset = server.api(f"/api/dam/assets/{upload.id}")
        assert asset["status"] in ("processing", "ready")
        assert (asset["filename"], asset["size"]) == ("resumed.bin", len(data))
        assert not list((tmp_path / "data" / "incoming" / "tus").glob(f"{upload.id}*"))
    finally:
        server.stop()


def test_twenty_resumable_uploads_at_once_into_a_fresh_install_are_all_stored_and_registered(
    fresh_server, tmp_path
):
    names = ["same name.txt" if i < 5 else f"tus {i:02}.txt" for i in range(UPLOADS)]
    contents = [f"tus upload {i}\n".encode() * (i + 1) for i in range(UPLOADS)]
    with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
        responses = list(
            pool.map(
                lambda i: tus_client.upload(fresh_server.url, names[i], contents[i]),
                range(UPLOADS),
            )
        )
    assert [r.status_code for r in responses] == [204] * UPLOADS, [
        r.text for r in responses if r.status_code != 204
    ]
    ids = {r.headers["Trove-Asset-Id"] for r in responses}
    assert len(ids) == UPLOADS
    folder = tmp_path / "data" / "uploads" / "owner"
    stored = sorted(p.read_bytes() for p in folder.iterdir())
    assert stored == sorted(contents)  # five files named alike: all kept, none overwritten
    assert len([p for p in folder.iterdir() if p.name.startswith("same name")]) == 5
    listed = fresh_server.api("/api/dam/assets?limit=100")["items"]
    assert {a["id"] for a in listed if a["asset_type"] != "collection"} == ids
    for asset_id in ids:
        assert fresh_server.api(f"/api/dam/assets/{asset_id}")["status"] != "uploading"
