"""The AI processors, registered like any plugin's; each only when its setting is on."""

from __future__ import annotations

from trove.config import Settings
from trove.pipeline.processor import MediaProcessor
from trove.plugins.hookspecs import hookimpl


@hookimpl
def register_media_processors(settings: Settings) -> list[MediaProcessor]:
    processors: list[MediaProcessor] = []
    if settings.ai_labels:
        from trove.pipeline.ai.labels import LabelProcessor

        processors.append(LabelProcessor(settings))
    if settings.ai_faces:
        from trove.pipeline.ai.faces import FaceProcessor

        processors.append(FaceProcessor(settings))
    if settings.ai_semantic:
        from trove.pipeline.ai.semantic import SemanticProcessor

        processors.append(SemanticProcessor(settings))
    return processors
