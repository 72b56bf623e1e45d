"""Sidecars in: XMP written by digiKam, darktable and Lightroom, and Google Takeout's JSON, read
as their pictures' metadata (tags, rating, label, title, face regions, capture time, place),
never listed as assets; a changed sidecar is read again; what a person edits in Trove wins and
the sidecar's bytes are never touched. Both databases, but for which files count as
sidecars (SQLite)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.migrating import migrate_to
from tests.pipeline_media import write_photo
from trove.db.models import AssetStep
from trove.domain import sidecars
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.repositories.people import PeopleRepository
from trove.services.assets import AssetPatch
from trove.services.container import Services
from trove.services.scanner import ScanService
from trove.sync.path_sync import PathSync

SYSTEM = Viewer.system()
RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'

# As digiKam 8 writes it (Exiv2): its TagsList, dc:subject, lr:hierarchicalSubject and MWG
# face regions (centre x, y and size, normalized).
DIGIKAM = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF {RDF}>
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
   xmp:Rating="{{rating}}"
   digiKam:ColorLabel="1">
   <digiKam:TagsList>
    <rdf:Seq>
     <rdf:li>Places/France/Paris</rdf:li>
     <rdf:li>People/Alice Martin</rdf:li>
    </rdf:Seq>
   </digiKam:TagsList>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Paris</rdf:li>
     <rdf:li>Alice Martin</rdf:li>{{extra}}
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|France|Paris</rdf:li>
     <rdf:li>People|Alice Martin</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Eiffel at dusk</rdf:li></rdf:Alt></dc:title>
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="640" stDim:h="480" stDim:unit="pixel"/>
    <mwg-rs:RegionList>
     <rdf:Bag>
      <rdf:li>
       <rdf:Description mwg-rs:Name="Alice Martin" mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3"
         stArea:unit="normalized"/>
       </rdf:Description>
      </rdf:li>
      <rdf:li>
       <rdf:Description mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="0.2" stArea:y="0.25" stArea:w="0.1" stArea:h="0.1"
         stArea:unit="normalized"/>
       </rdf:Description>
      </rdf:li>
     </rdf:Bag>
    </mwg-rs:RegionList>
   </mwg-rs:Regions>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""

# As darktable 4 writes `IMG.jpg.xmp`: its edit history, and its own `darktable|...` tags
# beside the user's keywords.
DARKTABLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF {RDF}>
  <rdf:Description rdf:about=""
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
   exif:DateTimeOriginal="2021:07:14 18:03:22.000"
   xmp:Rating="2"
   xmpMM:DerivedFrom="beach.jpg"
   darktable:import_timestamp="63794456701000000"
   darktable:xmp_version="5"
   darktable:history_end="1">
   <darktable:masks_history><rdf:Seq/></darktable:masks_history>
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:num="0" darktable:operation="exposure" darktable:enabled="1"
      darktable:modversion="6" darktable:params="0000000000000000000080c0"
      darktable:multi_name="" darktable:multi_priority="0" darktable:blendop_version="11"
      darktable:blendop_params="gz11eJxjYGBgYAFiCQYYOOHEgAZY0QWgQBKIX4Fwqsz+1ag0AAFAAYA="/>
    </rdf:Seq>
   </darktable:history>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>beach</rdf:li>
     <rdf:li>darktable|format|jpg</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>holiday|beach</rdf:li>
     <rdf:li>darktable|format|jpg</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

# As Lightroom Classic writes `IMG.xmp` beside a picture: hierarchical keywords, rating,
# colour label, title and caption, photoshop: fields.
LIGHTROOM = f"""<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000">
 <rdf:RDF {RDF}>
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   xmp:CreatorTool="Adobe Photoshop Lightroom Classic 12.0 (Windows)"
   xmp:Rating="5"
   xmp:Label="Red"
   photoshop:Headline="Harbour"
   photoshop:City="Kyoto"
   photoshop:DateCreated="2019-08-14T15:30:12"
   crs:Version="15.0"
   crs:Exposure2012="+0.35">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Boats at noon</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Fishing boats in the harbour</rdf:li>
    </rdf:Alt></dc:description>
   <dc:subject><rdf:Bag><rdf:li>boats</rdf:li><rdf:li>harbour</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag><rdf:li>Travel|Japan|Kyoto</rdf:li><rdf:li>boats</rdf:li></rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def takeout(taken: int, *, lat: float = 0.0, lon: float = 0.0, description: str = "") -> str:
    """Google Takeout's JSON beside a photo (2024 form)."""
    geo = {"latitude": lat, "longitude": lon, "altitude": 0.0, "latitudeSpan": 0.0}
    return json.dumps({
        "title": "IMG_4.jpg", "description": description, "imageViews": "3",
        "creationTime": {"timestamp": "1700000000", "formatted": "14 Nov 2023, 22:13:20 UTC"},
        "photoTakenTime": {"timestamp": str(taken), "formatted": "..."},
        "geoData": geo, "geoDataExif": geo, "url": "https://photos.google.com/photo/x",
        "googlePhotosOrigin": {"mobileUpload": {"deviceType": "ANDROID_PHONE"}},
    })  # fmt: skip


