"""Texture packs (ZIP), app packages (PE) and document subtypes through the whole pipeline on
SQLite and PostgreSQL, and each one's hostile inputs failing only their own step."""

from __future__ import annotations

import hashlib
import io
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.composite_media import (
    cp437_name,
    name_marked_utf8_but_not,
    overlapping_bomb,
    png,
    texture_pack,
)
from tests.pe_media import pe_file
from tests.pipeline_media import text_pdf
from trove.app import create_app
from trove.config import Settings
from trove.db.models import Asset, AssetStep, Link
from trove.domain.access import Viewer
from trove.domain.documents import SubType, classify, extract, version_key
from trove.domain.enums import AssetStatus, AssetType, Relation, StepStatus
from trove.pipeline.processor import AssetView
from trove.pipeline.processors.document_type import DocumentTypeProcessor
from trove.pipeline.processors.region_crop import RegionCropProcessor, pixel_box, region_key
from trove.services.library import LibraryService
from trove.storage import cache
from trove.tools.pe import inspect_pe
from trove.tools.run import ToolError
from trove.tools.ziparchive import ArchiveRefused, ZipBudget, index_archive, read_entry

INVOICE_LINES = [
    "ACME Supplies Ltd",
    "INVOICE",
    "Invoice No: INV-2026-0042",
    "Date: 2026-03-14",
    "Due date: 14.04.2026",
    "Bill to: Globex Corporation",
    "Widgets 10 x 12.50 EUR",
    "Subtotal 1,000.00 EUR",
    "VAT 150.00 EUR",
    "Total due: 1,150.00 EUR",
]
CONTRACT_LINES = [
    "SERVICE AGREEMENT",
    "Made by and between Initech LLC",
    "and Umbrella Corp.",
    "The parties agree as follows.",
    "Governing law: Delaware.",
    "Contract No: C-77",
]


def icon_png() -> bytes:
    return png((200, 30, 30), size=(48, 48))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("composite") / "library"
    texture_pack(
        root / "packs/stone.zip",
        {
            "stone/": b"",
            "stone/readme.txt": b"CC0 stone material",
            "stone/stone_normal.png": png((128, 128, 255)),
            "stone/Stone_BaseColor.png": png((180, 40, 20), size=(300, 200)),
            "../../escape.png": png((0, 0, 0)),
        },
    )
    overlapping_bomb(root / "packs/bomb.zip")
    good = (root / "packs/stone.zip").read_bytes()
    (root / "packs/truncated.zip").write_bytes(good[: len(good) // 2])
    pe_file(
        root / "apps/setup.exe",
        strings={
            "ProductName": "Trove Viewer",
            "CompanyName": "Acme Ltd",
            "FileDescription": "Trove Viewer installer",
            "ProductVersion": "2.1.0",
            "FileVersion": "2.1.0.7",
        },
        icon_png=icon_png(),
        signed=True,
    )
    (root / "apps/LICENSE.txt").write_text("MIT License\nPermission is hereby granted\n")
    broken = bytearray((root / "apps/setup.exe").read_bytes())
    broken[0x41] = ord("X")  # "PX\0\0": an MS-DOS stub whose PE headers are damaged
    (root / "apps/broken.exe").write_bytes(bytes(broken))
    picture = Image.new("RGB", (400, 200), (0, 0, 255))
    picture.paste((255, 0, 0), (200, 100, 400, 200))  # the bottom-right quarter is red
    (root / "pics").mkdir()
    picture.save(root / "pics/quarters.png")
    text_pdf(root / "docs/invoice.pdf", INVOICE_LINES)
    text_pdf(root / "docs/contract.pdf", CONTRACT_LINES)
    text_pdf(root / "docs/contract_v2.pdf", [*CONTRACT_LINES, "Amended"])
    return root


@contextmanager
def api(settings: Settings, root: Path) -> Iterator[TestClient]:
    app = create_app(settings, roots=[str(root)])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.services.indexer.wait_idle(60)
        yield client


@pytest.fixture
def indexed(settings: Settings, media: Path):
    checksums = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in media.rglob("*.*")}
    library = LibraryService(settings)
    library.scan_and_process([str(media)], wait=True)
    with library.database.session() as session:
        assets = {a.rel_path: a for a in session.query(Asset).all() if a.rel_path}
        steps = {(s.asset_id, s.step): s for s in session.query(AssetStep).all()}
        links = {(x.source_id, x.target_id, x.relation) for x in session.query(Link).all()}
        proxies = {a.id: a for a in session.query(Asset).filter(Asset.root_id.is_(None)).all()}
    yield assets, steps, links, proxies
    library.database.dispose()
    assert checksums == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in checksums}


