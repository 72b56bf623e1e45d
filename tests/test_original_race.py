"""Serving an original while its path is swapped for a symlink to a file outside the library.

The service opens the file once, walking from the root's descriptor with O_NOFOLLOW, and the
response streams from that descriptor: whatever the swapper does between the check and the
read, the bytes served are the library's or nothing.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trove.config import Settings

pytestmark = pytest.mark.slow

# About 6 swaps a request, a fifth of the requests between swaps: 1,000 requests meet the
# swapped file and the swapped folder thousands of times.
REQUESTS = 1000
INSIDE = b"inside the library\n" * 64
SECRET = b"SECRET outside the library\n" * 64


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the race is the file system's. The database only finds the asset's row,
    the same on PostgreSQL, where the same requests took as long again."""
    return f"sqlite:///{tmp_path / 'data' / 'trove.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_hosts="testserver",
        auth=False,
        watch=False,  # the swaps must not turn the asset missing: every request gets through
        scavenger_interval=0,
        verify_interval=0,
    )


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "target.txt").write_bytes(INSIDE)
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "dir" / "target.txt").write_bytes(SECRET)
    return root


class Swapper(threading.Thread):
    """Swaps the file, then its folder, for a symlink to the outside and back, until stopped."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.outside = root.parent / "outside"
        self.stop = threading.Event()
        self.swaps = 0

    def run(self) -> None:
        target = self.root / "dir" / "target.txt"
        while not self.stop.is_set():
            _replace_with_symlink(target, self.outside / "secret.txt")
            _replace_with_file(target, INSIDE)
            folder = self.root / "dir"
            os.rename(folder, self.root / "dir.away")
            os.symlink(self.outside / "dir", folder)
            os.unlink(folder)
            os.rename(self.root / "dir.away", folder)
            self.swaps += 2


def _replace_with_symlink(path: Path, to: Path) -> None:
    temp = path.with_name(".swap-link")
    os.symlink(to, temp)
    os.rename(temp, path)


def _replace_with_file(path: Path, data: bytes) -> None:
    temp = path.with_name(".swap-file")
    temp.write_bytes(data)
    os.rename(temp, path)


def test_swapping_an_original_for_a_symlink_while_it_is_served_never_leaks_the_outside(
    settings, library
):
    from trove.app import create_app

    app = create_app(settings, roots=[str(library)])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.services.indexer.wait_idle(60)
        items = client.get("/api/dam/assets", params={"limit": 100}).json()["items"]
        (asset,) = [i for i in items if i["path"] == "dir/target.txt"]
        url = f"/api/dam/assets/{asset['id']}/file"
        swapper = Swapper(library)
        swapper.start()
        outcomes = {"inside": 0, "leaked": 0, "refused": 0}
        try:
            for n in range(REQUESTS):
                headers = {"Range": "bytes=0-99"} if n % 5 == 0 else {}
                response = client.get(url, headers=headers)
                if SECRET[:20] in response.content:
                    outcomes["leaked"] += 1
                elif response.status_code in (200, 206):
                    assert response.content in (INSIDE, INSIDE[:100])
                    outcomes["inside"] += 1
                else:
                    assert response.status_code in (404, 503), response.text
                    outcomes["refused"] += 1
        finally:
            swapper.stop.set()
            swapper.join(10)
    print(f"race: {REQUESTS} requests, {swapper.swaps} swaps, {outcomes}")
    assert swapper.swaps > 100
    assert outcomes["leaked"] == 0, outcomes
    assert outcomes["inside"] > 0, outcomes  # the file is still served between swaps