def test_sidecar_names_and_the_pictures_they_describe():
    assert sidecars.takeout_target("IMG_1.jpg.json") == "IMG_1.jpg"
    assert sidecars.takeout_target("IMG_1.jpg.supplemental-metadata.json") == "IMG_1.jpg"
    assert sidecars.takeout_target("IMG_1.jpg.supplemental-metad.json") == "IMG_1.jpg"
    assert sidecars.takeout_target("IMG_1.jpg(1).json") == "IMG_1(1).jpg"
    assert sidecars.takeout_target("IMG_1.jpg.supplemental-metadata(2).json") == "IMG_1(2).jpg"
    assert sidecars.takeout_target("package.json") is None
    assert sidecars.takeout_target("IMG_1.jpg.settings.json") is None
    names = ["IMG_1.CR2", "IMG_1.jpg", "IMG_1.xmp", "IMG_2.jpg", "IMG_2.jpg.xmp", "preset.xmp"]
    assert sidecars.sidecar_map(names) == {
        "IMG_1.CR2": ["IMG_1.xmp"],
        "IMG_1.jpg": ["IMG_1.xmp"],
        "IMG_2.jpg": ["IMG_2.jpg.xmp"],
    }
    assert sidecars.images_of("preset.xmp", names) == []  # a Lightroom preset is a file
    assert sidecars.images_of("IMG_5.jpg.json", ["IMG_5.jpg", "IMG_5-edited.jpg"]) == [
        "IMG_5.jpg",
        "IMG_5-edited.jpg",
    ]
    # Names Takeout cut at 46 characters, inside the picture's own name.
    shot, long = "Screenshot_20230101-104435_Samsung Internet.jpg", f"IMG_20190714_{'1' * 28}.jpg"
    cut = {
        "Screenshot_20230101-104435_Samsung Internet.jp.json": [shot],
        f"{long}..json": [long],
        "Screenshot_20230101-104435_Samsung Internet.jp(1).json": [
            "Screenshot_20230101-104435_Samsung Internet(1).jpg"
        ],
    }
    beside = [shot, long, "Screenshot_20230101-104435_Samsung Internet(1).jpg", *cut]
    for name, pictures in cut.items():
        assert sidecars.kind_of(name) == sidecars.TAKEOUT
        assert sidecars.images_of(name, beside) == pictures
    alone = "a_data_file_whose_name_is_forty_six_characters.json"
    assert sidecars.images_of(alone, [*beside, alone]) == []  # no picture it could describe


@pytest.mark.databases("sqlite")
def test_takeout_json_whose_name_was_cut_short_is_read_into_its_picture(services, tmp_path):
    root = tmp_path / "library"
    shot = write_photo(root / "Screenshot_20230101-104435_Samsung Internet.jpg", seed=6)
    (root / "Screenshot_20230101-104435_Samsung Internet.jp.json").write_text(
        takeout(1563125002, description="A cut-short name")
    )
    long = write_photo(root / f"IMG_20190714_{'1' * 28}.jpg", seed=7)
    (root / f"{long.name}..json").write_text(takeout(1600000000))
    services.library.scan_and_process([str(root)], wait=True)
    assets = _by_name(services)
    assert sorted(assets) == sorted(["library", shot.name, long.name])  # the JSON: no assets
    assert assets[shot.name]["captured_at"] == "2019-07-14T17:23:22Z"
    assert assets[shot.name]["description"] == "A cut-short name"
    assert (assets[long.name]["captured_at"], assets[long.name]["timeline_source"]) == (
        "2020-09-13T12:26:40Z",
        "takeout",
    )


@pytest.fixture
def services(settings) -> Iterator[Services]:
    services = Services.create(settings)
    yield services
    services.database.dispose()


