"""Trove's own processors, registered through the same hook a third-party plugin uses.

The processor list is the pipeline's declaration: the registry orders it by `requires`.
"""

from __future__ import annotations

from trove.config import Settings
from trove.drivers.manager import AssetDriverManager
from trove.pipeline.processor import MediaProcessor
from trove.pipeline.processors.app_package import AppPackageProcessor
from trove.pipeline.processors.collection_preview import CollectionPreviewProcessor
from trove.pipeline.processors.document_type import DocumentTypeProcessor
from trove.pipeline.processors.fingerprint import Sha256Processor
from trove.pipeline.processors.metadata import MetadataProcessor
from trove.pipeline.processors.mime import MimeProcessor
from trove.pipeline.processors.ocr import OcrProcessor
from trove.pipeline.processors.phash import PhashProcessor
from trove.pipeline.processors.places import PlacesProcessor
from trove.pipeline.processors.probe import ProbeProcessor
from trove.pipeline.processors.region_crop import RegionCropProcessor
from trove.pipeline.processors.sidecar import SidecarProcessor
from trove.pipeline.processors.text import PdfTextProcessor, PlainTextProcessor
from trove.pipeline.processors.texture_pack import (
    TexturePackIndexProcessor,
    TexturePackPreviewProcessor,
)
from trove.pipeline.processors.thumbnails import ThumbnailProcessor
from trove.pipeline.processors.transcode import TranscodeProcessor
from trove.pipeline.processors.web_scraper import WebScraperProcessor
from trove.plugins.hookspecs import hookimpl


@hookimpl
def register_media_processors(
    settings: Settings, drivers: AssetDriverManager
) -> list[MediaProcessor]:
    return [
        MimeProcessor(drivers),
        Sha256Processor(),
        MetadataProcessor(settings),
        SidecarProcessor(settings),  # before places: a sidecar may give the position
        ProbeProcessor(settings),
        ThumbnailProcessor(settings),
        PhashProcessor(settings),
        # After the previews: its index, loaded ahead once a position is read (warm), is
        # then ready when the positions are looked up.
        PlacesProcessor(),
        PdfTextProcessor(settings),
        PlainTextProcessor(settings),
        OcrProcessor(settings),
        TranscodeProcessor(settings),
        CollectionPreviewProcessor(settings),
        TexturePackIndexProcessor(settings),
        TexturePackPreviewProcessor(settings),
        AppPackageProcessor(settings),
        DocumentTypeProcessor(settings),
        RegionCropProcessor(settings),
        WebScraperProcessor(settings),
    ]