@pytest.mark.slow
def test_a_zip_is_a_texture_pack_indexed_in_place_with_its_basecolor_as_preview(indexed, settings):
    assets, _, _, _ = indexed
    pack = assets["packs/stone.zip"]
    assert pack.asset_type == AssetType.TEXTURE_PACK and pack.status == AssetStatus.READY
    meta = pack.meta["texture_pack"]
    names = [e["name"] for e in meta["entries"]]
    assert names == [
        "stone/",
        "stone/readme.txt",
        "stone/stone_normal.png",
        "stone/Stone_BaseColor.png",
        "../../escape.png",
    ]
    base = meta["entries"][3]
    assert base["size"] == len(png((180, 40, 20), size=(300, 200)))
    assert base["compressed_size"] > 0 and len(base["crc"]) == 8
    assert base["modified"] == "2024-05-06T07:08:10"
    assert meta["primary"] == 3 and meta["images"] == 3
    assert meta["notes"]  # the climbing name is flagged, and stays text
    medium = cache.existing(settings.resolved_cache_dir, pack.hash, "medium.webp")
    with Image.open(medium) as preview:
        assert preview.size == (300, 200)
        assert preview.convert("RGB").getpixel((150, 100))[0] > 150  # the red base colour
    with api(settings, media) as client:
        url = f"/api/dam/assets/{pack.id}/entries"
        got = client.get(f"{url}/2")
        assert got.status_code == 200 and got.content == png((128, 128, 255))
        assert got.headers["content-disposition"] == "attachment; filename*=utf-8''stone_normal.png"
        assert got.headers["x-content-type-options"] == "nosniff"
        climbing = client.get(f"{url}/4")
        assert climbing.headers["content-disposition"].endswith("''escape.png")
        preview = client.get(f"{url}/3/preview")
        assert preview.headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(preview.content)).size == (256, 171)
        assert client.get(f"{url}/0").status_code == 422  # a folder
        assert client.get(f"{url}/1/preview").status_code == 404  # not an image
        assert client.get(f"{url}/99").json() == {"detail": "no entry 99 in this archive"}
        bomb = assets["packs/bomb.zip"]
        refused = client.get(f"/api/dam/assets/{bomb.id}/entries/0")
        assert refused.status_code == 422 and "overlap" in refused.json()["detail"]
        setup = assets["apps/setup.exe"]
        assert client.get(f"/api/dam/assets/{setup.id}/entries/0").status_code == 404
    assert not list(settings.data_dir.rglob("escape.png"))
    assert not list(settings.data_dir.rglob("*stone_normal*"))


@pytest.mark.slow
def test_bombs_and_broken_archives_fail_only_their_index_step_with_the_reason(indexed):
    assets, steps, _, _ = indexed
    bomb = assets["packs/bomb.zip"]
    assert steps[(bomb.id, "archive")].status == StepStatus.FAILED
    assert "overlap" in steps[(bomb.id, "archive")].message
    assert steps[(bomb.id, "hash")].status == StepStatus.OK
    truncated = assets["packs/truncated.zip"]
    assert steps[(truncated.id, "archive")].status == StepStatus.FAILED
    assert "ZIP" in steps[(truncated.id, "archive")].message
    assert bomb.status == truncated.status == AssetStatus.READY  # the other steps stand


