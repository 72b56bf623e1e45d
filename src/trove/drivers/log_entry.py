"""Log entries: a timestamped text note about assets (`related_to` each of them). Virtual:
`POST /api/dam/assets/virtual {"asset_type": "log_entry", "data": {"text": ..., "related_to":
[ids], "at": optional ISO time}}`. Nothing to process: it is ready when created."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from trove.domain.enums import AssetCategory, AssetStatus, AssetType, Relation
from trove.domain.namespaces import LogEntryMeta
from trove.drivers.base import BaseAssetDriver, IngestDraft, PlannedLink, PreviewKind, PreviewLogic
from trove.drivers.metadata import MetadataSchema
from trove.services.errors import Invalid

NAMESPACE = "log_entry"
MAX_RELATED = 100
TITLE_CHARS = 80

AssetId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]+$")]


class LogEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    related_to: list[AssetId] = Field(default_factory=list, max_length=MAX_RELATED)
    at: datetime | None = Field(default=None, description="When it happened; now if left out.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip() or "\x00" in value:
            raise ValueError("write some text (no NUL characters)")
        return value


class LogEntryDriver(BaseAssetDriver):
    asset_type = AssetType.LOG_ENTRY
    category = AssetCategory.VIRTUAL
    metadata_schemas = (MetadataSchema(namespace=NAMESPACE, model=LogEntryMeta, title="Note"),)
    virtual_data = LogEntryIn

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        assert isinstance(source_data, LogEntryIn)
        at = _naive_utc(source_data.at or datetime.now(UTC))
        for other in dict.fromkeys(source_data.related_to):
            if asset.lookup(other) is None:
                raise Invalid(f"data.related_to: no asset with id {other!r}")
            asset.links.append(PlannedLink(relation=Relation.RELATED_TO, other_id=other))
        first_line = source_data.text.strip().splitlines()[0].strip()
        asset.filename = f"Note {at:%Y-%m-%d %H:%M}"
        asset.title = first_line[:TITLE_CHARS] + ("…" if len(first_line) > TITLE_CHARS else "")
        asset.mime_type = "text/plain"
        asset.metadata[NAMESPACE] = {"text": source_data.text, "at": at.isoformat() + "Z"}
        asset.timeline_at = at
        asset.status = AssetStatus.READY

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.ICON, icon="sticky_note_2")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        from nicegui import ui

        note = (asset.get("metadata") or {}).get(NAMESPACE) or {}
        with ui.column().classes("trove-viewer-note q-pa-lg gap-2"):
            ui.icon("sticky_note_2", size="48px")
            ui.label(str(note.get("text") or "")).classes("trove-note-text")


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
