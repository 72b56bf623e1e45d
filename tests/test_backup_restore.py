"""Backups while the server writes, the nightly export's schedule and rotation, and XMP
sidecars that never touch a library unless it opted in."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import _pg_admin, _pg_base
from tests.media import fingerprint_tree, make_library
from trove.db.models import Entity
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.services.assets import AssetPatch
from trove.services.backup import BackupService, PgDumpMissing
from trove.services.container import Services
from trove.services.errors import Invalid
from trove.services.user_data.nightly import NightlyExport, next_run, prune, seconds_until
from trove.services.user_data.xmp import XmpExport
from trove.sync.scavenger import Scavenger

SYSTEM = Viewer.system()


def test_a_backup_taken_while_the_index_is_written_opens_with_its_rows(settings, tmp_path):
    services = Services.create(settings)
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            services.links.create_entity("Person", f"p{uuid.uuid4().hex[:8]}")

    writer = threading.Thread(target=write)
    try:
        for n in range(50):
            services.links.create_entity("Place", f"place {n}")
        writer.start()
        time.sleep(0.3)  # the writer is busy when the copy starts
        with services.database.session() as session:
            before = session.scalar(select(func.count()).select_from(Entity))
        result = BackupService(settings).backup(tmp_path / "copy")
        assert writer.is_alive()
    finally:
        stop.set()
        if writer.ident is not None:
            writer.join(10)
        services.database.dispose()
    assert result.size > 0 and not list(tmp_path.glob(".copy*"))  # no partial file left
    assert result.path.stat().st_mode & 0o777 == 0o600  # password hashes, share links
    assert _entities_in(result.path, settings) >= before


def _entities_in(backup: Path, settings) -> int:  # type: ignore[no-untyped-def]
    if settings.is_sqlite:
        with sqlite3.connect(backup) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            return int(copy.execute("SELECT count(*) FROM entities").fetchone()[0])
    name = f"trove_restore_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        url = f"{_pg_base()}/{name}"
        subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={url}", str(backup)],
            check=True,
            timeout=120,
            capture_output=True,
        )
        import psycopg

        with psycopg.connect(url) as copy:
            row = copy.execute("SELECT count(*) FROM entities").fetchone()
            return int(row[0]) if row else 0
    finally:
        with _pg_admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_nightly_export_is_due_at_its_hour_and_keeps_the_newest(tmp_path):
    at = datetime(2026, 3, 28, 3, 29, 59)
    assert next_run(at, "03:30") == datetime(2026, 3, 28, 3, 30)
    assert next_run(datetime(2026, 3, 28, 3, 30), "03:30") == datetime(2026, 3, 29, 3, 30)
    assert next_run(datetime(2026, 12, 31, 23, 0), "0:05") == datetime(2027, 1, 1, 0, 5)
    assert seconds_until(datetime(2026, 3, 28, 3, 30), at) == pytest.approx(1)
    for day in range(1, 6):
        (tmp_path / f"trove-export-202601{day:02d}-033000.jsonl").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("not an export")
    removed = prune(tmp_path, keep=2)
    assert [p.name[13:21] for p in removed] == ["20260101", "20260102", "20260103"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "trove-export-20260104-033000.jsonl", "trove-export-20260105-033000.jsonl"
    ]  # fmt: skip


@pytest.mark.databases("sqlite")
def test_a_running_server_exports_nightly_into_the_data_dir_with_share_links(settings, tmp_path):
    settings = dataclasses.replace(settings, export_keep=2)
    services = Services.create(settings)
    try:
        album = services.albums.create("Trip", viewer=Viewer.local_owner())
        share = services.shares.create(viewer=Viewer.local_owner(), album_id=album["id"])
        nightly = NightlyExport(settings, services.user_data)
        paths = [nightly.run(now=datetime(2026, 1, day, 3, 30)) for day in (1, 2, 3)]
    finally:
        services.database.dispose()
    assert [p.exists() for p in paths] == [False, True, True]
    assert paths[-1].parent == settings.data_dir / "exports"
    assert paths[-1].stat().st_mode & 0o777 == 0o600
    assert share["token"] in paths[-1].read_text()
    due = []
    scavenger = Scavenger(settings, None, verify=lambda *a: None, roots=list, nightly=due.append)  # type: ignore[arg-type]
    wait = scavenger._next_nightly() - time.monotonic()  # type: ignore[operator]
    assert 0 < wait <= 24 * 3600 + 60 and not due


@pytest.mark.databases("sqlite")
def test_xmp_sidecars_go_to_their_own_folder_and_beside_originals_only_when_opted_in(
    settings, tmp_path
):
    library = make_library(tmp_path / "library", photos=2)
    services = Services.create(settings)
    try:
        services.library.scan_and_process([str(library)], wait=True)
        page = services.library.list_assets(AssetFilters(limit=100))
        photo = next(i for i in page.items if (i["path"] or "").endswith("IMG_0001.jpg"))
        patch = AssetPatch(
            tags=["beach", "café & co"],
            title="Sunset <1>",
            description="two\nlines",
            metadata={"gallery": {"rating": 4}},
        )
        services.assets.update(photo["id"], patch, viewer=SYSTEM)
        untouched = fingerprint_tree(library)
        report = services.user_data.export_xmp(tmp_path / "xmp")
        assert report.written == 1 and report.failed == []
        sidecar = (
            tmp_path / "xmp" / str(library).strip("/").replace("/", "_") / (photo["path"] + ".xmp")
        )
        assert _xmp(sidecar) == {
            "Subject": ["beach", "café & co"],
            "Title": "Sunset <1>",
            "Description": "two\nlines",
            "Rating": 4,
        }
        with pytest.raises(Invalid, match="overlaps the library"):
            services.user_data.export_xmp(library / "2023")
        skipped = services.user_data.export_xmp(None, beside_originals=True)
        assert skipped.written == 0 and skipped.skipped == {"library not opted in": 1}
        assert fingerprint_tree(library) == untouched
        opted_in = dataclasses.replace(settings, xmp_beside_roots=str(library))
        export = XmpExport(opted_in, services.database)
        beside_photo = library / (photo["path"] + ".xmp")
        outside = tmp_path / "outside.xmp"
        beside_photo.symlink_to(outside)  # dangling, then to a file: neither is followed
        for there in (None, b"<x:xmpmeta/> not mine"):
            if there is not None:
                outside.write_bytes(there)
            refused = export.write(None, beside_originals=True)
            assert refused.skipped == {"a symlink where the sidecar would go": 1}
            assert (outside.read_bytes() if outside.exists() else None) == there
        beside_photo.unlink()
        beside_photo.write_text("my own notes\n")
        refused = export.write(None, beside_originals=True)
        assert refused.skipped == {"a file there that is not an XMP sidecar": 1}
        assert beside_photo.read_text() == "my own notes\n"
        beside_photo.unlink()
        beside = export.write(None, beside_originals=True)
    finally:
        services.database.dispose()
    assert beside.written == 1
    after = fingerprint_tree(library)
    assert {k: v for k, v in after.items() if not k.endswith(".xmp")} == untouched
    assert set(after) - set(untouched) == {photo["path"] + ".xmp"}


def _xmp(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["exiftool", "-j", "-n", "-XMP-dc:all", "-XMP-xmp:Rating", str(path)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    found = json.loads(out.stdout)[0]
    return {k: v for k, v in found.items() if k != "SourceFile"}


@pytest.mark.databases("sqlite")
def test_exports_backups_and_uploads_kept_inside_a_library_are_not_indexed(settings, tmp_path):
    """A nightly export holds share links and password hashes: kept in a folder that happens
    to lie inside a library (TROVE_EXPORT_DIR, TROVE_BACKUP_DIR on the NAS), it must not
    become an asset its members may download, as Trove's data dir is not. The upload folder
    (TROVE_UPLOAD_DIR) is a library of its own: its files would have been indexed twice."""
    library = make_library(tmp_path / "library", photos=1)
    settings = dataclasses.replace(
        settings,
        export_dir=library / "trove-exports",
        backup_dir=library / "trove-backups",
        upload_dir=library / "trove-uploads",
    )
    (library / "trove-uploads").mkdir()
    (library / "trove-uploads" / "uploaded.txt").write_text("uploaded\n")
    services = Services.create(settings)
    try:
        NightlyExport(settings, services.user_data).run(now=datetime(2026, 1, 1, 3, 30))
        BackupService(settings).backup()
        services.library.scan_and_process([str(library)], wait=False)
        paths = [i["path"] or "" for i in services.library.list_assets(AssetFilters()).items]
    finally:
        services.database.dispose()
    assert paths
    assert not [p for p in paths if p.startswith(("trove-exports", "trove-backups", "trove-up"))]


@pytest.mark.databases("sqlite")
def test_xmp_sidecars_of_libraries_whose_flattened_paths_coincide_each_get_a_folder(
    settings, tmp_path
):
    # `libs/a_b/c` and `libs/a/b_c` both flatten to `..._libs_a_b_c`.
    libraries = [tmp_path / "libs" / "a_b" / "c", tmp_path / "libs" / "a" / "b_c"]
    services = Services.create(settings)
    try:
        for n, library in enumerate(libraries):
            library.mkdir(parents=True)
            (library / "photo.txt").write_text(f"library {n}\n")
            services.library.scan_and_process([str(library)], wait=True)
            (item,) = services.library.list_assets(
                AssetFilters(root=str(library), type=["document"])
            ).items
            services.assets.update(item["id"], AssetPatch(title=f"title {n}"), viewer=SYSTEM)
        out = tmp_path / "xmp"

        report = services.user_data.export_xmp(out)

        assert report.written == 2 and report.skipped == {} and report.failed == []
        sidecars = sorted(out.glob("*/photo.txt.xmp"))
        assert len(sidecars) == 2 and len({s.parent for s in sidecars}) == 2
        assert sorted(_xmp(s)["Title"] for s in sidecars) == ["title 0", "title 1"]
        again = services.user_data.export_xmp(out)  # the same folders, found again
        assert again.failed == [] and sorted(out.glob("*/photo.txt.xmp")) == sidecars
    finally:
        services.database.dispose()


@pytest.mark.databases("postgresql")
def test_a_postgresql_backup_never_puts_the_password_on_a_command_line(
    settings, tmp_path, monkeypatch
):
    secret = "s3cret-not-for-ps"
    with_password = settings.resolved_database_url.replace("://postgres@", f"://postgres:{secret}@")
    assert secret in with_password
    settings = dataclasses.replace(settings, database_url=with_password)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "pg_dump.seen"
    wrapper = bin_dir / "pg_dump"  # what the real pg_dump is given, then the real one runs
    wrapper.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" > {seen}\nprintf "%s" "$PGPASSWORD" >> {seen}\n'
        f'exec {shutil.which("pg_dump")} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")

    result = BackupService(settings).backup(tmp_path / "copy.pgdump")

    argv, password = seen.read_text().split("\n", 1)
    assert secret not in argv and password == secret  # given through PGPASSWORD only
    assert result.size > 0
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(PgDumpMissing) as missing:
        BackupService(settings).backup(tmp_path / "again.pgdump")
    assert secret not in str(missing.value) and "pg_dump --format=custom" in str(missing.value)