def _library(root: Path) -> dict[str, Path]:
    files = {
        "digikam": write_photo(root / "digikam" / "IMG_1.jpg", seed=1),
        "darktable": write_photo(root / "darktable" / "beach.jpg", seed=2),
        "lightroom": write_photo(root / "lightroom" / "IMG_3.jpg", seed=3),
        "takeout": write_photo(root / "takeout" / "IMG_4.jpg", seed=4),
        "takeout dup": write_photo(root / "takeout" / "IMG_4(1).jpg", seed=5),
    }
    (root / "digikam" / "IMG_1.jpg.xmp").write_text(DIGIKAM.format(rating=3, extra=""))
    (root / "darktable" / "beach.jpg.xmp").write_text(DARKTABLE)
    (root / "lightroom" / "IMG_3.xmp").write_text(LIGHTROOM)
    (root / "lightroom" / "preset.xmp").write_text(LIGHTROOM)  # no picture: a file of its own
    kyoto = takeout(1563125002, lat=35.0116, lon=135.7681, description="Temple garden")
    (root / "takeout" / "IMG_4.jpg.supplemental-metadata.json").write_text(kyoto)
    (root / "takeout" / "IMG_4.jpg(1).json").write_text(takeout(1600000000))
    return files


def _by_name(services: Services) -> dict[str, dict]:
    items = services.assets.list(AssetFilters(), viewer=SYSTEM).items
    return {a["filename"]: services.assets.get(a["id"], viewer=SYSTEM) for a in items}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sidecars_of_each_tool_are_read_into_their_pictures_and_a_trove_edit_wins(
    services, tmp_path
):
    root = tmp_path / "library"
    _library(root)
    services.library.scan_and_process([str(root)], wait=True)
    assets = _by_name(services)

    # Sidecars are not assets; a lone .xmp is.
    assert not [n for n in assets if n.endswith(".json") or n.endswith(".jpg.xmp")]
    assert "IMG_3.xmp" not in assets and "preset.xmp" in assets

    digikam = assets["IMG_1.jpg"]
    assert set(digikam["tags"]) == {
        "Paris", "Alice Martin", "Places/France/Paris", "People/Alice Martin"
    }  # fmt: skip
    assert digikam["metadata"]["gallery"] == {"rating": 3}
    assert digikam["title"] == "Eiffel at dusk"
    assert digikam["metadata"]["xmp_sidecar"]["tools"] == ["digiKam"]
    regions = services.regions.regions_of(digikam["id"], viewer=SYSTEM)
    assert sorted((r["title"] or "", r["depicts"]) for r in regions) == [
        ("", []),
        ("Alice Martin", ["Alice Martin"]),
    ]
    named = next(r for r in regions if r["title"])
    assert named["bbox"] == [0.4, 0.25, 0.2, 0.3]  # MWG's centre made a top-left corner

    darktable = assets["beach.jpg"]
    assert set(darktable["tags"]) == {"beach", "holiday/beach"}  # not darktable's own
    assert darktable["metadata"]["gallery"]["rating"] == 2
    assert darktable["timeline_source"] == "sidecar"
    assert darktable["captured_at"] == "2021-07-14T18:03:22Z"

    lightroom = assets["IMG_3.jpg"]
    assert set(lightroom["tags"]) == {"boats", "harbour", "Travel/Japan/Kyoto"}
    assert lightroom["metadata"]["gallery"] == {"rating": 5, "label": "Red"}
    assert (lightroom["title"], lightroom["description"]) == (
        "Boats at noon",
        "Fishing boats in the harbour",
    )

    photo, dup = assets["IMG_4.jpg"], assets["IMG_4(1).jpg"]
    assert (photo["captured_at"], photo["timeline_source"]) == ("2019-07-14T17:23:22Z", "takeout")
    assert dup["captured_at"] == "2020-09-13T12:26:40Z"
    assert photo["metadata"]["place"]["city"] == "Kyoto"
    assert photo["description"] == "Temple garden"
    assert "geo" not in dup["metadata"] or not dup["metadata"]["geo"]  # 0, 0: no position

    found = services.assets.list(AssetFilters(q="dusk"), viewer=SYSTEM).items
    assert [a["filename"] for a in found] == ["IMG_1.jpg"]
    found = services.assets.list(AssetFilters(tag=["holiday/beach"]), viewer=SYSTEM).items
    assert [a["filename"] for a in found] == ["beach.jpg"]

    # A person's edits in Trove: a keyword removed, a title of their own, a rating.
    sidecar = root / "digikam" / "IMG_1.jpg.xmp"
    kept = [t for t in digikam["tags"] if t != "Paris"]
    services.assets.update(digikam["id"], AssetPatch(tags=kept, title="Mine"), viewer=SYSTEM)
    services.assets.update(
        lightroom["id"], AssetPatch(metadata={"gallery": {"rating": 1}}), viewer=SYSTEM
    )

    # digiKam changes the sidecar: a new keyword, another rating. A rescan reads it again.
    sidecar.write_text(DIGIKAM.format(rating=5, extra="\n     <rdf:li>Eiffel Tower</rdf:li>"))
    os.utime(sidecar, ns=(1_800_000_000 * 10**9, 1_800_000_000 * 10**9))
    # preset.xmp, listed as a file, gets its picture: it is read into it and leaves the list.
    write_photo(root / "lightroom" / "preset.jpg", seed=6)
    before = {p: _digest(p) for p in root.rglob("*") if p.is_file()}
    services.library.scan_and_process([str(root)], wait=True)
    assets = _by_name(services)
    assert "preset.xmp" not in assets and "boats" in assets["preset.jpg"]["tags"]
    digikam = assets["IMG_1.jpg"]
    assert "Eiffel Tower" in digikam["tags"] and "Paris" not in digikam["tags"]
    assert digikam["title"] == "Mine"
    assert digikam["metadata"]["gallery"]["rating"] == 5
    assert assets["IMG_3.jpg"]["metadata"]["gallery"]["rating"] == 1
    assert len(services.regions.regions_of(digikam["id"], viewer=SYSTEM)) == 2  # not doubled
    assert {p: _digest(p) for p in root.rglob("*") if p.is_file()} == before

    # The watcher's path: a Lightroom sidecar edited, then one deleted.
    lr_sidecar = root / "lightroom" / "IMG_3.xmp"
    lr_sidecar.write_text(LIGHTROOM.replace("<rdf:li>harbour</rdf:li>", ""))
    sync = PathSync(ScanService(services.settings, database=services.database))
    assert sync.sync([str(lr_sidecar)]).changed == 1
    (root / "darktable" / "beach.jpg.xmp").unlink()
    assert sync.sync([str(root / "darktable" / "beach.jpg.xmp")]).changed == 1
    no_regions = DIGIKAM.format(rating=5, extra="")
    sidecar.write_text(no_regions[: no_regions.index("<mwg-rs:Regions")] + _END)
    assert sync.sync([str(sidecar)]).changed == 1
    services.library.scan_and_process([str(root)], wait=True)
    assets = _by_name(services)
    assert set(assets["IMG_3.jpg"]["tags"]) == {"boats", "Travel/Japan/Kyoto"}
    assert assets["beach.jpg"]["tags"] == []
    assert "IMG_3.xmp" not in assets and "beach.jpg.xmp" not in assets
    assert services.regions.regions_of(digikam["id"], viewer=SYSTEM) == []
    with services.database.session() as session:
        assert PeopleRepository(session).depicted_people([digikam["id"]]) == []
        assert PeopleRepository(session).people() == []  # made from the sidecar, now unused


