"""Where an asset sits on the timeline: its capture time when the file records one, else the
file's modification time; never the moment Trove happened to index it. Both databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from tests.media import write_png
from tests.pipeline_media import write_photo
from trove.domain.filters import AssetFilters
from trove.services.container import Services
from trove.services.scanner import ScanService
from trove.sync.path_sync import PathSync

MODIFIED = datetime(2019, 5, 4, 3, 2, 1, tzinfo=UTC)
TAKEN = datetime(2021, 8, 9, 10, 11, 12)


@pytest.fixture
def services(settings) -> Iterator[Services]:
    services = Services.create(settings)
    yield services
    services.database.dispose()


def aged(path: Path) -> Path:
    os.utime(path, (MODIFIED.timestamp(), MODIFIED.timestamp()))
    return path


def timeline(services: Services) -> dict[str, str]:
    items = services.assets.list(AssetFilters(limit=100)).items
    return {a["filename"]: a["timeline_at"] for a in items if a["asset_type"] != "collection"}


def with_capture_time() -> Image.Exif:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = TAKEN.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    return exif


def test_a_png_without_exif_is_dated_by_its_mtime_and_a_photo_by_its_capture_time(
    services, tmp_path
):
    library = tmp_path / "library"
    aged(write_png(library / "no exif.png"))
    aged(write_photo(library / "taken.jpg", exif=with_capture_time()))
    services.library.scan_and_process([str(library)], wait=True)
    assert services.assets.list(AssetFilters(status=["processing"])).items == []  # metadata ran
    assert timeline(services) == {
        "no exif.png": "2019-05-04T03:02:01Z",
        "taken.jpg": "2021-08-09T10:11:12Z",
    }


def test_a_file_registered_live_by_the_watcher_path_is_dated_by_its_mtime(services, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    services.library.scan_and_process([str(library)], wait=True)
    png = aged(write_png(library / "arrived later.png"))
    PathSync(ScanService(services.settings, database=services.database)).register_path(png)
    services.library.pipeline().run_pending()
    assert timeline(services) == {"arrived later.png": "2019-05-04T03:02:01Z"}
