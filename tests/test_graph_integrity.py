"""Integrity (seed 4.7, on_delete): a hard delete leaves no link, proxy or cached derivative
behind, and never touches the original; soft delete and `missing` keep the links. Real media
through the real pipeline (ffmpeg makes the proxies), both databases."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from sqlalchemy import or_, select

from tests.pipeline_media import video
from trove.db.models import Asset, Link
from trove.domain.access import Viewer
from trove.domain.enums import AssetType
from trove.services.container import Services

SYSTEM = Viewer.system()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("integrity") / "clips"
    video(root / "phone.mov", size=(320, 240), seconds=1, rotate=90)
    shutil.copyfile(root / "phone.mov", root / "copy of phone.mov")
    video(root / "other.mov", size=(240, 160), seconds=1, rotate=90)
    return root


@pytest.fixture
def services(settings, media):
    services = Services.create(settings)
    services.library.scan_and_process([str(media)], wait=True)
    yield services
    services.database.dispose()


def by_name(services) -> dict[str, Asset]:
    with services.database.session() as session:
        return {a.filename: a for a in session.scalars(select(Asset))}


def proxies_of(services, asset_id: str) -> set[str]:
    with services.database.session() as session:
        rows = session.scalars(
            select(Link.target_id)
            .join(Asset, Asset.id == Link.target_id)
            .where(Link.source_id == asset_id, Asset.asset_type == AssetType.PROXY)
        )
        return set(rows)


def links_touching(services, node_ids: set[str]) -> int:
    with services.database.session() as session:
        rows = session.scalars(
            select(Link.id).where(or_(Link.source_id.in_(node_ids), Link.target_id.in_(node_ids)))
        )
        return len(list(rows))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_hard_delete_takes_the_links_both_ways_the_proxy_and_its_cached_file(services, media):
    before = {p.name: sha256(p) for p in media.iterdir()}
    other = by_name(services)["other.mov"]
    (proxy,) = proxies_of(services, other.id)
    cached = services.settings.resolved_cache_dir / other.hash[:2] / other.hash
    assert cached.is_dir() and links_touching(services, {other.id}) >= 2  # folder + proxy
    services.assets.delete(other.id, hard=True, viewer=SYSTEM)
    remaining = by_name(services)
    assert "other.mov" not in remaining
    assert proxy not in {a.id for a in remaining.values()}
    assert links_touching(services, {other.id, proxy}) == 0
    assert not cached.exists()
    assert {p.name: sha256(p) for p in media.iterdir()} == before  # originals untouched


def test_a_proxy_shared_by_two_copies_goes_with_the_last_of_them(services):
    found = by_name(services)
    phone, copy = found["phone.mov"], found["copy of phone.mov"]
    shared = proxies_of(services, phone.id)
    assert shared and shared == proxies_of(services, copy.id)
    cached = services.settings.resolved_cache_dir / phone.hash[:2] / phone.hash
    services.assets.delete(phone.id, hard=True, viewer=SYSTEM)
    assert proxies_of(services, copy.id) == shared and cached.is_dir()
    services.assets.delete(copy.id, hard=True, viewer=SYSTEM)
    assert not shared & {a.id for a in by_name(services).values()}
    assert links_touching(services, shared | {phone.id, copy.id}) == 0
    assert not cached.exists()


def test_a_soft_delete_keeps_the_links(services):
    other = by_name(services)["other.mov"]
    links = links_touching(services, {other.id})
    services.assets.delete(other.id, viewer=SYSTEM)
    assert links_touching(services, {other.id}) == links
    assert proxies_of(services, other.id)