_END = """  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


@pytest.mark.databases("sqlite")
def test_a_sidecar_that_is_a_symlink_or_a_fifo_is_not_read(settings, tmp_path):
    """Like originals (storage/originals.py), a sidecar is read only as a regular file: a
    symlink beside a picture does not lead Trove to a file outside the library, and a FIFO
    named like a sidecar does not hang the pipeline."""
    from trove.pipeline.processor import AssetView
    from trove.pipeline.processors.sidecar import SidecarProcessor

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text(takeout(1563125002, description="secret text"))
    (outside / "secret.xmp").write_text(LIGHTROOM)
    root = tmp_path / "library"
    linked = write_photo(root / "IMG_1.jpg", seed=1)
    (root / "IMG_1.jpg.json").symlink_to(outside / "secret.json")
    (root / "IMG_1.jpg.xmp").symlink_to(outside / "secret.xmp")
    piped = write_photo(root / "IMG_2.jpg", seed=2)
    os.mkfifo(root / "IMG_2.jpg.json")

    def view(path: Path, asset_id: str) -> AssetView:
        st = path.stat()
        return AssetView(
            id=asset_id, path=path, size=st.st_size, mtime_ns=st.st_mtime_ns,
            mime_type="image/jpeg", asset_type="image", hash="0" * 64, filename=path.name,
        )  # fmt: skip

    processor = SidecarProcessor(settings)
    done: dict = {}
    worker = threading.Thread(
        target=lambda: done.update(processor.process_batch([view(linked, "a"), view(piped, "b")])),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=20)
    if worker.is_alive():  # let the stuck open return before failing
        with open(root / "IMG_2.jpg.json", "w"):
            pass
        worker.join(timeout=5)
    processor.close()
    assert not worker.is_alive() and done, "reading a FIFO named like a sidecar hung"
    assert "secret" not in json.dumps(done["a"].metadata, default=str)
    assert "Boats" not in json.dumps(done["a"].metadata, default=str)
    assert done["a"].found is None or not done["a"].found.tags


def test_an_xmp_sidecar_exiftool_could_not_read_keeps_what_it_gave(tmp_path):
    """A picture with both a Takeout JSON and an XMP: when ExifTool fails on the XMP (a
    timeout, a file being rewritten), the step fails and keeps what it read before, rather
    than reading "no keywords, no regions" and dropping the tags and face regions (and the
    names people gave them) that came from the XMP."""
    from trove.pipeline.processor import AssetView
    from trove.pipeline.processors.sidecar import _result
    from trove.tools.run import ToolError

    photo = write_photo(tmp_path / "IMG_4.jpg", seed=4)
    xmp = tmp_path / "IMG_4.jpg.xmp"
    xmp.write_text(DIGIKAM.format(rating=3, extra=""))
    json_file = tmp_path / "IMG_4.jpg.json"
    json_file.write_text(takeout(1563125002))
    asset = AssetView(
        id="a", path=photo, size=1, mtime_ns=1, mime_type="image/jpeg", asset_type="image",
        hash="0" * 64, filename=photo.name, meta={sidecars.NAMESPACE: {"tags": ["Paris"]}},
    )  # fmt: skip
    result = _result(asset, [xmp, json_file], {xmp: ToolError("exiftool timed out")})
    assert result.status == "failed" and "timed out" in (result.message or "")
    assert result.found is None


def _steps(services: Services, asset_id: str) -> dict[str, AssetStep]:
    with services.database.session() as session:
        rows = session.query(AssetStep).filter(AssetStep.asset_id == asset_id).all()
        return {row.step: row for row in rows}


def _rewrite(sidecar: Path, content: str | bytes, *, at: int) -> None:
    """A sidecar another tool rewrote, with a mtime of its own (a rescan sees it changed
    even when the size stays)."""
    if isinstance(content, str):
        content = content.encode()
    sidecar.write_bytes(content)
    os.utime(sidecar, ns=(at * 10**9, at * 10**9))


# An entity that grows a thousandfold at each level ("billion laughs"): its DOCTYPE pushes
# the packet past where ExifTool looks for XMP, so it reads the file as text.
_LAUGHS = "".join(
    [
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 "lol">\n',
        *(f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">\n' for n in range(1, 10)),
        "]>\n",
    ]
)


def test_a_damaged_xmp_sidecar_fails_its_step_and_keeps_what_was_read_and_edited(
    services, tmp_path
):
    """A sidecar cut short (a copy interrupted, a tool that crashed while writing) or one that
    ExifTool does not read as XMP holds no keywords and no regions only because it was not
    read: the step fails and says why, and the tags, title, rating and face regions it gave
    before (and what a person did to them in Trove) are kept until it is readable again."""
    root = tmp_path / "library"
    photo = write_photo(root / "IMG_1.jpg", seed=1)
    sidecar = root / "IMG_1.jpg.xmp"
    good = DIGIKAM.format(rating=3, extra="")
    sidecar.write_text(good)
    services.library.scan_and_process([str(root)], wait=True)
    asset = _by_name(services)["IMG_1.jpg"]
    unnamed = next(
        r for r in services.regions.regions_of(asset["id"], viewer=SYSTEM) if not r["title"]
    )
    services.assets.update(unnamed["id"], AssetPatch(title="Bob"), viewer=SYSTEM)
    kept = sorted(t for t in asset["tags"] if t != "Paris")
    services.assets.update(asset["id"], AssetPatch(tags=kept), viewer=SYSTEM)
    regions = sorted(
        (r["id"], r["title"]) for r in services.regions.regions_of(asset["id"], viewer=SYSTEM)
    )
    photo_digest = _digest(photo)

    damaged = {
        "cut short": good.encode()[:600],
        "not XMP to ExifTool": _LAUGHS + good[good.index("<x:xmpmeta") :],
    }
    for at, (why, content) in enumerate(damaged.items(), start=1_800_000_000):
        _rewrite(sidecar, content, at=at)
        digest = _digest(sidecar)
        services.library.scan_and_process([str(root)], wait=True)
        now = _by_name(services)["IMG_1.jpg"]
        step = _steps(services, asset["id"])["sidecar"]
        assert step.status == "failed", why
        assert "IMG_1.jpg.xmp" in step.message and "XMP" in step.message, why
        assert sorted(now["tags"]) == kept, why
        assert now["title"] == "Eiffel at dusk", why
        assert now["metadata"]["gallery"] == {"rating": 3}, why
        assert now["metadata"]["xmp_sidecar"]["tags"] == asset["metadata"]["xmp_sidecar"]["tags"]
        found = services.regions.regions_of(asset["id"], viewer=SYSTEM)
        assert sorted((r["id"], r["title"]) for r in found) == regions, why
        assert (_digest(photo), _digest(sidecar)) == (photo_digest, digest), why

    # Readable again: read as before, and what the person did in Trove still wins.
    _rewrite(sidecar, good, at=1_900_000_000)
    services.library.scan_and_process([str(root)], wait=True)
    now = _by_name(services)["IMG_1.jpg"]
    assert _steps(services, asset["id"])["sidecar"].status == "ok"
    assert sorted(now["tags"]) == kept
    found = services.regions.regions_of(asset["id"], viewer=SYSTEM)
    assert sorted((r["id"], r["title"]) for r in found) == regions
    assert _digest(photo) == photo_digest


def _keywords_only(*keywords: str) -> str:
    """A sidecar with keywords and nothing else, as any XMP tool writes them."""
    items = "".join(f"<rdf:li>{k}</rdf:li>" for k in keywords)
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF {RDF}>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>
{_END}"""


