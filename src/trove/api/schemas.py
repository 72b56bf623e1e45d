"""Request and response bodies: every route declares its models, so /openapi.json is the
contract (clients can be generated from it, and tests/test_api_contract.py holds the server to
it). Services return domain dicts; FastAPI validates them into these models on the way out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trove.domain.edits import EditOp
from trove.domain.enums import AssetCategory, AssetStatus, AssetType, RootStatus, Visibility
from trove.domain.progress import LibraryProgress
from trove.domain.timeline import TimelineSource

# An id as the server issues them (UUIDv7 text). Bounded and free of NUL, which PostgreSQL's
# text refuses: a malformed id is a 422 or a 404, never a database error.
ID_PATTERN = r"^[^\x00]+$"
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]

# --- errors ------------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every error the API gives, whatever its status code (api/errors.py)."""

    detail: str = Field(description="What went wrong, in one sentence a person can act on.")


_ERROR_MEANINGS = {
    400: "The body could not be parsed (not JSON, or broken multipart).",
    401: "Not signed in: no valid session cookie or API token (or a wrong password), or a"
    " share link's password is needed.",
    403: "Refused: not allowed for this user or credential, or by this server's policy"
    " (TROVE_ALLOWED_ROOTS, a cross-site request).",
    404: "No such asset, library or preview (or it cannot be seen).",
    409: "The request conflicts with the current state.",
    410: "The share link was revoked or has expired.",
    413: "The body is larger than the configured limit.",
    422: "A parameter or the body is invalid; `detail` names it.",
    429: "Too many failed sign-ins; `Retry-After` says when to try again.",
    503: "The file's library is offline or the file is missing on disk.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route declares, each `{"detail": "..."}`. Every route has 422
    already (create_app declares it for all: any parameter can be malformed)."""
    return {code: {"model": ErrorOut, "description": _ERROR_MEANINGS[code]} for code in codes}


# --- assets ------------------------------------------------------------------------------------


ThumbnailSize = Literal["small", "medium", "large"]


class InheritedFrom(BaseModel):
    """A folder or album above an asset whose own tag the asset inherits."""

    id: str
    name: str
    asset_type: AssetType


class SearchMatch(BaseModel):
    """Where a search result matched: plain text (render it as text, never as HTML) and the
    [start, end) character ranges of it that matched."""

    field: str = Field(description="The document field: name, folders, tags, content, ...")
    text: str
    highlights: list[tuple[int, int]]


class AssetOut(BaseModel):
    """An asset as a listing shows it, with the seed's field names."""

    id: str
    filename: str
    path: str | None = Field(description="Relative to its library root; null for virtual assets.")
    root_id: str | None
    size: int | None
    mime_type: str | None
    asset_type: AssetType
    category: AssetCategory
    duration: float | None = Field(default=None, description="Seconds, for video and audio.")
    status: AssetStatus
    error_message: str | None
    hash: str | None = Field(description="SHA-256 of the content, once hashed.")
    tags: list[str]
    title: str | None
    captured_at: datetime | None = Field(description="When the photo or video was taken.")
    timeline_at: datetime | None = Field(
        description="The date the gallery sorts by; null for an undated asset (listed last)."
    )
    timeline_source: TimelineSource | None = Field(
        default=None,
        description="What gave timeline_at: the capture time of a metadata group (exif, xmp, "
        "iptc, quicktime, document), a date in the file name or a folder name, the file's "
        "mtime, or none (undated). Null for folders and albums.",
    )
    deleted: bool
    favorite: bool = Field(description="Marked with a heart (`metadata.gallery.favorite`).")
    rating: int = Field(
        ge=0, le=5, description="Stars, 0 (unrated) to 5 (`metadata.gallery.rating`)."
    )
    thumbnails: dict[ThumbnailSize, str] = Field(
        description="Size -> URL of a WebP preview, once the thumbnails step has made them."
    )
    inherited_tags: dict[str, list[InheritedFrom]] = Field(
        default_factory=dict,
        description="Tags this asset inherits, each with the folders or albums it comes from "
        "(a tag filter matches these too).",
    )
    match: SearchMatch | None = Field(
        default=None, description="With `q`: where this result matched its words."
    )
    meaning: float | None = Field(
        default=None,
        description="With `q` and search by meaning on: the cosine of its meaning with the "
        "query's words, for a result the meaning found (docs/search.md).",
    )
    stack_count: int = Field(
        default=1,
        description="How many copies of this file (itself included) its tile stands for, "
        "with `stack`; in a detail, itself and the copies the caller sees; else 1.",
    )


class AssetCopy(BaseModel):
    """Another place the same bytes (same SHA-256) are found."""

    id: str
    root_id: str | None
    root_path: str | None
    path: str | None
    filename: str
    storage_urn: str | None
    status: AssetStatus
    corrupted: bool = Field(
        default=False, description="This copy failed its own bitrot check: do not restore from it."
    )


class IntegrityNote(BaseModel):
    kind: str
    expected_hash: str | None
    actual_hash: str | None
    found_at: datetime


class WebCopy(BaseModel):
    """The proxy a browser plays or shows in the original's place (made by the pipeline)."""

    id: str
    mime_type: str | None
    size: int | None
    width: int | None
    height: int | None
    url: str = Field(description="Its bytes (Range supported).")


class EditedOut(BaseModel):
    """The render of the asset's edit list (a proxy in the cache; the original is untouched)."""

    id: str = Field(description="The render's proxy asset (linked `transformed_to`).")
    version: int | None = Field(description="The asset version that saved these edits.")
    mime_type: str
    size: int
    width: int
    height: int
    url: str = Field(description="Download of the edited version.")
    original_url: str = Field(description="Download of the original.")
    original_thumbnails: dict[ThumbnailSize, str] = Field(
        description="The original's previews (`thumbnails` shows the edited ones)."
    )


class AssetDetail(AssetOut):
    """Every field of the seed's Asset, plus identity, timestamps and integrity."""

    owner_id: str | None
    is_virtual: bool
    visibility: Visibility
    storage_urn: str | None
    phash: str | None = Field(description="64-bit perceptual hash, hex.")
    thumbnail_urn: str | None
    width: int | None
    height: int | None
    description: str | None
    metadata: dict[str, Any] = Field(
        description="Namespaces: exif, iptc, xmp, geo, file, ... and the user's own."
    )
    version: int
    mtime_ns: int | None
    created_at: datetime | None
    updated_at: datetime | None
    deleted_at: datetime | None
    copies: list[AssetCopy] = Field(description="This file also exists in ...")
    corrupted: bool = Field(description="Its bytes changed while size and date did not.")
    integrity: list[IntegrityNote]
    web_copy: WebCopy | None = Field(
        default=None,
        description="A web-friendly copy of an original browsers cannot show (TIFF, HEIC, "
        "RAW, AVI, MKV, ...), once the transcode step has made it.",
    )
    edits: list[EditOp] = Field(
        default_factory=list,
        description="The non-destructive edit list (PUT /api/dam/assets/{id}/edits); [] when "
        "the asset shows its original.",
    )
    edited: EditedOut | None = Field(
        default=None, description="The rendered edits, when there are any."
    )


class AssetList(BaseModel):
    items: list[AssetOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class AssetPatchIn(BaseModel):
    """Only the fields sent are changed; `null` (or "") clears title or description, and a
    cleared one hides what an XMP sidecar says (a title never set shows the sidecar's)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=100_000)
    tags: list[str] | None = Field(default=None, max_length=500)
    # Not nullable (unlike title and description): there is nothing to clear. The None
    # default only marks "not sent" (exclude_unset); pydantic does not validate defaults.
    visibility: Visibility = Field(default=None)  # type: ignore[assignment]  # as said above
    metadata: dict[str, dict[str, Any]] = Field(
        default=None,  # type: ignore[arg-type]  # None marks "not sent", as for visibility
        description="Exactly one namespace, replaced as a whole.",
    )
    # Views of metadata.gallery: set alone, they leave its other keys as they are. Not
    # nullable; the None default marks "not sent", as for visibility.
    favorite: bool = Field(  # type: ignore[assignment]  # None marks "not sent", as said above
        default=None, description="Mark or unmark with a heart."
    )
    rating: int = Field(  # type: ignore[assignment]  # None marks "not sent", as said above
        default=None, ge=0, le=5, description="0 (unrated) to 5 stars."
    )


class VirtualAssetIn(BaseModel):
    """A new asset without a file; `data` is checked by the type's driver (GET
    /api/dam/schemas lists the types and what they take)."""

    model_config = ConfigDict(extra="forbid")

    asset_type: AssetType
    data: dict[str, Any] = Field(default_factory=dict)


class NamespaceSchema(BaseModel):
    namespace: str
    title: str
    writable: bool = Field(description="Users may PATCH it (validated against json_schema).")
    json_schema: dict[str, Any]


class VirtualType(BaseModel):
    asset_type: AssetType
    json_schema: dict[str, Any] = Field(description="What `data` takes.")


class SchemaList(BaseModel):
    """Every registered metadata namespace, and the body each virtual asset type takes."""

    items: list[NamespaceSchema]
    virtual_types: list[VirtualType]


class TagCount(BaseModel):
    tag: str
    count: int


class TagList(BaseModel):
    items: list[TagCount]


class BulkTagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(min_length=1, max_length=10_000)
    tags: list[str] = Field(min_length=1, max_length=500)


class BulkIdsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(min_length=1, max_length=10_000)


class BulkTagged(BaseModel):
    updated: int = Field(description="Visible assets among the ids (the rest are ignored).")


class BulkDeleted(BaseModel):
    deleted: int


class Restored(BaseModel):
    restored: int = Field(description="Assets taken out of the Trash.")


class Forgotten(BaseModel):
    forgotten: int = Field(description="Records dropped; their files were not touched.")


# --- libraries, scans, pipeline ------------------------------------------------------------------


class ScanReport(BaseModel):
    """What one scan of a root found."""

    path: str
    root_id: str | None
    status: RootStatus | None
    status_message: str | None
    seen: int
    new: int
    changed: int
    unchanged: int
    gone: int
    returned: int
    moved: int
    hashed_for_moves: int
    errors: int
    folders: int
    skipped: dict[str, int] = Field(description="Entries not indexed, counted by reason.")
    failed: int = Field(default=0, description="Entries the index refused (counted in errors).")
    failed_entries: list[str] = Field(
        default_factory=list, description="The first few refused entries, as `path: reason`."
    )
    elapsed_s: float


class FailureReasonOut(BaseModel):
    step: str
    message: str
    count: int = Field(description="Files that failed this step with this message.")
    example: str = Field(description="One of them, by its path in the library.")


class RootOut(BaseModel):
    """A library root (a folder Trove indexes in place)."""

    id: str
    path: str
    name: str
    status: RootStatus
    status_message: str | None
    watch_status: str | None
    is_upload_target: bool = Field(
        description="Members it is assigned to with can_write may upload into it."
        " (can_write also lets them change its assets.)"
    )
    include_globs: list[str] = Field(
        description="Only files matching one of these are indexed (none: all)."
    )
    exclude_globs: list[str] = Field(
        description="Files and folders matching one of these are skipped."
    )
    last_scan_at: datetime | None
    last_scan: ScanReport | None
    failures: list[FailureReasonOut] = Field(
        default_factory=list,
        description="Why files of this library failed: the most frequent step and message first.",
    )


class RootList(BaseModel):
    items: list[RootOut]


class RootIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=4096)
    as_new: bool = Field(
        default=False,
        description="Add it even if it holds a library whose folder is gone (else 409).",
    )


class StepProgress(BaseModel):
    queued: int
    running: int
    done: int
    skipped: int
    failed: int
    per_minute: float
    avg_ms: float | None


class Jobs(BaseModel):
    """Pipeline progress per step, and throughput over the last `window_s` seconds."""

    broker: Literal["in-process", "redis"]
    processing: int
    queued: int
    running: int
    assets_per_s: float
    window_s: int
    steps: dict[str, StepProgress]


class PipelineReport(BaseModel):
    assets: int
    ready: int
    errors: int
    steps: dict[str, dict[str, int]]
    elapsed_s: float


class IndexerState(BaseModel):
    """The background indexer: what it is doing, what waits, what it did last."""

    running: str | None
    queued: list[str]
    last_scans: dict[str, ScanReport]
    last_pipeline: PipelineReport | None
    last_error: str | None
    disk_full: str | None = Field(
        default=None, description="Set while scans wait for space on the index's disk."
    )


class WatcherState(BaseModel):
    roots: dict[str, str] = Field(description="Root path -> watching / polling, and why.")
    setup_s: dict[str, float]
    events: int
    pending: int
    inotify_watches: int | None


class LibraryStatus(BaseModel):
    database: str = Field(description="The database URL, without its password.")
    roots: list[RootOut]
    by_status: dict[str, int]
    by_type: dict[str, int]
    steps: dict[str, dict[str, int]] = Field(description="Step -> outcome -> assets.")
    warnings: list[str]
    jobs: Jobs
    progress: LibraryProgress
    indexer: IndexerState
    watcher: WatcherState | None


# --- duplicates and integrity --------------------------------------------------------------------


class DuplicateGroup(BaseModel):
    hash: str
    size: int
    count: int
    wasted_bytes: int
    assets: list[AssetCopy]
    preferred_id: str | None = Field(
        default=None,
        description="The copy the gallery shows, the others stacked under it (chosen with "
        "PUT /api/dam/duplicates/{hash}/preferred); null: the first indexed.",
    )


class PreferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_id: Id


class Preferred(BaseModel):
    hash: str
    preferred_id: str


class StackMember(AssetOut):
    preferred: bool = Field(description="The copy shown for the others in the gallery.")


class StackList(BaseModel):
    items: list[StackMember]


class DuplicateTotals(BaseModel):
    groups: int
    files: int
    wasted_bytes: int


class DuplicateList(BaseModel):
    items: list[DuplicateGroup]
    next_cursor: str | None
    totals: DuplicateTotals


class Finding(BaseModel):
    """A file whose bytes changed while its size and mtime did not (bitrot)."""

    id: str
    kind: str
    asset_id: str
    root_path: str | None
    path: str | None
    storage_urn: str | None
    expected_hash: str | None
    actual_hash: str | None
    found_at: datetime
    resolved_at: datetime | None


class FindingList(BaseModel):
    items: list[Finding]
    next_cursor: str | None
    open: int = Field(description="Findings not yet resolved, in all.")


class VerifyStarted(BaseModel):
    started: bool = Field(description="False when a check is already running.")


class MapMarker(BaseModel):
    """The geotagged assets of one grid cell, at their mean position."""

    lat: float
    lon: float
    count: int = Field(description="Assets in the cell.")
    asset_id: str = Field(description="The asset when count is 1; else one of them.")


class MapMarkers(BaseModel):
    items: list[MapMarker]
    total: int = Field(description="Assets the markers stand for.")
    cell_degrees: float = Field(description="The grid's cell size at this zoom.")
    capped: bool = Field(description="True when only the most populated cells were sent.")


class TimelineMonth(BaseModel):
    month: str = Field(description="YYYY-MM, in UTC like timeline_at.")
    count: int


class TimelineOut(BaseModel):
    """The gallery's scrubber: how many assets each month holds, newest first."""

    months: list[TimelineMonth]
    undated: int = Field(description="Assets with no date at all (listed after the others).")
    estimated: bool = Field(
        False,
        description="True when the counts are scaled up from a sample of the library (a "
        "search whose every word is common, in a large library on PostgreSQL): proportions "
        "for the rail, not exact counts.",
    )


# --- operations --------------------------------------------------------------------------------


class HealthCheck(BaseModel):
    ok: bool
    detail: str
    ms: float


class RootHealth(BaseModel):
    id: str
    name: str
    path: str
    online: bool
    reason: str | None


class Health(ErrorOut):
    """`ok`; `degraded` when a library is offline or the disk of the data directory (or of
    the index) is full or read-only; `down` (answered 503) when the database or the broker
    does not answer. `roots` is listed to admins only. Like every error body it has a
    `detail`: here, the state in one sentence."""

    status: Literal["ok", "degraded", "down"]
    database: HealthCheck
    broker: HealthCheck
    storage: HealthCheck = Field(description="Whether there is room to write the index.")
    roots_online: int
    roots_offline: int
    roots: list[RootHealth] | None


# --- search --------------------------------------------------------------------------------


class SuggestionOut(BaseModel):
    """Something the search box can complete to: a tag, album, person, camera or place."""

    kind: Literal["tag", "album", "person", "camera", "place"]
    value: str
    count: int = Field(description="Assets it applies to (that the viewer may see).")
    query: str = Field(description='The filter that finds it, e.g. `camera:"Canon EOS"`.')


class Suggestions(BaseModel):
    items: list[SuggestionOut]


# --- accounts ----------------------------------------------------------------------------------


class LoginIn(BaseModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=ID_PATTERN)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=ID_PATTERN)]