@pytest.mark.slow
def test_an_installer_is_an_app_package_with_version_icon_licence_and_an_install_action(
    indexed, settings, media
):
    assets, steps, links, proxies = indexed
    setup = assets["apps/setup.exe"]
    assert setup.asset_type == AssetType.APP_PACKAGE
    meta = setup.meta["app_package"]
    assert meta["product_name"] == "Trove Viewer"
    assert meta["company"] == "Acme Ltd"
    assert meta["product_version"] == "2.1.0" and meta["file_version"] == "2.1.0.7"
    assert meta["description"] == "Trove Viewer installer"
    assert meta["signed"] is True and meta["icon"] is True
    assert meta["licence"]["source"] == "adjacent"
    assert meta["licence"]["text"].startswith("MIT License")
    licence = assets["apps/LICENSE.txt"]
    assert (setup.id, licence.id, Relation.CONTAINS) in links
    icons = [t for s, t, r in links if s == setup.id and r == Relation.CONTAINS and t in proxies]
    assert len(icons) == 1 and proxies[icons[0]].mime_type == "image/png"
    small = cache.existing(settings.resolved_cache_dir, setup.hash, "small.webp")
    with Image.open(small) as preview:
        assert preview.convert("RGB").getpixel((10, 10)) == pytest.approx((200, 30, 30), abs=8)
    broken = assets["apps/broken.exe"]
    step = steps[(broken.id, "app_package")]
    assert step.status == StepStatus.FAILED and "not a valid PE file" in step.message
    assert broken.status == AssetStatus.READY
    with api(settings, media) as client:  # no install command: no install action
        assert client.post(f"/api/dam/assets/{setup.id}/install").status_code == 404
    out = media.parent / "installed-by.txt"
    script = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])"
    command = f"{sys.executable} -c '{script}' {out} {{path}}"
    with api(replace(settings, install_command=command), media) as client:
        queued = client.post(f"/api/dam/assets/{setup.id}/install")
        assert queued.status_code == 202 and queued.json()["status"] == "queued"
        for _ in range(100):
            outcome = client.get(f"/api/dam/assets/{setup.id}").json()["metadata"]["install"]
            if outcome["status"] != "queued":
                break
            time.sleep(0.1)
        assert outcome["status"] == "ok", outcome
        assert client.post(f"/api/dam/assets/{licence.id}/install").status_code == 404
    assert out.read_text() == str(media / "apps/setup.exe")


@pytest.mark.slow
def test_a_pdf_invoice_gets_its_subtype_and_fields_and_a_v2_is_a_version_of_its_draft(
    indexed, settings, media
):
    assets, _, links, _ = indexed
    invoice = assets["docs/invoice.pdf"]
    assert invoice.meta["sub_type"] == "invoice"
    fields = invoice.meta["document"]
    assert fields["number"] == "INV-2026-0042"
    assert fields["total"] == "1150.00" and fields["currency"] == "EUR"
    assert fields["due_date"] == "2026-04-14" and "2026-03-14" in fields["dates"]
    assert fields["parties"] == ["Globex Corporation"] and fields["status"] == "due"
    contract, v2 = assets["docs/contract.pdf"], assets["docs/contract_v2.pdf"]
    assert contract.meta["sub_type"] == v2.meta["sub_type"] == "contract"
    assert contract.meta["document"]["parties"] == ["Initech LLC", "Umbrella Corp"]
    assert (v2.id, contract.id, Relation.VERSION_OF) in links
    assert (contract.id, v2.id, Relation.VERSION_OF) not in links
    with api(settings, media) as client:  # by hand: who signed, which draft, which subtype
        ada = client.post("/api/dam/entities", json={"type": "Person", "name": "Ada"}).json()
        for source, target, relation in (
            (contract.id, ada["id"], "signed_by"),
            (invoice.id, contract.id, "version_of"),
        ):
            link = {"source_id": source, "target_id": target, "relation": relation}
            assert client.post("/api/dam/links", json=link).status_code == 201
        url = f"/api/dam/assets/{invoice.id}"
        typed = client.patch(url, json={"metadata": {"document": {"sub_type": "tech_spec"}}})
        assert typed.status_code == 200, typed.text
        assert typed.json()["metadata"]["document"]["sub_type"] == "tech_spec"
        wrong = client.patch(url, json={"metadata": {"document": {"sub_type": "poem"}}})
        assert wrong.status_code == 422 and "sub_type" in wrong.json()["detail"]


