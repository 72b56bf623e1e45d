"""Breadcrumbs name each folder as a person reads it, whatever bytes the name is made of."""

from __future__ import annotations

import os

from sqlalchemy import select

from trove.db.database import Database
from trove.db.models import Asset
from trove.domain.access import Viewer
from trove.services.breadcrumbs import Breadcrumbs


def test_a_folder_whose_name_is_not_utf8_shows_its_odd_byte_escaped_in_the_breadcrumbs(
    tmp_path, settings, run_trove
):
    root = tmp_path / "library"
    folder = root / os.fsdecode(b"caf\xe9") / "2023"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    run_trove("scan", str(root), "--no-wait")

    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            asset_id = session.scalar(select(Asset.id).where(Asset.filename == "a.txt"))
        assert asset_id is not None
        parts = Breadcrumbs(database).of(asset_id, viewer=Viewer.system())
    finally:
        database.dispose()
    assert [(p["kind"], p["label"]) for p in parts[1:]] == [
        ("folder", "caf\\xe9"),
        ("folder", "2023"),
        ("asset", "a.txt"),
    ]
    assert parts[0]["kind"] == "library"
