"""BaseAssetDriver (seed 4.8): what one asset type knows about itself.

The seed's methods are `async`; Trove's are plain functions because everything they touch
(the index, files, NiceGUI element trees) is synchronous here (docs/decisions.md: synchronous
SQLAlchemy), and a driver is called from request threads, workers and UI callbacks alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from trove.domain.enums import AssetCategory, AssetStatus, AssetType

if TYPE_CHECKING:
    from trove.drivers.metadata import MetadataSchema


@dataclass(frozen=True, kw_only=True)
class FileClaim:
    """Which files a driver takes: an exact MIME type beats a file suffix, which beats a MIME
    prefix (so a texture-pack driver claiming `application/zip` wins over no claim, and an
    app-package driver claiming `.msi` wins over a generic `application/` prefix)."""

    mime_types: frozenset[str] = frozenset()
    suffixes: frozenset[str] = frozenset()  # lower case, with the dot: ".exe"
    mime_prefixes: tuple[str, ...] = ()


class PreviewKind(StrEnum):
    """How an asset's picture is made (seed: "crop / screenshot / icon")."""

    DECODE = "decode"  # the thumbnails step decodes the file itself
    FRAME = "frame"  # a poster frame of a video
    COVER = "cover"  # embedded cover art, if any
    COLLAGE = "collage"  # the members' previews (a folder, an album)
    CROP = "crop"  # a crop of another asset's preview (a region)
    SCREENSHOT = "screenshot"  # a rendered page (a URL)
    ICON = "icon"  # no picture: the icon stands in


@dataclass(frozen=True, kw_only=True)
class PreviewLogic:
    kind: PreviewKind
    # Material icon shown while there is no picture (the gallery tile, the viewer).
    icon: str = "insert_drive_file"


@dataclass(frozen=True, kw_only=True)
class PlannedLink:
    """A link to make when the asset is created: `outgoing` means new asset -> `other_id`."""

    relation: str
    other_id: str
    outgoing: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class IngestDraft:
    """A virtual asset being created, as `on_ingest` fills it in.

    The id, type, category and URN are set; the driver sets the rest. `lookup(id)` reads
    another asset the caller may see (a `pipeline.processor.AssetView`, or None when there is
    no such asset for this caller), to check references.
    """

    id: str
    asset_type: AssetType
    category: AssetCategory
    storage_urn: str
    lookup: Callable[[str], Any]
    filename: str = ""
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: list[PlannedLink] = field(default_factory=list)
    # PROCESSING: the type's pipeline steps run next; READY when there is nothing to do.
    status: AssetStatus = AssetStatus.PROCESSING
    timeline_at: Any = None  # a naive UTC datetime; now when None


class BaseAssetDriver(ABC):
    """One asset type. Subclasses set the class attributes and implement the methods."""

    asset_type: ClassVar[AssetType]
    category: ClassVar[AssetCategory] = AssetCategory.PHYSICAL
    # Files this driver takes at indexing; empty for types that are never files.
    claims: ClassVar[FileClaim] = FileClaim()
    # Namespaces this type's metadata is typed by (the metadata registry collects them).
    metadata_schemas: ClassVar[tuple[MetadataSchema, ...]] = ()
    # The body of `POST /api/dam/assets/virtual` for this type; None: not creatable that way.
    virtual_data: ClassVar[type[BaseModel] | None] = None

    @abstractmethod
    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        """Fill in a new virtual asset of this type from its validated data (`virtual_data`):
        name, metadata, links to make. Raise `services.errors.Invalid` for a reference that
        does not hold (an unknown parent). Physical files are registered by the scanner; a
        driver adds to them through pipeline steps, so this is for virtual ingestion only."""

    @abstractmethod
    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        """How this asset's picture is made, and the icon shown while there is none."""

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        """The lightbox's stage for this asset (NiceGUI, inside the current container).

        The default shows the largest preview, or the icon with the name and a link to the
        file. Everything from the file or the user is rendered as text, never as HTML.
        """
        import trove.ui.components.stage as stage

        stage.preview_or_placeholder(asset, icon=self.get_preview_logic(asset).icon)

    def render_inspector_section(self, asset: dict[str, Any]) -> None:  # noqa: B027  # optional hook
        """Extra rows at the top of the inspector's General tab (a note's text, a web copy's
        link, a region's parent); nothing by default."""

    def claims_file(self, *, mime_type: str | None, filename: str) -> int:
        """How strongly this driver claims a file: 3 exact MIME, 2 suffix, 1 prefix, 0 not."""
        claim = self.claims
        if mime_type and mime_type in claim.mime_types:
            return 3
        if PurePath(filename).suffix.lower() in claim.suffixes:
            return 2
        if mime_type and any(mime_type.startswith(p) for p in claim.mime_prefixes):
            return 1
        return 0

    def parse_virtual(self, data: Any) -> BaseModel:
        """`data` validated by `virtual_data` (a pydantic ValidationError names the field)."""
        assert self.virtual_data is not None
        return self.virtual_data.model_validate(data)