class UserOut(BaseModel):
    id: str
    name: str
    role: Literal["admin", "member"]
    disabled: bool
    created_at: datetime


class MeOut(BaseModel):
    """Who this request comes from."""

    id: str | None
    name: str | None = Field(description="`owner` for the single user of TROVE_AUTH=off.")
    role: Literal["admin", "member"]
    can_write: bool = Field(description="False for a read-scoped API token.")
    auth: bool = Field(description="False when Trove runs without sign-in (TROVE_AUTH=off).")


# --- the asset picker (docs/picker.md) -----------------------------------------------------------


class PickedAsset(AssetDetail):
    """An asset the user chose in the picker: the detail the API gives, and the links anyone
    may open when the user has a live share link of it without a password (else null)."""

    url: str | None = Field(default=None, description="The asset in Trove (signed-in users).")
    public_url: str | None = Field(default=None, description="Its share page, for anyone.")
    public_file_url: str | None = Field(
        default=None, description="Its file for anyone, when the share allows downloads."
    )
    public_thumbnails: dict[ThumbnailSize, str] = Field(
        default_factory=dict, description="Size -> URL of a preview, for anyone."
    )


class PickedMessage(BaseModel):
    """What the picker posts to its opener (or parent frame)."""

    type: Literal["trove:picked"] = "trove:picked"
    origin: str = Field(description="Trove's origin: every URL in `assets` is absolute on it.")
    assets: list[PickedAsset]