def test_a_tag_a_person_gave_before_the_sidecar_did_stays_when_the_sidecar_drops_it(
    services, tmp_path
):
    """Only what the sidecar brought goes when the sidecar drops it: a tag the picture already
    had when the sidecar first said the same keyword is the person's own. So is a keyword
    removed in Trove and then tagged again by hand."""
    root = tmp_path / "library"
    photo = write_photo(root / "IMG_1.jpg", seed=1)
    services.library.scan_and_process([str(root)], wait=True)
    asset_id = _by_name(services)["IMG_1.jpg"]["id"]
    services.assets.update(asset_id, AssetPatch(tags=["Paris", "mine"]), viewer=SYSTEM)
    photo_digest = _digest(photo)

    def tags_after(*keywords: str, at: int) -> list[str]:
        _rewrite(root / "IMG_1.jpg.xmp", _keywords_only(*keywords), at=at)
        services.library.scan_and_process([str(root)], wait=True)
        return sorted(services.assets.get(asset_id, viewer=SYSTEM)["tags"])

    assert tags_after("Paris", "beach", "dusk", at=1_800_000_000) == [
        "Paris", "beach", "dusk", "mine"
    ]  # fmt: skip
    assert tags_after("beach", "dusk", at=1_800_000_001) == ["Paris", "beach", "dusk", "mine"]
    # dusk: declined in Trove, then tagged again by hand: the person's from then on.
    services.assets.update(asset_id, AssetPatch(tags=["Paris", "beach", "mine"]), viewer=SYSTEM)
    assert tags_after("beach", "dusk", at=1_800_000_002) == ["Paris", "beach", "mine"]
    services.assets.update(
        asset_id, AssetPatch(tags=["Paris", "beach", "dusk", "mine"]), viewer=SYSTEM
    )
    assert tags_after("beach", "dusk", "sea", at=1_800_000_003) == [
        "Paris", "beach", "dusk", "mine", "sea"
    ]  # fmt: skip
    # What the sidecar alone brought goes with it.
    assert tags_after("sea", at=1_800_000_004) == ["Paris", "dusk", "mine", "sea"]
    (root / "IMG_1.jpg.xmp").unlink()
    services.library.scan_and_process([str(root)], wait=True)
    assert sorted(services.assets.get(asset_id, viewer=SYSTEM)["tags"]) == [
        "Paris", "dusk", "mine"
    ]  # fmt: skip
    assert _digest(photo) == photo_digest


