"""What AlbumService and the collection-preview processor agree on (no I/O, no imports)."""

# The album's own metadata namespace: {"cover_id": ..., "preview_sources": [...]}.
NAMESPACE = "album"
# Content hashes of the pictures its collage shows, the cover first.
SOURCES_KEY = "preview_sources"
COVER_KEY = "cover_id"
MAX_TILES = 4
PREVIEW_STEP = "collection_preview"
