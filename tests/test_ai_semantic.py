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
from trove.services.container import Services
from trove.services.errors import Invalid
from trove.services.semantic import SemanticSearch

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
    found = services.semantic.search("dog on a beach", viewer=SYSTEM)
    assert found[0]["filename"] == "beach_day.txt"
    assert all(f["semantic"] < found[0]["semantic"] for f in found[1:])
    assert found[0]["lexical"] == 0.0  # no word of the query is in it
    coffee = services.semantic.search("coffee", viewer=SYSTEM)
    assert coffee[0]["filename"] == "coffee.txt" and coffee[0]["lexical"] == 1.0
    off = SemanticSearch(
        replace(services.settings, ai_semantic=False), services.database, assets=services.assets
    )
    with pytest.raises(Invalid):
        off.search("dog", viewer=SYSTEM)


def _store(services: Services, asset_id: str, meta: dict) -> None:
    from trove.db.models import Asset

    with services.database.session() as session:
        asset = session.get(Asset, asset_id)
        asset.meta = {**(asset.meta or {}), **meta}
