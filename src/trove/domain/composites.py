"""The metadata namespaces of the composite types (seed 3.2, typed per namespace): what the
texture-pack, app-package and region steps write, and a region's creation body."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class ArchiveEntry(BaseModel):
    index: int
    name: str
    size: int
    compressed_size: int
    crc: str
    modified: str | None = None
    is_dir: bool = False
    is_image: bool = False
    refused: str | None = None


class TexturePackMeta(BaseModel):
    """`metadata.texture_pack`: the archive's directory, read in place."""

    entries: list[ArchiveEntry] = Field(default_factory=list)
    count: int = 0
    files: int = 0
    images: int = 0
    total_size: int = 0
    total_compressed: int = 0
    primary: int | None = None
    notes: list[str] = Field(default_factory=list)


class Licence(BaseModel):
    source: str  # "embedded" (a resource) or "adjacent" (a file beside the installer)
    name: str
    text: str = ""


class AppPackageMeta(BaseModel):
    """`metadata.app_package`: what pefile read from the executable's resources."""

    format: str = "pe"  # or "msi" (not a PE file: no version info)
    product_name: str | None = None
    product_version: str | None = None
    file_version: str | None = None
    company: str | None = None
    description: str | None = None
    copyright: str | None = None
    original_filename: str | None = None
    machine: str | None = None
    is_64bit: bool | None = None
    is_dll: bool | None = None
    signed: bool | None = None
    sections: int | None = None
    icon: bool = False
    licence: Licence | None = None


class InstallOutcome(BaseModel):
    """`metadata.install`: the last run of the configured install command."""

    status: str  # queued / ok / failed
    message: str | None = None
    at: str | None = None


class RegionIn(BaseModel):
    """The body of `POST /api/dam/assets/virtual` for a region: a box on a picture, each
    value a fraction (0-1) of the parent's width or height."""

    parent_id: str = Field(min_length=1, max_length=64)
    bbox: list[float] = Field(min_length=4, max_length=4)
    title: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _inside(self) -> RegionIn:
        x, y, w, h = self.bbox
        if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 and 0 < h <= 1):
            raise ValueError("bbox: x and y in [0, 1), w and h in (0, 1]")
        if x + w > 1.000001 or y + h > 1.000001:
            raise ValueError("bbox: the box runs past the picture's edge")
        return self


class RegionMeta(BaseModel):
    """`metadata.region`: where the region lies, and the picture it was drawn on."""

    bbox: list[float]
    parent_id: str
    parent_hash: str | None = None
    parent_width: int | None = None
    parent_height: int | None = None
