"""Image labels from EfficientNet-Lite0 on real photographs (scikit-image ships them inside the
package): readable ImageNet tags with confidences above a threshold, searchable; both
databases. The model loads once per test process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from trove.config import Settings
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.pipeline.ai.labels import LabelProcessor, classify
from trove.pipeline.processor import AssetView
from trove.plugins.manager import make_plugin_manager
from trove.services.container import Services

pytest.importorskip("torch")
data = pytest.importorskip("skimage.data")
SYSTEM = Viewer.system()


def _photo(path: Path, name: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(getattr(data, name)()).convert("RGB").save(path, quality=92)
    return path


def test_a_cat_and_a_cup_of_coffee_are_named_as_such_with_their_confidence():
    coffee = classify(Image.fromarray(data.coffee()))
    assert coffee[0][0] == "espresso" and coffee[0][1] > 0.8
    cat = classify(Image.fromarray(data.chelsea()), top=3)
    assert {"tiger cat", "Egyptian cat", "tabby"} == {label for label, _ in cat}
    assert [c for _, c in cat] == sorted((c for _, c in cat), reverse=True)


def test_labels_below_the_threshold_are_left_out_and_a_setting_caps_how_many(tmp_path):
    image = Image.fromarray(data.chelsea()).convert("RGB")
    view = AssetView(
        id="a", path=tmp_path / "cat.jpg", size=1, mtime_ns=1, mime_type="image/jpeg",
        asset_type="image", hash="h", scratch={"preview_medium": image},
    )  # fmt: skip
    strict = LabelProcessor(Settings(data_dir=tmp_path, ai_label_threshold=0.3))
    ai = strict.process(view).metadata["ai"]
    assert [label["label"] for label in ai["labels"]] == ["tiger cat", "Egyptian cat"]
    assert ai["search_text"] == {"labels": ["tiger cat", "Egyptian cat"]}
    assert ai["threshold"] == 0.3 and all(0.3 <= label["confidence"] <= 1 for label in ai["labels"])
    one = LabelProcessor(Settings(data_dir=tmp_path, ai_label_threshold=0.0, ai_label_max=1))
    assert len(one.process(view).metadata["ai"]["labels"]) == 1


def test_the_labelling_step_is_in_the_pipeline_only_when_its_setting_is_on(tmp_path):
    manager = make_plugin_manager(load_entry_points=False)
    off = Settings(data_dir=tmp_path)
    names = {p.name for ps in manager.hook.register_media_processors(settings=off, drivers=None)
             for p in ps}  # fmt: skip
    assert "ai_labels" not in names and "thumbnails" in names
    on = replace(off, ai_labels=True)
    names = {p.name for ps in manager.hook.register_media_processors(settings=on, drivers=None)
             for p in ps}  # fmt: skip
    assert "ai_labels" in names


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = Services.create(replace(settings, ai_labels=True))
    yield services
    services.database.dispose()


def test_a_scanned_photo_gets_typed_ai_labels_that_free_text_search_finds(services, tmp_path):
    library = tmp_path / "library"
    _photo(library / "IMG_0001.jpg", "coffee")
    _photo(library / "IMG_0002.jpg", "chelsea")
    services.library.scan_and_process([str(library)], wait=True)
    by_name = {
        a["filename"]: a
        for a in services.assets.list(AssetFilters(type=["image"]), viewer=SYSTEM).items
    }
    coffee = services.assets.get(by_name["IMG_0001.jpg"]["id"], viewer=SYSTEM)["metadata"]["ai"]
    assert coffee["labels"][0]["label"] == "espresso"
    assert coffee["model"].startswith("efficientnet-lite0")
    found = services.assets.list(AssetFilters(q="espresso"), viewer=SYSTEM).items
    assert [a["filename"] for a in found] == ["IMG_0001.jpg"]
    assert [
        a["filename"] for a in services.assets.list(AssetFilters(q="tabby"), viewer=SYSTEM).items
    ] == ["IMG_0002.jpg"]
    schemas = {s["namespace"]: s for s in services.drivers.metadata.json_schemas()}
    assert schemas["ai"]["writable"] is False
    assert "labels" in schemas["ai"]["json_schema"]["properties"]