@pytest.mark.slow
def test_a_region_is_a_virtual_crop_of_its_picture_that_can_depict_a_person(
    indexed, settings, media
):
    assets, _, _, _ = indexed
    picture = assets["pics/quarters.png"]
    with api(settings, media) as client:
        body = {
            "asset_type": "region",
            "data": {"parent_id": picture.id, "bbox": [0.5, 0.5, 0.5, 0.5]},
        }
        made = client.post("/api/dam/assets/virtual", json=body)
        assert made.status_code == 201, made.text
        region = made.json()
        assert region["is_virtual"] is True and region["category"] == "composite"
        assert region["storage_urn"] == f"virtual://region/{region['id']}"
        assert region["metadata"]["region"]["bbox"] == [0.5, 0.5, 0.5, 0.5]
        assert region["metadata"]["region"]["parent_id"] == picture.id
        assert client.app.state.services.indexer.wait_idle(60)
        region = client.get(f"/api/dam/assets/{region['id']}").json()
        assert region["status"] == "ready" and (region["width"], region["height"]) == (200, 100)
        crop = client.get(region["thumbnails"]["medium"])
        with Image.open(io.BytesIO(crop.content)) as image:
            assert image.size == (200, 100)
            assert image.convert("RGB").getpixel((100, 50)) == pytest.approx((255, 0, 0), abs=8)
        person = client.post("/api/dam/entities", json={"type": "Person", "name": "Ada"}).json()
        depicts = {"source_id": region["id"], "target_id": person["id"], "relation": "depicts"}
        assert client.post("/api/dam/links", json=depicts).status_code == 201
        listed = client.app.state.services.regions.regions_of(picture.id, viewer=Viewer.system())
        assert listed == [
            {"id": region["id"], "bbox": [0.5, 0.5, 0.5, 0.5], "title": None, "depicts": ["Ada"]}
        ]
        for data, field in (
            ({"parent_id": "nope", "bbox": [0, 0, 1, 1]}, "parent_id"),
            ({"parent_id": picture.id, "bbox": [0.5, 0, 0.6, 1]}, "bbox"),
            ({"parent_id": picture.id, "bbox": [0, 0, 0, 1]}, "bbox"),
            ({"parent_id": picture.id, "bbox": [0, 0]}, "bbox"),
        ):
            refused = client.post(
                "/api/dam/assets/virtual", json={"asset_type": "region", "data": data}
            )
            assert refused.status_code == 422 and field in refused.json()["detail"], refused.text


# --- the pure parts, without a database ----------------------------------------------------


def test_archive_budgets_refuse_too_many_entries_too_many_bytes_and_overlaps(tmp_path):
    pack = texture_pack(tmp_path / "p.zip", {f"t{i}.png": png((i, i, i)) for i in range(5)})
    with pytest.raises(ArchiveRefused, match="5 entries, over the limit of 4"):
        index_archive(pack, ZipBudget(max_entries=4))
    with pytest.raises(ArchiveRefused, match="uncompressed, over the limit"):
        index_archive(pack, ZipBudget(max_total_bytes=100))
    with pytest.raises(ArchiveRefused, match="overlap"):
        index_archive(overlapping_bomb(tmp_path / "b.zip"), ZipBudget())


