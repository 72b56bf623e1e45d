"""The driver layer: drivers registered through `register_asset_drivers` classify files, type
metadata namespaces (validated when users write them, published as JSON Schema) and create
virtual assets; a log entry is a note linked `related_to` its assets. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.driver_plugin import Review
from tests.media import write_jpeg
from trove.config import Settings
from trove.domain.access import Viewer
from trove.domain.enums import AssetType
from trove.domain.namespaces import ExifMeta
from trove.drivers.base import FileClaim
from trove.drivers.document import DocumentDriver
from trove.drivers.image import ImageDriver
from trove.drivers.manager import AssetDriverManager, DriverConflict
from trove.drivers.metadata import AssetSDK
from trove.drivers.other import OtherDriver
from trove.drivers.video import VideoDriver
from trove.services.assets import AssetPatch
from trove.services.container import Services
from trove.services.errors import Invalid

SYSTEM = Viewer.system()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    root.mkdir()
    write_jpeg(root / "photo.jpg")
    (root / "books.ledger").write_bytes(b"LEDGER 2026\x00\x01\x02\xff" * 100)
    return root


def _probe(codec: str) -> dict:
    return {"probe": {"streams": [{"type": "video", "codec": codec}]}}


def file_ids(client) -> dict[str, dict]:
    items = client.get("/api/dam/assets", params={"limit": 100}).json()["items"]
    return {a["filename"]: a for a in items if a["asset_type"] != "collection"}


def test_the_strongest_claim_wins_exact_mime_then_suffix_then_prefix():
    class ZipImages(ImageDriver):  # a refinement may claim more
        claims = FileClaim(mime_types=frozenset({"application/zip"}), mime_prefixes=("image/",))

    drivers = AssetDriverManager([ImageDriver(), VideoDriver(), DocumentDriver(), OtherDriver()])
    assert drivers.classify("image/heic", "x.heic") == AssetType.IMAGE
    assert drivers.classify("text/plain", "notes.txt") == AssetType.DOCUMENT
    assert drivers.classify("application/pdf", "a.pdf") == AssetType.DOCUMENT
    assert drivers.classify("application/zip", "a.zip") == AssetType.OTHER
    assert drivers.classify(None, "nothing") == AssetType.OTHER
    drivers.register_driver(ZipImages())
    assert drivers.classify("application/zip", "a.zip") == AssetType.IMAGE
    drivers.register_driver(ImageDriver())  # the refinement stays, whatever the order
    assert isinstance(drivers.get("image"), ZipImages)

    class AnotherImage(VideoDriver):
        asset_type = AssetType.IMAGE

    with pytest.raises(DriverConflict, match="two drivers"):
        drivers.register_driver(AnotherImage())


@pytest.fixture
def plugged(settings: Settings) -> Iterator[Services]:
    services = Services.create(replace(settings, plugins="tests.driver_plugin"))
    yield services
    services.database.dispose()


def test_a_plugin_driver_claims_its_files_and_validates_its_writable_namespace(plugged, library):
    plugged.scanner.scan(library)
    plugged.library.pipeline().run_pending()
    page = plugged.assets.list(_all_files(), viewer=SYSTEM)
    ledger = next(a for a in page.items if a["filename"] == "books.ledger")
    assert ledger["asset_type"] == AssetType.DOCUMENT  # OTHER without the plugin
    with pytest.raises(Invalid, match=r"metadata\.review\.stars"):
        plugged.assets.update(
            ledger["id"], AssetPatch(metadata={"review": {"stars": 9}}), viewer=SYSTEM
        )
    saved = plugged.assets.update(
        ledger["id"], AssetPatch(metadata={"review": {"stars": 4}}), viewer=SYSTEM
    )
    sdk = AssetSDK(plugged.drivers.metadata)
    assert sdk.get_metadata(saved, "review", Review) == Review(stars=4)
    namespaces = {s["namespace"] for s in plugged.drivers.describe()["items"]}
    assert {"review", "exif", "geo", "log_entry"} <= namespaces


def _all_files():  # type: ignore[no-untyped-def]
    from trove.domain.filters import FILE_TYPES, AssetFilters

    return AssetFilters(type=list(FILE_TYPES))


def test_without_the_plugin_an_unclaimed_file_is_other_and_typed_reads_use_the_schema(client):
    files = file_ids(client)
    assert files["books.ledger"]["asset_type"] == AssetType.OTHER
    photo = client.get(f"/api/dam/assets/{files['photo.jpg']['id']}").json()
    services = client.app.state.services
    exif = AssetSDK(services.drivers.metadata).get_metadata(photo, "exif", ExifMeta)
    assert isinstance(exif, ExifMeta)  # an absent namespace reads as the schema's defaults


def test_metadata_patches_are_validated_by_their_namespace_schema_with_the_field_named(client):
    photo_id = file_ids(client)["photo.jpg"]["id"]
    url = f"/api/dam/assets/{photo_id}"
    bad = client.patch(url, json={"metadata": {"gallery": {"rating": 9}}})
    assert bad.status_code == 422 and "metadata.gallery.rating" in bad.json()["detail"]
    read_only = client.patch(url, json={"metadata": {"log_entry": {"text": "x"}}})
    assert read_only.status_code == 422 and "read-only" in read_only.json()["detail"]
    good = client.patch(url, json={"metadata": {"gallery": {"rating": 4}}})
    assert good.status_code == 200 and good.json()["metadata"]["gallery"] == {"rating": 4}
    free = client.patch(url, json={"metadata": {"my_notes": {"anything": [1, 2]}}})
    assert free.status_code == 200  # a namespace nobody registered is the user's own


def test_the_schemas_endpoint_gives_each_namespace_and_virtual_type_as_json_schema(client):
    body = client.get("/api/dam/schemas").json()
    by_name = {s["namespace"]: s for s in body["items"]}
    assert by_name["gallery"]["writable"] and not by_name["exif"]["writable"]
    assert "FNumber" in by_name["exif"]["json_schema"]["properties"]
    virtual = {v["asset_type"]: v["json_schema"] for v in body["virtual_types"]}
    assert virtual["log_entry"]["required"] == ["text"]


def test_a_log_entry_is_a_ready_virtual_note_related_to_the_assets_it_names(client):
    files = file_ids(client)
    photo_id = files["photo.jpg"]["id"]
    made = client.post(
        "/api/dam/assets/virtual",
        json={
            "asset_type": "log_entry",
            "data": {
                "text": "Printed for the exhibition\nA3, matte",
                "related_to": [photo_id],
                "at": "2026-03-04T10:30:00+01:00",
            },
        },
    )
    assert made.status_code == 201, made.text
    note = made.json()
    assert note["is_virtual"] and note["category"] == "virtual" and note["status"] == "ready"
    assert note["storage_urn"] == f"virtual://log_entry/{note['id']}"
    assert note["title"] == "Printed for the exhibition"
    assert note["metadata"]["log_entry"]["at"] == "2026-03-04T09:30:00Z"
    assert note["timeline_at"].startswith("2026-03-04T09:30")
    neighbours = client.get(f"/api/dam/graph/neighbors/{photo_id}").json()
    assert note["id"] in str(neighbours)
    assert client.get("/api/dam/assets", params={"type": "log_entry"}).json()["items"]
    found = client.get("/api/dam/assets", params={"q": "matte"}).json()["items"]
    assert [item["id"] for item in found] == [note["id"]]  # its text, searchable at once


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"asset_type": "log_entry", "data": {}}, "data.text"),
        ({"asset_type": "log_entry", "data": {"text": "  "}}, "data.text"),
        ({"asset_type": "log_entry", "data": {"text": "x", "related_to": ["nope"]}}, "nope"),
        ({"asset_type": "log_entry", "data": {"text": "x", "colour": 1}}, "data.colour"),
        ({"asset_type": "image", "data": {}}, "asset_type"),
    ],
)
def test_a_virtual_asset_that_does_not_fit_its_driver_is_refused_naming_the_field(
    client, body, named
):
    refused = client.post("/api/dam/assets/virtual", json=body)
    assert refused.status_code == 422 and named in refused.json()["detail"]


@pytest.mark.parametrize(
    ("asset", "plays"),
    [
        ({"asset_type": "video", "mime_type": "video/x-msvideo"}, False),
        ({"asset_type": "video", "mime_type": "video/x-matroska"}, False),
        ({"asset_type": "video", "mime_type": "video/x-ms-wmv"}, False),
        (
            {"asset_type": "video", "mime_type": "video/quicktime", "metadata": _probe("prores")},
            False,
        ),
        (
            {"asset_type": "video", "mime_type": "video/quicktime", "metadata": _probe("hevc")},
            False,
        ),
        ({"asset_type": "video", "mime_type": "video/quicktime", "metadata": _probe("h264")}, True),
        ({"asset_type": "video", "mime_type": "video/mp4", "metadata": _probe("h264")}, True),
        ({"asset_type": "video", "mime_type": "video/webm"}, True),
        ({"asset_type": "image", "mime_type": "image/tiff"}, False),
        ({"asset_type": "image", "mime_type": "image/heic"}, False),
        ({"asset_type": "image", "mime_type": "image/x-canon-cr2"}, False),
        ({"asset_type": "image", "mime_type": "image/jpeg"}, True),
    ],
)
def test_the_viewer_uses_the_web_copy_exactly_where_a_browser_cannot_play_the_original(
    asset, plays
):
    from trove.ui.components.stage import browser_plays, playable_url

    asset = {"id": "orig", **asset, "web_copy": {"id": "copy"}}
    assert browser_plays(asset) is plays
    assert playable_url(asset) == f"/api/dam/assets/{'orig' if plays else 'copy'}/file"


def test_camera_values_are_formatted_as_photographers_write_them():
    from trove.ui.components.typed_metadata import camera_summary
    from trove.ui.format import aperture, coordinates, exposure, millimetres

    assert [exposure(v) for v in (1 / 250, 1 / 8, 0.5, 2.0, 30.0)] == [
        "1/250 s",
        "1/8 s",
        "0.5 s",
        "2 s",
        "30 s",
    ]
    assert [aperture(v) for v in (1.8, 2.0, 11.0)] == ["f/1.8", "f/2", "f/11"]
    assert millimetres(50.0) == "50 mm"
    assert coordinates(48.858222, -2.2945) == "48.85822° N, 2.29450° W"
    exif = ExifMeta.model_validate(
        {
            "Make": "NIKON CORPORATION",
            "Model": "NIKON D850",
            "ExposureTime": "1/250",
            "FNumber": 1.8,
        }
    )
    assert camera_summary(exif) == "NIKON D850 · f/1.8 · 1/250 s"
    with_place = "NIKON D850 · f/1.8 · 1/250 s · Kyoto, Japan"
    assert camera_summary(exif, place="Kyoto, Japan") == with_place
    assert camera_summary(ExifMeta(), place="Kyoto, Japan") == "Kyoto, Japan"
    assert ExifMeta.model_validate({"ExposureTime": "fast"}).exposure_time is None
    assert camera_summary(ExifMeta()) is None
