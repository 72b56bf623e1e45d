"""Search by meaning (MiniLM, packaged): "dog on a beach" finds the photo labelled golden
retriever + seashore, and the words still count; both databases. The model loads once per
test process, offline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trove.config import Settings
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.pipeline.ai.semantic import SemanticProcessor, embed, text_of, unpack
from trove.pipeline.processor import AssetView
from trove.services.assets import AssetService
from trove.services.container import Services
from trove.services.errors import Invalid

pytest.importorskip("sentence_transformers")
SYSTEM = Viewer.system()


def _view(name: str, labels: list[str], **meta: object) -> AssetView:
    return AssetView(
        id=name, path=Path(name), size=1, mtime_ns=1, mime_type="image/jpeg", asset_type="image",
        hash="h", filename=name, meta={"ai": {"search_text": {"labels": labels}}, **meta},
    )  # fmt: skip


def test_a_query_is_nearest_the_text_that_means_the_same_without_sharing_a_word():
    texts = ["golden retriever. seashore", "espresso. cup", "tiger cat. tabby", "invoice total"]
    vectors = embed(texts)
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    cosines = vectors @ embed(["dog on a beach"])[0]
    assert texts[int(cosines.argmax())] == "golden retriever. seashore"


def test_the_step_embeds_labels_captions_ocr_and_the_name_and_skips_a_file_with_none(tmp_path):
    caption = {"Caption-Abstract": "Rex at Brighton"}
    view = _view("IMG_0001.jpg", ["golden retriever", "seashore"], iptc=caption,
                 ocr={"content": "LIFEGUARD"})  # fmt: skip
    text = text_of(view)
    for part in ("golden retriever", "seashore", "Rex at Brighton", "LIFEGUARD", "IMG 0001"):
        assert part in text
    step = SemanticProcessor(Settings(data_dir=tmp_path, ai_labels=True))
    assert "ai_labels" in step.requires
    stored = step.process(view).metadata["semantic"]
    vector = unpack(stored["vector"])
    assert vector is not None and vector.shape == (384,)
    empty = AssetView(id="x", path=Path("x"), size=1, mtime_ns=1, mime_type=None,
                      asset_type="other", hash=None)  # fmt: skip
    assert step.process(empty).status == "skipped"


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = Services.create(replace(settings, ai_semantic=True))
    yield services
    services.database.dispose()


def test_dog_on_a_beach_finds_the_retriever_on_the_seashore_and_words_still_count(
    services, tmp_path
):
    library = tmp_path / "library"
    library.mkdir()
    for name in ("beach_day.txt", "coffee.txt", "cat.txt"):
        (library / name).write_text("x")
    services.library.scan_and_process([str(library)], wait=True)
    items = services.assets.list(AssetFilters(), viewer=SYSTEM).items
    views = {a["filename"]: a["id"] for a in items}
    labelled = {
        "beach_day.txt": ["golden retriever", "seashore"],
        "coffee.txt": ["espresso", "cup"],
        "cat.txt": ["tabby", "tiger cat"],
    }
    step = SemanticProcessor(services.settings)
    for name, labels in labelled.items():
        meta = step.process(_view(name, labels)).metadata
        _store(services, views[name], meta)  # as the pipeline applies a step's result
    found = services.assets.by_meaning("dog on a beach", viewer=SYSTEM, limit=50)
    assert found[0]["filename"] == "beach_day.txt"
    assert all(f["semantic"] < found[0]["semantic"] for f in found[1:])
    assert found[0]["lexical"] == 0.0  # no word of the query is in it
    coffee = services.assets.by_meaning("coffee", viewer=SYSTEM, limit=50)
    assert coffee[0]["filename"] == "coffee.txt" and coffee[0]["lexical"] == 1.0
    off = replace(services.settings, ai_semantic=False)
    with pytest.raises(Invalid):
        AssetService(off, services.database).by_meaning("dog", viewer=SYSTEM, limit=5)


def _store(services: Services, asset_id: str, meta: dict) -> None:
    from trove.db.models import Asset
    from trove.pipeline.recording import finish

    with services.database.session() as session:
        asset = session.get(Asset, asset_id)
        asset.meta = {**(asset.meta or {}), **meta}
        session.flush()
        finish(session, {asset_id: ("ready", None)})


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    for name, text in (("IMG_0001.txt", "x"), ("IMG_0002.txt", "x"), ("coffee.txt", "x")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, ai_semantic=True)


def test_the_search_box_blends_meaning_with_the_words_in_what_the_viewer_may_see(
    client, monkeypatch
):
    """`GET /api/dam/assets?q=`: a description typed in is embedded at once; "dog on a beach"
    then finds that file first though none of its words do; filters still hold, a query of
    filters alone is not blended, and the meaning never reaches past the viewer or a delete."""

    def search(q: str) -> list[dict]:
        response = client.get("/api/dam/assets", params={"q": q})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    ids = {i["filename"]: i["id"] for i in search("type:document,other")}
    dog = ids["IMG_0001.txt"]
    assert all(i["filename"] != "IMG_0001.txt" for i in search("dog on a beach"))
    described = {"description": "A golden retriever running along the seashore"}
    assert client.patch(f"/api/dam/assets/{dog}", json=described).status_code == 200
    first, *rest = search("dog on a beach")
    assert first["id"] == dog and first["meaning"] > 0
    assert all(r["meaning"] is None or r["meaning"] < first["meaning"] for r in rest)
    coffee = search("coffee")
    assert coffee[0]["filename"] == "coffee.txt" and coffee[0]["match"] is not None
    assert search("dog on a beach -ext:txt") == []  # the filters apply to meaning too
    assert all(i["meaning"] is None for i in search("ext:txt"))  # filters alone: not blended
    services = client.app.state.services
    stranger = Viewer(user_id="00000000-0000-7000-8000-0000000000ff")
    assert services.assets.list(AssetFilters(q="dog on a beach"), viewer=stranger).items == []
    monkeypatch.setattr("trove.services.vector_index.RECONCILE_S", 0.0)
    assert client.delete(f"/api/dam/assets/{dog}", params={"hard": "true"}).status_code == 204
    assert all(i["id"] != dog for i in search("dog on a beach"))
    assert dog not in services.semantic.index._rows  # the index let go of it