def _a_photo_with_alices_face(services: Services, root: Path) -> tuple[Path, Path, str, dict]:
    """A photo whose digiKam sidecar names Alice Martin's face, indexed: (the photo, its
    sidecar, its id, the region of her face)."""
    photo = write_photo(root / "IMG_1.jpg", seed=1)
    sidecar = root / "IMG_1.jpg.xmp"
    sidecar.write_text(DIGIKAM.format(rating=3, extra=""))
    services.library.scan_and_process([str(root)], wait=True)
    asset_id = _by_name(services)["IMG_1.jpg"]["id"]
    regions = services.regions.regions_of(asset_id, viewer=SYSTEM)
    return photo, sidecar, asset_id, next(r for r in regions if r["title"] == "Alice Martin")


def test_a_face_region_deleted_in_trove_stays_deleted_when_the_sidecar_changes(services, tmp_path):
    """A region from the sidecar that a person deleted (and whose Trash was emptied, so no
    record of it is left) is not made again when the sidecar changes for another reason. Only
    a sidecar that drops that region and later gives it again brings it back, as new."""
    root = tmp_path / "library"
    photo, sidecar, asset_id, alice = _a_photo_with_alices_face(services, root)
    services.assets.delete(alice["id"], viewer=SYSTEM)
    assert services.trash.empty(viewer=SYSTEM) == 1
    photo_digest = _digest(photo)

    def titles_after(content: str, *, at: int) -> list[str]:
        _rewrite(sidecar, content, at=at)
        services.library.scan_and_process([str(root)], wait=True)
        return sorted(
            r["title"] or "" for r in services.regions.regions_of(asset_id, viewer=SYSTEM)
        )

    extra = "\n     <rdf:li>Eiffel Tower</rdf:li>"
    assert titles_after(DIGIKAM.format(rating=5, extra=extra), at=1_800_000_000) == [""]
    assert titles_after(DIGIKAM.format(rating=4, extra=""), at=1_800_000_001) == [""]
    # The sidecar drops the region, then has it again: a new region, made again.
    without_alice = DIGIKAM.format(rating=4, extra="")
    start = without_alice.index("      <rdf:li>\n       <rdf:Description mwg-rs:Name")
    end = without_alice.index("      <rdf:li>", start + 1)
    without_alice = without_alice[:start] + without_alice[end:]
    assert titles_after(without_alice, at=1_800_000_002) == [""]
    assert titles_after(DIGIKAM.format(rating=4, extra=""), at=1_800_000_003) == [
        "", "Alice Martin"
    ]  # fmt: skip
    assert _digest(photo) == photo_digest


