"""Creating a virtual asset from its driver (`AssetService.ingest_virtual`).

One transaction: the data is validated by the driver's `virtual_data`, the driver fills in
the draft (`on_ingest`), the record is stored, and the links the driver planned are made
through LinkManager (so each obeys the relation registry's rules, like any other link).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from trove.db.models import Asset
from trove.domain.access import LOCAL_OWNER_ID, Viewer
from trove.domain.enums import AssetType
from trove.domain.ids import new_id
from trove.drivers.base import IngestDraft
from trove.drivers.manager import AssetDriverManager
from trove.pipeline.processor import AssetView
from trove.pipeline.runner import view_of
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.services.errors import Invalid
from trove.services.storable import storable_json, storable_text

if TYPE_CHECKING:
    from trove.services.links import LinkManager

MAX_DATA_BYTES = 256 * 1024


def create_virtual(
    session: Session,
    drivers: AssetDriverManager,
    links: LinkManager,
    *,
    asset_type: str,
    data: Any,
    viewer: Viewer,
) -> Asset:
    """The new asset, owned by the viewer; references the driver checks (`lookup`) are to
    assets this viewer may see."""
    driver = drivers.get(asset_type)
    if driver is None or driver.virtual_data is None:
        known = ", ".join(sorted(str(t) for t in drivers.virtual_types())) or "none"
        raise Invalid(f"asset_type: {asset_type!r} cannot be created virtually; types: {known}")
    if len(storable_json(data, field="data").encode()) > MAX_DATA_BYTES:
        raise Invalid(f"data: larger than {MAX_DATA_BYTES} bytes")
    try:
        source_data = driver.parse_virtual(data)
    except ValidationError as exc:
        raise Invalid(_first_problem(exc)) from exc
    asset_id = new_id()
    repo = AssetRepository(session)
    draft = IngestDraft(
        id=asset_id,
        asset_type=AssetType(asset_type),
        category=driver.category,
        storage_urn=f"virtual://{asset_type}/{asset_id}",
        lookup=lambda other: _visible(repo, other, viewer),
    )
    driver.on_ingest(draft, source_data)
    now = utcnow()
    asset = repo.add(
        Asset(
            id=asset_id,
            owner_id=viewer.user_id or LOCAL_OWNER_ID,
            filename=storable_text(draft.filename or f"{asset_type} {asset_id}", field="filename"),
            title=draft.title,
            description=draft.description,
            mime_type=draft.mime_type,
            width=draft.width,
            height=draft.height,
            is_virtual=True,
            category=draft.category,
            asset_type=draft.asset_type,
            status=draft.status,
            storage_urn=draft.storage_urn,
            thumbnails={},
            meta=draft.metadata,
            created_at=now,
            updated_at=now,
            timeline_at=draft.timeline_at or now,
        )
    )
    for planned in draft.links:
        source, target = (asset_id, planned.other_id)
        if not planned.outgoing:
            source, target = target, source
        links.link_in(session, source, target, planned.relation, metadata=planned.metadata)
    return asset


def _visible(repo: AssetRepository, asset_id: str, viewer: Viewer) -> AssetView | None:
    """Another asset as plain values (its `path` is its URN: a driver reads no file here)."""
    asset = repo.visible(asset_id, viewer)
    if asset is None:
        return None
    return view_of(asset, Path(asset.storage_urn))


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in ("data", *error.get("loc", ())))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"
