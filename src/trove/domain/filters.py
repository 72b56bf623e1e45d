"""The filters of an asset listing, as a caller sends them: one definition for
`GET /api/dam/assets` (its query parameters) and `trove ls` (its options), so the names, the
allowed values and the limits cannot drift apart. `to_query()` gives the `AssetQuery` the
repositories run.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from trove.domain.enums import AssetStatus, AssetType
from trove.domain.queries import (
    DEFAULT_SORT,
    MAX_FILTER_CHARS,
    MAX_FILTER_VALUES,
    MAX_LIMIT,
    RELEVANCE,
    AssetQuery,
    parse_date_bound,
)
from trove.domain.search_query import parse

# What `trove ls` lists when no type is asked for: files, without the folders (collections)
# and without the transcode proxies (which the API's default listing hides too).
FILE_TYPES = tuple(t for t in AssetType if t not in (AssetType.COLLECTION, AssetType.PROXY))

Text = Annotated[str, StringConstraints(max_length=MAX_FILTER_CHARS)]
Sort = Literal[
    "-timeline_at",
    "timeline_at",
    "filename",
    "-filename",
    "size",
    "-size",
    "id",
    "-id",
    "relevance",
]


class AssetFilters(BaseModel):
    # The bounds are AssetQuery's (it enforces them for every caller); declared here too, so
    # the API's schema and `trove ls` state them.
    type: list[AssetType] = Field(
        default_factory=list, max_length=MAX_FILTER_VALUES, description="Asset types (any of)."
    )
    status: list[AssetStatus] = Field(
        default_factory=list, max_length=MAX_FILTER_VALUES, description="Statuses (any of)."
    )
    tag: list[Text] = Field(
        default_factory=list, max_length=MAX_FILTER_VALUES, description="Tags (all of)."
    )
    root: Text | None = Field(default=None, description="A library: its id, path or name.")
    path: Text | None = Field(default=None, description="Relative folder within a library.")
    album: Text | None = Field(default=None, description="Only what this album includes (its id).")
    mime: Text | None = Field(default=None, description="A MIME type, or `image/*`.")
    deleted: bool = Field(default=False, description="List soft-deleted assets instead.")
    stack: bool = Field(
        default=False,
        description="Copies of one file (the same SHA-256) as one item, the preferred copy "
        "standing for the others, with `stack_count` (the gallery's stacked tiles).",
    )
    q: Text | None = Field(
        default=None,
        description="Search: words and filters such as `type:video`, `tag:x`, `taken:2023-07`, "
        '`camera:"Canon EOS"`, `near:lat,lon,km`, `-word` (docs/search.md).',
    )
    since: str | None = Field(default=None, description="Timeline from this ISO date/time.")
    until: str | None = Field(default=None, description="Timeline through this ISO date.")
    sort: Sort | None = Field(
        default=None,
        description="A key, `-` for descending; by default `relevance` when `q` has words, "
        "else `-timeline_at`.",
    )
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    cursor: Text | None = Field(default=None, description="`next_cursor` of the last page.")

    @field_validator("since", "until")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        parse_date_bound(value, end=False)
        return value

    def to_query(self, *, root_id: str | None = None) -> AssetQuery:
        """The query to run; `root_id` is the library `root` names, resolved by the caller
        (a path or a name needs the index). A `q` that does not parse raises
        QuerySyntaxError (an InvalidQuery) naming the position."""
        search = parse(self.q) if self.q and self.q.strip() else None
        sort = self.sort or (RELEVANCE if search and search.has_text else DEFAULT_SORT)
        if sort == RELEVANCE and not (search and search.words):
            sort = DEFAULT_SORT
        return AssetQuery(
            asset_types=tuple(self.type),
            statuses=tuple(self.status),
            tags=tuple(self.tag),
            root_id=root_id,
            path_prefix=self.path,
            album_id=self.album,
            mime=self.mime,
            search=search,
            since=parse_date_bound(self.since, end=False),
            until=parse_date_bound(self.until, end=True),
            only_deleted=self.deleted,
            stack=self.stack,
            sort=sort,
            limit=self.limit,
            cursor=self.cursor,
        )