@pytest.mark.parametrize("deleted", ["to the Trash", "Trash emptied", "sidecar read again"])
def test_a_face_region_deleted_in_trove_stays_deleted_through_an_export_and_a_rebuilt_index(
    services, settings, tmp_path, deleted
):  # fmt: skip
    """A person who deleted a face region the sidecar gave wants it gone; only this index
    remembers that, and one rebuilt from the disk makes the region again from the sidecar.
    The export carries the deleted boxes: the import deletes the region again, and later
    passes over the sidecar (a changed one too) keep it deleted."""
    root = tmp_path / "library"
    photo, sidecar, asset_id, alice = _a_photo_with_alices_face(services, root)
    services.assets.delete(alice["id"], viewer=SYSTEM)  # to the Trash: no export carries it
    if deleted != "to the Trash":
        assert services.trash.empty(viewer=SYSTEM) == 1
    if deleted == "sidecar read again":  # the box now declined in the sidecar's namespace
        _rewrite(sidecar, DIGIKAM.format(rating=4, extra=""), at=1_800_000_000)
        services.library.scan_and_process([str(root)], wait=True)
        assert services.assets.get(asset_id, viewer=SYSTEM)["metadata"]["xmp_sidecar"][
            "declined_regions"
        ] == [alice["bbox"]]  # fmt: skip
    # A region of the person's own where the deleted face was: theirs, kept.
    own = services.regions.create(asset_id, alice["bbox"], viewer=SYSTEM)["id"]
    services.assets.update(own, AssetPatch(title="Mine"), viewer=SYSTEM)
    photo_digest = _digest(photo)
    exported = io.StringIO()
    services.user_data.export(exported)
    services.database.dispose()
    migrate_to(settings.resolved_database_url, "base", down=True)
    rebuilt = Services.create(settings)
    try:
        rebuilt.library.scan_and_process([str(root)], wait=True)
        photo_id = _by_name(rebuilt)["IMG_1.jpg"]["id"]

        def titles() -> list[str]:
            found = rebuilt.regions.regions_of(photo_id, viewer=SYSTEM)
            return sorted(r["title"] or "" for r in found)

        assert titles() == ["", "Alice Martin"]  # the index alone cannot know
        for _ in range(2):  # a second import changes nothing
            report = rebuilt.user_data.import_lines(io.StringIO(exported.getvalue()))
            assert report.unmatched == {}, report.unmatched_refs
            assert titles() == ["", "Mine"]
            assert report.matched["declined regions"] == 1
        rebuilt.library.scan_and_process([str(root)], wait=True)
        assert titles() == ["", "Mine"]
        _rewrite(sidecar, DIGIKAM.format(rating=5, extra=""), at=1_800_000_100)
        rebuilt.library.scan_and_process([str(root)], wait=True)
        read = rebuilt.assets.get(photo_id, viewer=SYSTEM)["metadata"]["xmp_sidecar"]
        assert read["rating"] == 5 and titles() == ["", "Mine"]  # read again, still deleted
    finally:
        rebuilt.database.dispose()
    assert _digest(photo) == photo_digest


