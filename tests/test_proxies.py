"""Transcode proxies (the WebP made from a TIFF, the MP4 made from a MOV) are not assets of
their own in listings and counts: reachable by id, by an explicit `type=proxy`, and from their
original's links; gone with their original on a hard delete. Real pipeline, both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.pipeline_media import photo, video
from trove.db.models import Asset, Link
from trove.domain.enums import AssetType, Relation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proxies") / "library"
    root.mkdir()
    photo((320, 240), seed=3).save(root / "scan.tif", "TIFF")
    video(root / "clip.mov", size=(160, 120), seconds=1)
    return root


def transformed_to(client, original_id: str) -> list[str]:
    with client.app.state.services.database.session() as session:
        return list(
            session.scalars(
                select(Link.target_id)
                .join(Asset, Asset.id == Link.target_id)
                .where(
                    Link.source_id == original_id,
                    Link.relation == Relation.TRANSFORMED_TO,
                    Asset.asset_type == AssetType.PROXY,
                )
            )
        )


def originals(client) -> dict[str, dict]:
    items = client.get("/api/dam/assets", params={"limit": 500}).json()["items"]
    return {a["filename"]: a for a in items if a["asset_type"] != "collection"}


def test_proxies_are_absent_from_listings_and_counts_but_reachable_by_id(client):
    shown = originals(client)
    assert sorted(shown) == ["clip.mov", "scan.tif"]
    proxies = {name: transformed_to(client, a["id"]) for name, a in shown.items()}
    assert all(len(ids) == 1 for ids in proxies.values()), proxies  # the pipeline made them
    status = client.get("/api/dam/status").json()
    assert "proxy" not in status["by_type"]
    assert sum(status["by_status"].values()) == sum(status["by_type"].values())
    assert sum(status["by_type"].values()) == 2 + status["by_type"]["collection"]
    for name, (proxy_id,) in proxies.items():
        detail = client.get(f"/api/dam/assets/{proxy_id}")
        assert detail.status_code == 200 and detail.json()["asset_type"] == "proxy", name
        client.patch(f"/api/dam/assets/{proxy_id}", json={"tags": ["proxytag"]})
    tags = client.get("/api/dam/tags").json()
    assert "proxytag" not in str(tags)
    assert client.get("/api/dam/assets", params={"tag": "proxytag"}).json()["items"] == []
    explicit = client.get("/api/dam/assets", params={"type": "proxy"}).json()["items"]
    assert sorted(a["id"] for a in explicit) == sorted(i for ids in proxies.values() for i in ids)


def test_the_gallery_with_no_filter_lists_the_originals_and_no_proxy(client):
    from trove.ui.components.filters import GalleryFilters

    params = {**GalleryFilters().to_params(), "limit": 500}
    items = client.get("/api/dam/assets", params=params).json()["items"]
    assert sorted(a["filename"] for a in items) == ["clip.mov", "scan.tif"]


def test_a_hard_delete_of_the_original_takes_its_proxy_and_its_cached_file(client, settings):
    original = originals(client)["clip.mov"]
    (proxy_id,) = transformed_to(client, original["id"])
    content_hash = client.get(f"/api/dam/assets/{original['id']}").json()["hash"]
    cached = settings.resolved_cache_dir / content_hash[:2] / content_hash
    assert any(cached.iterdir())
    response = client.delete(f"/api/dam/assets/{original['id']}", params={"hard": "true"})
    assert response.status_code == 204
    assert client.get(f"/api/dam/assets/{proxy_id}").status_code == 404
    assert client.get("/api/dam/assets", params={"type": "proxy"}).json()["items"] != []  # TIFF's
    assert not cached.exists()
