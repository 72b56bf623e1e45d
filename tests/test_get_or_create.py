"""Get-or-create under concurrency, on both databases: many callers registering the same root
or making the same link at once all succeed and share one row (no IntegrityError, no lost
work). The uploads that first showed the race are in test_uploads.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from tests.graph_helpers import make_assets
from trove.db.database import Database
from trove.db.models import Asset, Link, Root
from trove.domain.access import Viewer
from trove.services.assets import AssetPatch, AssetService
from trove.services.links import LinkManager
from trove.services.scan_writer import register_root

SYSTEM = Viewer.system()

CALLERS = 12


def all_at_once(call: Callable[[], Any]) -> list[Any]:
    """`call` from CALLERS threads released together."""
    start = threading.Barrier(CALLERS)

    def one(_: int) -> Any:
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(one, range(CALLERS)))


def count(database: Database, *where: Any) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).where(*where)) or 0)


def test_a_root_registered_by_many_callers_at_once_is_one_root_with_one_folder(database, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    uploads = str(tmp_path / "uploads")
    roots = all_at_once(lambda: register_root(database, str(folder), upload_folder=uploads))
    assert len({root.id for root in roots}) == 1
    assert count(database, Root.path == str(folder)) == 1
    assert count(database, Asset.root_id == roots[0].id, Asset.rel_path == "") == 1


def test_the_same_link_made_by_many_callers_at_once_is_one_link(settings, database):
    ids = make_assets(database, ["a.jpg", "b.jpg"])
    links = LinkManager(settings, database)
    made = all_at_once(lambda: links.link(ids["a.jpg"], ids["b.jpg"], "related_to", viewer=SYSTEM))
    assert len({m.link["id"] for m in made}) == 1
    assert [m.created for m in made].count(True) == 1
    assert count(database, Link.source_id == ids["a.jpg"], Link.target_id == ids["b.jpg"]) == 1


def test_the_same_tags_set_by_many_callers_at_once_are_each_stored_once(settings, database):
    ids = make_assets(database, ["a.jpg"])
    assets = AssetService(settings, database)
    done = all_at_once(
        lambda: assets.update(ids["a.jpg"], AssetPatch(tags=["sea", "sun"]), viewer=SYSTEM)
    )
    assert all(d["tags"] == ["sea", "sun"] for d in done)
    assert assets.get(ids["a.jpg"], viewer=SYSTEM)["tags"] == ["sea", "sun"]
