"""Regions (seed 4.8, RegionDriver): a box on a picture, made without a file by
`POST /api/dam/assets/virtual {"asset_type": "region", "data": {"parent_id": ID, "bbox":
[x, y, w, h]}}` (fractions 0-1 of the parent's width and height).

Ingest saves `metadata.region = {bbox, parent_id, ...}` and links the region `extracted_from`
its parent; no file is made. The `region_crop` step cuts its preview from the parent's. The
gallery shows the crop; the lightbox shows the parent with the region highlighted, and a
picture's stage and inspector show the regions drawn on it. A region may `depicts` an entity.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.composites import RegionIn, RegionMeta
from trove.domain.enums import AssetCategory, AssetStatus, AssetType, Relation
from trove.drivers.base import BaseAssetDriver, IngestDraft, PlannedLink, PreviewKind, PreviewLogic
from trove.drivers.metadata import MetadataSchema
from trove.services.errors import Invalid

NAMESPACE = "region"
# What a region can be drawn on: a type whose preview is the picture itself.
DRAWABLE = frozenset({AssetType.IMAGE, AssetType.VIDEO, AssetType.DOCUMENT})


class RegionDriver(BaseAssetDriver):
    asset_type = AssetType.REGION
    category = AssetCategory.COMPOSITE
    metadata_schemas = (MetadataSchema(namespace=NAMESPACE, model=RegionMeta, title="Region"),)
    virtual_data = RegionIn

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        assert isinstance(source_data, RegionIn)
        parent = asset.lookup(source_data.parent_id)
        if parent is None:
            raise Invalid(f"data.parent_id: no asset with id {source_data.parent_id!r}")
        if parent.asset_type not in DRAWABLE or not parent.hash:
            raise Invalid("data.parent_id: regions are drawn on pictures with a preview")
        asset.metadata[NAMESPACE] = RegionMeta(
            bbox=source_data.bbox,
            parent_id=parent.id,
            parent_hash=parent.hash,
            parent_width=parent.width,
            parent_height=parent.height,
        ).model_dump()
        x, y, w, h = (round(v * 100) for v in source_data.bbox)
        asset.filename = f"{parent.filename or 'picture'} ({w}x{h}% at {x},{y})"
        asset.title = source_data.title
        asset.links.append(PlannedLink(relation=Relation.EXTRACTED_FROM, other_id=parent.id))
        asset.status = AssetStatus.PROCESSING  # region_crop makes its preview next

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.CROP, icon="crop_free")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        """The parent picture with this region highlighted (and the others drawn)."""
        from trove.ui.components.composite_views import region_stage

        region_stage(asset)

    def render_inspector_section(self, asset: dict[str, Any]) -> None:
        from trove.ui.components.composite_views import region_parent_row

        region_parent_row(asset)
