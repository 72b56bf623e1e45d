"""An asset as the API returns it, with the seed's field names (no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trove.domain.edits import current_thumbnails, state_of
from trove.domain.paths import display, from_stored
from trove.domain.sidecars import effective_description, effective_metadata, effective_title
from trove.domain.timeline import TimelineSource


def iso_utc(value: datetime | None) -> str | None:
    """A naive UTC time from the index as RFC 3339 (the `Z` says UTC)."""
    return value.isoformat() + "Z" if value else None


def _shown(stored: str | None, *, escaped: bool) -> str | None:
    """Names that are not UTF-8 are shown with \\xNN escapes for their odd bytes."""
    if stored is None or not escaped:
        return stored
    return display(from_stored(stored, escaped=True))


def asset_summary(asset: Any, *, collage_shown: bool = True) -> dict[str, Any]:
    """The fields a listing needs. `collage_shown=False`: an album whose collage shows
    pictures the viewer may not see (services/collages.py) is listed without preview URLs,
    and without the collage's key."""
    return {
        "id": asset.id,
        "filename": _shown(asset.filename, escaped=asset.path_escaped),
        "path": _shown(asset.rel_path, escaped=asset.path_escaped),
        "root_id": asset.root_id,
        "size": asset.size,
        "mime_type": asset.mime_type,
        "asset_type": asset.asset_type,
        "category": asset.category,
        "duration": asset.duration,  # a video tile shows it
        "status": asset.status,
        "error_message": asset.error_message,
        # An album's hash is its collage's key, a hash of its pictures' hashes.
        "hash": asset.hash if collage_shown else None,
        "tags": asset.tags,
        # A title typed in Trove, else a sidecar's (domain/sidecars.py); so for the others.
        "title": effective_title(asset.title, asset.summary_meta),
        "captured_at": iso_utc(asset.captured_at),
        # Undated assets sort last under a placeholder time that is never shown.
        "timeline_at": None
        if asset.timeline_source == TimelineSource.NONE
        else iso_utc(asset.timeline_at),
        "timeline_source": asset.timeline_source,
        "deleted": asset.deleted_at is not None,
        **gallery_marks(effective_metadata(asset.summary_meta)),
        # The gallery grid shows `small` for every tile: listing it saves a request per tile.
        "thumbnails": thumbnail_urls(asset) if collage_shown else {},
    }


def asset_detail(asset: Any, *, collage_shown: bool = True) -> dict[str, Any]:
    """Every field of the seed's Asset model, plus identity and timestamps."""
    return {
        **asset_summary(asset, collage_shown=collage_shown),
        "owner_id": asset.owner_id,
        "is_virtual": asset.is_virtual,
        "visibility": asset.visibility,
        "storage_urn": asset.storage_urn,
        "phash": asset.phash,
        "thumbnail_urn": asset.thumbnail_urn if collage_shown else None,
        "width": asset.width,
        "height": asset.height,
        "description": effective_description(asset.description, asset.meta),
        "metadata": effective_metadata(asset.meta),
        "version": asset.version,
        "mtime_ns": asset.mtime_ns,
        "created_at": iso_utc(asset.created_at),
        "updated_at": iso_utc(asset.updated_at),
        "deleted_at": iso_utc(asset.deleted_at),
        "edits": state_of(asset.meta).get("edits", []),
        "edited": edited(asset),
    }


def edited(asset: Any) -> dict[str, Any] | None:
    """The render of the asset's edits while it is the render of its present content: what
    `?variant=edited` downloads; the original's previews stay at `original_thumbnails`."""
    state = state_of(asset.meta)
    render = state.get("render")
    if not render or state.get("of_hash") != asset.hash:
        return None
    return {
        "id": render["id"],
        "version": state.get("version"),
        "mime_type": render["mime_type"],
        "size": render["size"],
        "width": render["width"],
        "height": render["height"],
        "url": f"/api/dam/assets/{asset.id}/file?variant=edited",
        "original_url": f"/api/dam/assets/{asset.id}/file?variant=original",
        "original_thumbnails": original_thumbnail_urls(asset.id, asset.thumbnails),
    }


def gallery_marks(meta: dict[str, Any] | None) -> dict[str, Any]:
    """`favorite` and `rating` as the asset JSON shows them: views of `metadata.gallery` as
    shown (a sidecar's rating under the one given in Trove, domain/sidecars.py), the one place
    they are stored (so export, import and the namespace PATCH keep them too)."""
    gallery = (meta or {}).get("gallery")
    if not isinstance(gallery, dict):
        return {"favorite": False, "rating": 0}
    rating = gallery.get("rating")
    valid = isinstance(rating, int) and not isinstance(rating, bool) and 0 <= rating <= 5
    return {"favorite": gallery.get("favorite") is True, "rating": rating if valid else 0}


def web_copy(proxy: Any) -> dict[str, Any]:
    """A proxy as its original's detail names it."""
    return {
        "id": proxy.id,
        "mime_type": proxy.mime_type,
        "size": proxy.size,
        "width": proxy.width,
        "height": proxy.height,
        "url": f"/api/dam/assets/{proxy.id}/file",
    }


def thumbnail_urls(asset: Any) -> dict[str, str]:
    """small/medium/large -> URL, of the edited render's previews when the asset is edited.
    `v` is the cache key the previews were made under (the content hash, or the render's),
    so the URLs change with what they show and may be cached as immutable."""
    return _urls(asset.id, current_thumbnails(asset))


ORIGINAL = "variant=original&"


def original_thumbnail_urls(asset_id: str, urns: dict[str, str] | None) -> dict[str, str]:
    """The original's previews, edited or not: what a box drawn on the original (a face)
    is cut from."""
    return _urls(asset_id, urns, query=ORIGINAL)


def original_preview_url(asset_id: str, size: str, *, content_hash: str) -> str:
    """One of the original's previews when only its content hash is at hand (a group of
    identical copies): the original's previews are kept under that hash."""
    return _url(asset_id, size, version=content_hash[:16], query=ORIGINAL)


def _urls(asset_id: str, urns: dict[str, str] | None, *, query: str = "") -> dict[str, str]:
    urls = {}
    for size, urn in (urns or {}).items():
        version = str(urn).rstrip("/").split("/")[-2][:16] if "/" in str(urn) else ""
        urls[size] = _url(asset_id, size, version=version, query=query)
    return urls


def _url(asset_id: str, size: str, *, version: str, query: str) -> str:
    return f"/api/dam/assets/{asset_id}/thumbnail/{size}?{query}v={version}"
