"""What AlbumService and the collection-preview processor agree on (no I/O, no imports)."""

# The album's own metadata namespace: {"cover_id": ..., "preview_sources": [...]}.
NAMESPACE = "album"
# Content hashes of the pictures its collage shows, the cover first.
SOURCES_KEY = "preview_sources"
COVER_KEY = "cover_id"
MAX_TILES = 4
PREVIEW_STEP = "collection_preview"


def preview_sources(meta: dict | None) -> list[str]:
    """The content hashes an album's collage shows ([] for any other asset)."""
    album = (meta or {}).get(NAMESPACE)
    sources = album.get(SOURCES_KEY) if isinstance(album, dict) else None
    return [s for s in sources if isinstance(s, str)] if isinstance(sources, list) else []


def without_preview_sources(meta: dict) -> dict:
    """The metadata as one who may not see every collage picture is shown it: the hashes
    would tell which files the album's owner put in it."""
    album = meta.get(NAMESPACE)
    if not isinstance(album, dict) or SOURCES_KEY not in album:
        return meta
    return {**meta, NAMESPACE: {k: v for k, v in album.items() if k != SOURCES_KEY}}