def test_a_highly_compressed_entry_is_listed_but_never_inflated(tmp_path):
    pack = texture_pack(
        tmp_path / "p.zip", {"diffuse.png": b"\0" * 8 * 1024**2, "b.png": png((1, 1, 1))}
    )
    index = index_archive(pack, ZipBudget())
    assert "ratio" in (index.entries[0].refused or "")
    assert index.primary == 1  # the bomb is not the preview even though it is "diffuse"
    with pytest.raises(ArchiveRefused, match="ratio"):
        read_entry(pack, 0, ZipBudget())
    with pytest.raises(ArchiveRefused, match="no entry 7"):
        read_entry(pack, 7, ZipBudget())
    assert read_entry(pack, 1, ZipBudget()) == png((1, 1, 1))


def test_entry_names_in_the_dos_code_page_are_read_and_false_utf8_is_refused(tmp_path):
    index = index_archive(cp437_name(tmp_path / "dos.zip"), ZipBudget())
    assert index.entries[0].name == "düier.png"[:1] + "\u00fc" + "rer.png"
    with pytest.raises(ArchiveRefused, match="not valid UTF-8"):
        index_archive(name_marked_utf8_but_not(tmp_path / "bad.zip"), ZipBudget())


def test_a_pe_parse_is_held_to_its_time_and_memory_limits(tmp_path):
    exe = pe_file(tmp_path / "a.exe", strings={"ProductName": "X"}, icon_png=icon_png())
    assert inspect_pe(exe, timeout=20, memory_mb=1024).fields["product_name"] == "X"
    with pytest.raises(ToolError, match="timed out"):
        inspect_pe(exe, timeout=0.001, memory_mb=1024)
    damaged = bytearray(exe.read_bytes())
    damaged[0x41] = ord("X")
    (tmp_path / "b.exe").write_bytes(bytes(damaged))
    with pytest.raises(ToolError, match="not a valid PE file"):
        inspect_pe(tmp_path / "b.exe", timeout=20, memory_mb=1024)


def test_subtype_rules_read_contracts_specs_and_leave_plain_text_alone():
    assert classify("\n".join(CONTRACT_LINES))[0] == SubType.CONTRACT
    spec = "Datasheet\nTechnical specification\nOperating temperature -20..70 C\nVoltage 5 V"
    assert classify(spec)[0] == SubType.TECH_SPEC
    assert classify("Annual report of the Trove society")[0] is None
    euro = extract(
        "INVOICE\nTotal: 1.234,50 €\nPaid in full", sub_type=SubType.INVOICE, source="rules"
    )
    assert (euro.total, euro.currency, euro.status) == (
        __import__("decimal").Decimal("1234.50"),
        "EUR",
        "paid",
    )
    assert [version_key(s) for s in ("plan", "plan_v2", "plan rev B", "plan-final")] == [
        ("plan", 0),
        ("plan", 2),
        ("plan", 2),
        ("plan", 1000),
    ]


def test_zip_entries_are_streamed_from_the_archive_as_written(tmp_path):
    data = bytes(range(256)) * 4000
    pack = texture_pack(tmp_path / "p.zip", {"a/b/raw.bin": data})
    assert read_entry(pack, 0, ZipBudget()) == data
    with zipfile.ZipFile(pack) as archive:
        assert archive.namelist() == ["a/b/raw.bin"]
    assert io.BytesIO(read_entry(pack, 0, ZipBudget())).getvalue()[:4] == bytes(range(4))


def test_a_subtype_set_by_hand_is_kept_and_a_scan_is_typed_from_its_ocr_text(tmp_path):
    pdf = text_pdf(tmp_path / "notes.pdf", CONTRACT_LINES)
    processor = DocumentTypeProcessor(Settings(data_dir=tmp_path / "data"))
    text = {"content": "\n".join(CONTRACT_LINES)}

    def run(meta: dict) -> dict:
        view = AssetView(
            id="a", path=pdf, size=1, mtime_ns=1, mime_type="application/pdf",
            asset_type=AssetType.DOCUMENT, hash=None, filename=pdf.name, meta=meta,
        )  # fmt: skip
        return processor.process(view).metadata

    by_rules = run({"text": text})
    assert by_rules["sub_type"] == "contract"
    assert by_rules["document"]["sub_type_source"] == "rules"
    by_hand = run({"text": text, **by_rules, "document": {"sub_type": "tech_spec"}})
    assert by_hand["sub_type"] == "tech_spec" and by_hand["document"]["sub_type_source"] == "hand"
    again = run({"text": text, **by_hand})
    assert again["sub_type"] == "tech_spec"
    assert again["document"]["number"] == "C-77"
    scanned = run({"text": {"content": ""}, "ocr": {"content": "\n".join(INVOICE_LINES)}})
    assert scanned["sub_type"] == "invoice" and scanned["document"]["total"] == "1150.00"


