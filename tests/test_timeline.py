"""Where an asset sits on the timeline: its capture time when the file records one, else the
file's modification time; never the moment Trove happened to index it. Both databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.media import write_png
from tests.pipeline_media import write_photo
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.domain.timeline import TimelineSource, date_in_folders, date_in_name, place
from trove.pipeline.processors.metadata import capture
from trove.services.container import Services
from trove.services.scanner import ScanService
from trove.sync.path_sync import PathSync

SYSTEM = Viewer.system()

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
    items = services.assets.list(AssetFilters(limit=100), viewer=SYSTEM).items
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
    assert (
        services.assets.list(AssetFilters(status=["processing"]), viewer=SYSTEM).items == []
    )  # metadata ran
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


LATEST = datetime(2026, 12, 1, 12, 0, 0)

NAMES = [
    ("IMG_20190814_153012.jpg", "2019-08-14 15:30:12"),
    ("VID_20200102_030405.mp4", "2020-01-02 03:04:05"),
    ("PXL_20210102_030405123.jpg", "2021-01-02 03:04:05"),
    ("PXL_20210102_030405123.MP.jpg", "2021-01-02 03:04:05"),
    ("IMG-20190814-WA0001.jpg", "2019-08-14 00:00:00"),
    ("VID-20180301-WA0042.mp4", "2018-03-01 00:00:00"),
    ("WhatsApp Image 2022-05-06 at 07.08.09.jpeg", "2022-05-06 07:08:09"),
    ("Screenshot_20190814-153012.png", "2019-08-14 15:30:12"),
    ("Screenshot_2019-08-14-15-30-12.png", "2019-08-14 15:30:12"),
    ("Screenshot 2023-02-03 at 14.15.16.png", "2023-02-03 14:15:16"),
    ("Screen Shot 2017-11-12 at 3.04.05 PM.png", "2017-11-12 15:04:05"),
    ("2016-07-08 09.10.11.jpg", "2016-07-08 09:10:11"),
    ("20150607_080910.jpg", "2015-06-07 08:09:10"),
    ("PANO_20140506_070809.jpg", "2014-05-06 07:08:09"),
    ("photo_2024-01-02_03-04-05.jpg", "2024-01-02 03:04:05"),
    ("signal-2025-03-04-050607.jpg", "2025-03-04 05:06:07"),
    ("DJI_20230814153012_0001_D.JPG", "2023-08-14 15:30:12"),
    ("scan_2001.03.04.tif", "2001-03-04 00:00:00"),
    ("IMG_1234.JPG", None),
    ("DSC01234.JPG", None),
    ("1920x1080_wallpaper.png", None),
    ("IMG_20191345_120000.jpg", None),  # month 13: not a date
    ("IMG_20991231_000000.jpg", None),  # later than the scan: not a date
    ("report-20190230.pdf", None),  # 30 February
]


@pytest.mark.parametrize(("name", "expected"), NAMES)
def test_a_file_name_gives_its_date_and_time_when_it_holds_a_real_one(name, expected):
    found = date_in_name(name, latest=LATEST)
    assert (found.strftime("%Y-%m-%d %H:%M:%S") if found else None) == expected


@pytest.mark.parametrize(
    ("folders", "expected"),
    [
        ("Photos/2019-08-14 Trip", "2019-08-14"),
        ("2019_08_14", "2019-08-14"),
        ("Holidays/2018-07 Greece/day one", "2018-07-01"),
        ("archive/2012/03", "2012-03-01"),
        ("Photos/Trip to Rome", None),
        ("2019", None),
    ],
)
def test_a_folder_name_dates_the_files_below_it(folders, expected):
    found = date_in_folders(folders, latest=LATEST)
    assert (found.strftime("%Y-%m-%d") if found else None) == expected


def test_the_name_wins_over_the_folder_and_the_folder_over_the_mtime():
    mtime = datetime(2020, 1, 1)
    assert place("2019-08-14 Trip/IMG-20190815-WA0001.jpg", mtime=mtime, seen_at=LATEST) == (
        datetime(2019, 8, 15),
        TimelineSource.FILENAME,
    )
    assert place("2019-08-14 Trip/beach.jpg", mtime=mtime, seen_at=LATEST) == (
        datetime(2019, 8, 14),
        TimelineSource.FOLDER,
    )
    assert place("misc/beach.jpg", mtime=mtime, seen_at=LATEST).source == TimelineSource.MTIME


def test_undated_files_sort_last_apart_from_the_current_month_and_names_date_copied_files(
    services, tmp_path
):
    library = tmp_path / "library"
    write_png(library / "IMG-20190814-WA0001.png")  # copied in today: its mtime is now
    write_png(library / "2018-07-01 Beach" / "sand.png")
    aged(write_png(library / "old.png"))
    future = write_png(library / "from the future.png")
    os.utime(future, (4102444800, 4102444800))  # 2100: a clock that cannot be true
    epoch = write_png(library / "epoch.png")
    os.utime(epoch, (0, 0))
    services.library.scan_and_process([str(library)], wait=True)
    items = [
        (a["filename"], a["timeline_at"], a["timeline_source"])
        for a in services.assets.list(AssetFilters(limit=100), viewer=SYSTEM).items
        if a["asset_type"] != "collection"
    ]
    assert items[:3] == [
        ("IMG-20190814-WA0001.png", "2019-08-14T00:00:00Z", "filename"),
        ("old.png", "2019-05-04T03:02:01Z", "mtime"),
        ("sand.png", "2018-07-01T00:00:00Z", "folder"),
    ]
    assert sorted(items[3:]) == [
        ("epoch.png", None, "none"),
        ("from the future.png", None, "none"),
    ]
    this_month = datetime.now(UTC).strftime("%Y-%m")
    assert not [name for name, at, _ in items if at and at.startswith(this_month)]
    files = AssetFilters(type=["image"])
    assert services.assets.timeline(files, Viewer.system()) == {  # the scrubber's rail
        "months": [
            {"month": "2019-08", "count": 1},
            {"month": "2019-05", "count": 1},
            {"month": "2018-07", "count": 1},
        ],
        "undated": 2,
        "estimated": False,
    }
    stranger = Viewer(user_id="someone else")
    assert services.assets.timeline(files, stranger) == {
        "months": [],
        "undated": 0,
        "estimated": False,
    }


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (
            {"EXIF:DateTimeOriginal": "2021:08:09 10:11:12", "EXIF:OffsetTimeOriginal": "+02:00"},
            ("2021-08-09 08:11:12", "exif"),
        ),
        (  # no offset tag: the camera clock against the GPS clock says UTC+9
            {
                "EXIF:DateTimeOriginal": "2021:08:09 10:11:12",
                "Composite:GPSDateTime": "2021:08:09 01:11:10Z",
            },
            ("2021-08-09 01:11:12", "exif"),
        ),
        ({"EXIF:DateTimeOriginal": "2021:08:09 10:11:12"}, ("2021-08-09 10:11:12", "exif")),
        ({"XMP:DateTimeOriginal": "2021:08:09 10:11:12-05:00"}, ("2021-08-09 15:11:12", "xmp")),
        (
            {
                "QuickTime:CreationDate": "2021:08:09 10:11:12+02:00",
                "QuickTime:CreateDate": "2021:08:09 08:11:12",
            },
            ("2021-08-09 08:11:12", "quicktime"),
        ),
        ({"QuickTime:CreateDate": "0000:00:00 00:00:00"}, None),
        ({"PDF:CreateDate": "2020:01:02 03:04:05+01:00"}, ("2020-01-02 02:04:05", "document")),
    ],
)
def test_a_capture_time_is_read_in_utc_when_its_zone_is_known_with_the_group_it_came_from(
    tags, expected
):
    found = capture(tags)
    assert (
        (found.at.strftime("%Y-%m-%d %H:%M:%S"), str(found.source)) if found else None
    ) == expected


def test_the_migration_places_files_indexed_before_it_by_their_names_and_keeps_capture_times(
    database_url,
):
    from sqlalchemy import MetaData, insert

    from tests.migrating import migrate_to
    from tests.test_migration_paths import _complete
    from trove.db.engine import make_engine
    from trove.db.migrate import ensure_schema
    from trove.db.models import OWNER_ID

    ensure_schema(database_url)
    migrate_to(database_url, "0008_accounts_and_access", down=True)
    today = datetime.now(UTC).replace(tzinfo=None)
    copied_today = int(today.timestamp() * 1e9)
    rows = {  # rel_path: (mtime_ns, captured_at)
        "phone/IMG-20190814-WA0001.jpg": (copied_today, None),
        "2018-07-01 Beach/sand.jpg": (copied_today, None),
        "old.png": (int(MODIFIED.timestamp() * 1e9), None),
        "taken.jpg": (copied_today, TAKEN),
        "epoch.png": (0, None),
    }
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            tables = MetaData()
            tables.reflect(connection, only=["roots", "assets"])
            roots, assets = tables.tables["roots"], tables.tables["assets"]
            root = {"id": "root-1", "path": "/photos", "name": "photos"}
            connection.execute(insert(roots), [_complete(roots, root)])
            for i, (rel_path, (mtime_ns, captured)) in enumerate(rows.items()):
                row = {
                    "id": f"asset-{i}",
                    "owner_id": OWNER_ID,
                    "root_id": "root-1",
                    "rel_path": rel_path,
                    "filename": rel_path.rpartition("/")[2],
                    "storage_urn": f"fs://local/photos/{rel_path}",
                    "asset_type": "image",
                    "mtime_ns": mtime_ns,
                    "captured_at": captured,
                    "timeline_at": captured or today,
                }
                connection.execute(insert(assets), [_complete(assets, row)])
        migrate_to(database_url, "0009_timeline_source")
        with engine.connect() as connection:
            placed = {
                rel: (at, source)
                for rel, at, source in connection.exec_driver_sql(
                    "SELECT rel_path, timeline_at, timeline_source FROM assets"
                )
            }
    finally:
        engine.dispose()

    def day(value: Any) -> str:
        return str(value)[:10]

    assert {rel: (day(at), source) for rel, (at, source) in placed.items()} == {
        "phone/IMG-20190814-WA0001.jpg": ("2019-08-14", "filename"),
        "2018-07-01 Beach/sand.jpg": ("2018-07-01", "folder"),
        "old.png": ("2019-05-04", "mtime"),
        "taken.jpg": ("2021-08-09", None),  # the metadata step's next version names its group
        "epoch.png": ("0001-01-01", "none"),
    }


def test_the_inspector_says_which_clock_placed_an_asset_and_when_none_did():
    from trove.ui.components.inspector import general_fields

    def timeline_row(asset: dict[str, Any]) -> Any:
        (row,) = [row for row in general_fields(asset) if row.label == "Timeline"]
        return row

    named = timeline_row({"timeline_at": "2019-08-14T00:00:00Z", "timeline_source": "filename"})
    assert (named.iso, named.note) == ("2019-08-14T00:00:00Z", "(from the file name)")
    undated = timeline_row({"timeline_at": None, "timeline_source": "none"})
    assert undated.text.startswith("Undated")
