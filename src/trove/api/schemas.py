"""Request and response bodies, so /docs describes the API exactly."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AssetOut(BaseModel):
    """An asset with the seed's field names (summary fields; detail adds the rest)."""

    model_config = ConfigDict(extra="allow")

    id: str
    filename: str
    path: str | None
    root_id: str | None
    size: int | None
    mime_type: str | None
    asset_type: str
    category: str
    status: str
    error_message: str | None
    hash: str | None
    tags: list[str]
    title: str | None
    captured_at: str | None
    timeline_at: str | None
    deleted: bool


class AssetList(BaseModel):
    items: list[AssetOut]
    next_cursor: str | None


class AssetPatchIn(BaseModel):
    """Only the fields sent are changed; `null` clears title or description."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=100_000)
    tags: list[str] | None = Field(default=None, max_length=500)
    visibility: str | None = None
    metadata: dict[str, dict[str, Any]] | None = Field(
        default=None, description="Exactly one namespace, replaced as a whole."
    )


class RootIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=4096)