def test_an_export_imported_back_leaves_a_face_region_in_the_trash_for_the_person_to_restore(
    services, tmp_path
):
    """The export counts a region in the Trash as deleted (it carries no Trash). Imported
    back into the index it came from (a backup applied again), it hard-deleted the region
    the person could still restore."""
    _, _, asset_id, alice = _a_photo_with_alices_face(services, tmp_path / "library")
    services.assets.delete(alice["id"], viewer=SYSTEM)
    exported = io.StringIO()
    services.user_data.export(exported)

    report = services.user_data.import_lines(io.StringIO(exported.getvalue()))

    assert report.matched["declined regions"] == 1
    assert [a["id"] for a in services.trash.list(viewer=SYSTEM).items] == [alice["id"]]
    services.trash.restore([alice["id"]], viewer=SYSTEM)
    titles = sorted(r["title"] or "" for r in services.regions.regions_of(asset_id, viewer=SYSTEM))
    assert titles == ["", "Alice Martin"]


def test_a_title_cleared_in_trove_stays_cleared_over_the_sidecar_and_through_an_export(
    services, settings, tmp_path
):
    """A person who clears the title and description a sidecar gave wants none: the
    sidecar's do not come back when it is read again, nor when the index is rebuilt from the
    disk and the export imported. A picture whose title nobody touched shows the sidecar's."""
    root = tmp_path / "library"
    for seed, name in ((3, "IMG_3"), (5, "IMG_5")):
        write_photo(root / f"{name}.jpg", seed=seed)
        (root / f"{name}.xmp").write_text(LIGHTROOM)
    services.library.scan_and_process([str(root)], wait=True)
    cleared = _by_name(services)["IMG_3.jpg"]["id"]
    services.assets.update(cleared, AssetPatch(title=None, description="  "), viewer=SYSTEM)
    sidecars_say = ("Boats at noon", "Fishing boats in the harbour")

    def shown(services: Services) -> dict[str, tuple[str | None, str | None]]:
        pictures = {n: a for n, a in _by_name(services).items() if n.endswith(".jpg")}
        return {n: (a["title"], a["description"]) for n, a in pictures.items()}

    assert shown(services) == {"IMG_3.jpg": (None, None), "IMG_5.jpg": sidecars_say}
    lightroom = LIGHTROOM.replace("<rdf:li>harbour</rdf:li>", "")
    _rewrite(root / "IMG_3.xmp", lightroom, at=1_800_000_000)
    services.library.scan_and_process([str(root)], wait=True)
    assert "harbour" not in services.assets.get(cleared, viewer=SYSTEM)["tags"]  # read again
    assert shown(services) == {"IMG_3.jpg": (None, None), "IMG_5.jpg": sidecars_say}

    exported = io.StringIO()
    services.user_data.export(exported)
    services.database.dispose()
    migrate_to(settings.resolved_database_url, "base", down=True)
    rebuilt = Services.create(settings)
    try:
        rebuilt.library.scan_and_process([str(root)], wait=True)
        assert shown(rebuilt)["IMG_3.jpg"] == sidecars_say  # the index alone cannot know
        report = rebuilt.user_data.import_lines(io.StringIO(exported.getvalue()))
        assert report.unmatched == {}, report.unmatched_refs
        assert shown(rebuilt) == {"IMG_3.jpg": (None, None), "IMG_5.jpg": sidecars_say}
    finally:
        rebuilt.database.dispose()