def test_a_text_note_gets_no_empty_document_fields_but_its_versions_and_lost_text_clears_them(
    tmp_path,
):
    """A note, a README or a CSV has nothing the rules read: no block of empty fields is
    stored on each of them (a text library's scan wrote one per file), while its name still
    links it to its earlier version. A document whose text is gone loses what was read."""
    (tmp_path / "notes_v1.txt").write_text("first draft\n")
    note = tmp_path / "notes_v2.txt"
    note.write_text("second draft\n")
    processor = DocumentTypeProcessor(Settings(data_dir=tmp_path / "data"))

    def run(path: Path, meta: dict):  # type: ignore[no-untyped-def]
        view = AssetView(
            id="a", path=path, size=1, mtime_ns=1, mime_type="text/plain",
            asset_type=AssetType.DOCUMENT, hash=None, filename=path.name, meta=meta,
        )  # fmt: skip
        return processor.process(view)

    plain = run(note, {"text": {"content": "second draft\n", "source": "plain"}})
    assert plain.status == StepStatus.OK and not plain.metadata
    assert [(s.relation, s.filename) for s in plain.siblings] == [
        (Relation.VERSION_OF, "notes_v1.txt")
    ]
    read = {"sub_type": "invoice", "sub_type_source": "rules", "number": "7"}
    read_before = {"text": {"content": ""}, "document": read}
    cleared = run(note, {**read_before, "sub_type": "invoice"}).metadata
    assert cleared["sub_type"] is None and cleared["document"]["number"] is None


def test_a_region_preview_is_its_box_cut_from_the_parent_preview(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    parent = Image.new("RGB", (400, 200), (0, 0, 255))
    parent.paste((255, 0, 0), (200, 100, 400, 200))  # the bottom-right quarter is red
    parent_hash = "cd" * 32
    large = cache.derivative_path(settings.resolved_cache_dir, parent_hash, "large.webp")
    large.parent.mkdir(parents=True)
    parent.save(large, "WEBP", lossless=True)
    bbox = [0.5, 0.5, 0.5, 0.5]
    meta = {"region": {"bbox": bbox, "parent_hash": parent_hash, "parent_width": 4000}}
    meta["region"]["parent_height"] = 2000
    view = AssetView(
        id="r", path=Path("virtual://region/r"), size=None, mtime_ns=None, mime_type=None,
        asset_type=AssetType.REGION, hash=None, meta=meta,
    )  # fmt: skip
    result = RegionCropProcessor(settings).process(view)
    assert result.status == StepStatus.OK
    assert result.updates["hash"] == region_key(parent_hash, bbox) != parent_hash
    assert (result.updates["width"], result.updates["height"]) == (2000, 1000)
    medium = cache.existing(settings.resolved_cache_dir, result.updates["hash"], "medium.webp")
    with Image.open(medium) as crop:
        assert crop.size == (200, 100)
        assert crop.convert("RGB").getpixel((100, 50)) == pytest.approx((255, 0, 0), abs=6)
    orphan = {"region": {"bbox": bbox, "parent_hash": "ef" * 32}}
    failed = RegionCropProcessor(settings).process(replace(view, meta=orphan))
    assert failed.status == StepStatus.FAILED and "no preview" in failed.message
    assert pixel_box([0.9, 0.9, 0.5, 0.5], (100, 100)) == (90, 90, 100, 100)
