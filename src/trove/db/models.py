"""ORM tables (SQLAlchemy 2 typed). The seed's Asset/Link keep their field names.

Namespaced `metadata` is one JSON column (JSONB on PostgreSQL); tags live in their own indexed
table so a tag filter is an index lookup, not a scan of a JSON blob.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, query_expression, relationship

from trove.domain.enums import AssetCategory, AssetStatus, AssetType, RootStatus, Visibility
from trove.domain.ids import new_id

JsonType = JSON().with_variant(JSONB(), "postgresql")
# Byte order, so that a path-prefix filter can be an index range on both databases.
PathText = Text().with_variant(Text(collation="C"), "postgresql")
IdType = String(36)

OWNER_ID = "00000000-0000-7000-8000-000000000001"
SET_ASIDE_ROWS = "deleted_at IS NOT NULL OR asset_type = 'proxy'"
EXCEPTIONAL_ROWS = (
    "asset_type = 'collection' OR status NOT IN ('ready', 'processing') OR path_escaped"
)


class Base(DeclarativeBase):
    pass


class User(Base):
    """An account. The row with id OWNER_ID exists from the first migration and owns what was
    indexed before any account existed; the first admin created claims it."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    password_hash: Mapped[str | None] = mapped_column(Text)  # Argon2; None: cannot log in
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    upload_quota: Mapped[int | None] = mapped_column(BigInteger)  # bytes; None: the default


class RootMember(Base):
    """A library assigned to a user: its files are visible to them; `can_write` lets them
    change its assets (domain/access.py) and upload into it (when it is an upload target)."""

    __tablename__ = "root_members"
    __table_args__ = (Index("ix_root_members_user", "user_id"),)

    root_id: Mapped[str] = mapped_column(
        ForeignKey("roots.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a leaked database holds no usable key."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8))  # TokenScope
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginSession(Base):
    """A signed-in browser: the cookie holds a random token, the table its SHA-256, so logout
    and disabling a user end a session at once."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class AssetGrant(Base):
    """An asset, or an album (then everything it includes), shared with one user."""

    __tablename__ = "asset_grants"
    __table_args__ = (Index("ix_asset_grants_user", "user_id"),)

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Share(Base):
    """A share link: an unguessable token scoped to one asset or one album (`is_album`)."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    is_album: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_hash: Mapped[str | None] = mapped_column(Text)
    allow_download: Mapped[bool] = mapped_column(Boolean, default=False)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Root(Base):
    """A library folder the user pointed Trove at. Read-only unless it is the upload target."""

    __tablename__ = "roots"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    path: Mapped[str] = mapped_column(PathText, unique=True)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=RootStatus.ONLINE)
    status_message: Mapped[str | None] = mapped_column(Text)
    include_globs: Mapped[list[str]] = mapped_column(JsonType, default=list)
    exclude_globs: Mapped[list[str]] = mapped_column(JsonType, default=list)
    include_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    is_upload_target: Mapped[bool] = mapped_column(Boolean, default=False)
    last_scan_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_scan: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    # How changes are followed: "watching", "polling: <why>", or None when not served.
    watch_status: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    owner_id: Mapped[str] = mapped_column(IdType, default=OWNER_ID)  # a users.id, unchecked
    # The folder's file system (st_dev) when its files were last found there: the same folder
    # on another one, without them, is a mount point whose disk is away (services/scanner.py).
    device: Mapped[int | None] = mapped_column(BigInteger)


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), default=OWNER_ID)
    # Identity of a physical asset: (root, relative path); stat fields detect change.
    root_id: Mapped[str | None] = mapped_column(ForeignKey("roots.id", ondelete="CASCADE"))
    rel_path: Mapped[str | None] = mapped_column(PathText)
    path_escaped: Mapped[bool] = mapped_column(Boolean, default=False)
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger)
    # Changes on chmod/chown too: lets a file in error be retried only when it may now work.
    ctime_ns: Mapped[int | None] = mapped_column(BigInteger)
    inode: Mapped[int | None] = mapped_column(BigInteger)
    device: Mapped[int | None] = mapped_column(BigInteger)

    filename: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(255))
    is_virtual: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(16), default=AssetCategory.PHYSICAL)
    status: Mapped[str] = mapped_column(String(16), default=AssetStatus.PROCESSING)
    error_message: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.PRIVATE)
    storage_urn: Mapped[str] = mapped_column(Text)
    hash: Mapped[str | None] = mapped_column(String(64))
    phash: Mapped[str | None] = mapped_column(String(32))
    asset_type: Mapped[str] = mapped_column(String(16), default=AssetType.OTHER)
    thumbnail_urn: Mapped[str | None] = mapped_column(Text)
    thumbnails: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, default=dict)
    # What a listing loads of `meta` (repositories/assets.py, listing_options): all of it but
    # the documents' text, up to 200k characters each, which a page of 100 documents read and
    # decoded for nothing (170 KB each, PostgreSQL: 150 ms a page, 42 ms without it).
    meta_without_text: Mapped[dict[str, Any] | None] = query_expression()
    version: Mapped[int] = mapped_column(Integer, default=1)

    captured_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The gallery's "newest first" key, and which clock gave it (domain/timeline.py): the
    # capture time, a date in the name or a folder's name, the mtime; undated sort last.
    timeline_at: Mapped[datetime] = mapped_column(DateTime)
    timeline_source: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the bytes were last re-hashed against `hash` (bitrot check).
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)

    tag_rows: Mapped[list[AssetTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AssetTag.tag"
    )

    @property
    def summary_meta(self) -> dict[str, Any]:
        """`meta` as a listing loaded it (without the documents' text), else all of it."""
        if self.meta_without_text is not None:
            return self.meta_without_text
        return self.meta or {}

    __table_args__ = (
        UniqueConstraint("root_id", "rel_path", name="uq_assets_root_path"),
        Index("ix_assets_hash", "hash"),
        Index("ix_assets_owner", "owner_id"),
        Index("ix_assets_status", "status"),
        Index("ix_assets_type_timeline", "asset_type", "timeline_at", "id"),
        Index("ix_assets_timeline", "timeline_at", "id"),
        # What the timeline rail counts per month, read from the index alone (a scan of the
        # rows read every asset's metadata: 0.9 s at 100k; bench/search.py).
        Index(
            "ix_assets_months",
            "timeline_at",
            "timeline_source",
            "asset_type",
            "deleted_at",
            "owner_id",
            "visibility",
            "root_id",
        ),
        Index("ix_assets_mime", "mime_type"),
        # The few rows a rescan cannot compare by stat alone (folders, missing or failed
        # entries, escaped names): a partial index keeps reading them cheap (fast_index).
        # What an unchanged rescan reads for nearly every file, answered from the index alone.
        Index(
            "ix_assets_scan_signature",
            "root_id",
            "rel_path",
            "size",
            "mtime_ns",
            "inode",
            sqlite_where=text(f"NOT ({EXCEPTIONAL_ROWS})"),
            postgresql_where=text(f"NOT ({EXCEPTIONAL_ROWS})"),
        ),
        Index(
            "ix_assets_exceptional",
            "root_id",
            sqlite_where=text(EXCEPTIONAL_ROWS),
            postgresql_where=text(EXCEPTIONAL_ROWS),
        ),
        # The few assets no count shows (in the trash, or a proxy): tag counts are the tags'
        # totals less theirs, instead of a join of every tag to its asset.
        Index(
            "ix_assets_set_aside",
            "id",
            sqlite_where=text(SET_ASIDE_ROWS),
            postgresql_where=text(SET_ASIDE_ROWS),
        ),
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class AssetTag(Base):
    __tablename__ = "asset_tags"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(200), primary_key=True)

    __table_args__ = (Index("ix_asset_tags_tag", "tag", "asset_id"),)


class AssetEdit(Base):
    """One saved edit list of an asset (domain/edits.py), `version` being the asset's version
    the save gave it; an empty list is a revert to the original. The newest row is current."""

    __tablename__ = "asset_edits"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    edits: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    user_id: Mapped[str | None] = mapped_column(IdType)  # who saved it; a users.id, unchecked
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Link(Base):
    """A directed edge of the knowledge graph: source -[relation]-> target (seed 3.3)."""

    __tablename__ = "links"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    source_id: Mapped[str] = mapped_column(IdType)
    source_type: Mapped[str] = mapped_column(String(64), default="Asset")
    target_id: Mapped[str] = mapped_column(IdType)
    target_type: Mapped[str] = mapped_column(String(64), default="Asset")
    relation: Mapped[str] = mapped_column(String(64))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, default=dict)
    # Order among the source's edges of one relation (an album's members); None = unordered.
    position: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "relation", name="uq_links_edge"),
        # A page of a node's neighbours, either way, is one index range in (relation, other).
        Index("ix_links_source", "source_id", "relation", "target_id"),
        Index("ix_links_target", "target_id", "relation", "source_id"),
        Index(
            "ix_links_position",
            "source_id",
            "relation",
            "position",
            sqlite_where=text("position IS NOT NULL"),
            postgresql_where=text("position IS NOT NULL"),
        ),
        # The copies of duplicated files, without reading the library's other edges (the
        # scrubber's months with copies stacked: AssetRepository.months).
        Index(
            "ix_links_duplicates",
            "source_id",
            "target_id",
            sqlite_where=text("relation = 'duplicate_of'"),
            postgresql_where=text("relation = 'duplicate_of'"),
        ),
    )


class Entity(Base):
    """A node of the graph that is not a file: a Person, a Project, a Machine (seed 3.3's
    `source_type` / `target_type`). Its `type` is what links name as the node's type."""

    __tablename__ = "entities"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_entities_type_name", "type", "name"),)


class InheritedTag(Base):
    """A tag a folder or album (a node with hierarchical children) inherits: `tag` is an own
    tag of `source_id`, an ancestor through hierarchical links. Files read theirs through their
    parents (repositories/tag_flows.py), so a tag filter stays a few index lookups however deep
    the hierarchy is."""

    __tablename__ = "inherited_tags"

    # No foreign keys: derived rows written 100k at a time, which PostgreSQL would check one
    # by one; they go with the asset's links (LinkRepository.delete_touching).
    asset_id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True)
    source_id: Mapped[str] = mapped_column(IdType, primary_key=True)

    __table_args__ = (
        Index("ix_inherited_tags_tag", "tag", "asset_id"),
        Index("ix_inherited_tags_source", "source_id", "tag"),
    )


class SidecarFile(Base):
    """A sidecar (XMP, Google Takeout JSON) a scan saw beside a picture: not an asset, but
    remembered by size and mtime so that a change has its picture read it again."""

    __tablename__ = "sidecar_files"

    root_id: Mapped[str] = mapped_column(
        ForeignKey("roots.id", ondelete="CASCADE"), primary_key=True
    )
    rel_path: Mapped[str] = mapped_column(PathText, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)


class AssetStep(Base):
    """Outcome of one pipeline step for one asset (ok / skipped / failed, version, timing)."""

    __tablename__ = "asset_steps"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_asset_steps_step_status", "step", "status"),
        # Throughput: outcomes recorded in the last minutes, without reading them all.
        Index("ix_asset_steps_updated", "updated_at"),
        # Why files failed, per library (libraries page), without reading the successes.
        Index(
            "ix_asset_steps_failed",
            "asset_id",
            sqlite_where=text("status = 'failed'"),
            postgresql_where=text("status = 'failed'"),
        ),
    )


class AssetCount(Base):
    """How many rows of `assets` share a library, type, status and liveness (`live`: not
    soft-deleted; `root_key` '' for virtual assets), kept by triggers (migration
    0011_counters) so that status pages never count the library.

    On SQLite the triggers add to these rows; on PostgreSQL they append to
    `asset_count_deltas`, which readers fold in (repositories/counters.py): a shared counter
    row would make concurrent workers wait on each other's commits."""

    __tablename__ = "asset_counts"

    root_key: Mapped[str] = mapped_column(String(36), primary_key=True)
    asset_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(64), primary_key=True)
    live: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class AssetCountDelta(Base):
    __tablename__ = "asset_count_deltas"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    root_key: Mapped[str] = mapped_column(String(36))
    asset_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(64))
    live: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class StepCount(Base):
    """How many step outcomes per step and status (see AssetCount)."""

    __tablename__ = "step_counts"

    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class StepCountDelta(Base):
    __tablename__ = "step_count_deltas"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    step: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(64))
    n: Mapped[int] = mapped_column(Integer)


class MonthCount(Base):
    """How many rows of `assets` share a timeline month ('' when undated), type, library
    and liveness (see AssetCount): the gallery's scrubber rail reads these instead of
    counting the library (migration 0017_month_counts keeps them)."""

    __tablename__ = "month_counts"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    asset_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    root_key: Mapped[str] = mapped_column(String(36), primary_key=True)
    live: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class MonthCountDelta(Base):
    __tablename__ = "month_count_deltas"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    month: Mapped[str] = mapped_column(String(7))
    asset_type: Mapped[str] = mapped_column(String(64))
    root_key: Mapped[str] = mapped_column(String(36))
    live: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class ProcessingOutcomeCount(Base):
    """How many step outcomes per step and version belong to assets still to be processed
    (`processing`, not soft-deleted): the jobs' "done" of each step among the files still
    processing, read instead of probing each of them (migration 0018_status_tallies keeps
    these, as 0011_counters keeps AssetCount: added to directly on SQLite, through deltas
    folded by readers on PostgreSQL)."""

    __tablename__ = "processing_outcome_counts"

    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class ProcessingOutcomeCountDelta(Base):
    __tablename__ = "processing_outcome_count_deltas"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    step: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class FailureCount(Base):
    """How many failed outcomes per library, step and message ('' for none), over files not
    soft-deleted: why files failed, read instead of probing each failed file (migration
    0018_status_tallies). A message may be 2,000 characters, too long for a PostgreSQL btree
    entry: the unique key (step, message, root) is an index the migration makes over the
    message on SQLite and its md5 on PostgreSQL, not a primary key."""

    __tablename__ = "failure_counts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    root_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    n: Mapped[int] = mapped_column(BigInteger)


class FailureCountDelta(Base):
    __tablename__ = "failure_count_deltas"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    root_id: Mapped[str] = mapped_column(String(36))
    step: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    n: Mapped[int] = mapped_column(Integer)


class IntegrityFinding(Base):
    """A file whose bytes no longer match its recorded hash though size and mtime did."""

    __tablename__ = "integrity_findings"

    id: Mapped[str] = mapped_column(IdType, primary_key=True, default=new_id)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32), default="corrupted")
    expected_hash: Mapped[str | None] = mapped_column(String(64))
    actual_hash: Mapped[str | None] = mapped_column(String(64))
    found_at: Mapped[datetime] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_integrity_findings_asset", "asset_id", "resolved_at"),)


class PreferredCopy(Base):
    """Of a set of identical files (one SHA-256), the copy a person chose to show: the gallery
    stacks the others under it. Nothing is deleted; a copy that goes takes its choice along.

    (Not a model: the expression indexes `ix_assets_favorite` and `ix_assets_rating` on
    `assets`, made by migration 0015 for `is:favorite` and `rating:`; repositories/search.py.)
    """

    __tablename__ = "preferred_copies"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    chosen_by: Mapped[str | None] = mapped_column(IdType)  # a users.id, unchecked
    chosen_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_preferred_copies_asset", "asset_id"),)


class PipelineLease(Base):
    """Who is working on an asset's pipeline right now, so that two workers never process the
    same asset at once and work whose worker died is handed on (pipeline/runner.py).

    `queued`: a task for it was sent; `running`: a worker claimed it and renews `expires_at`
    while it lives. `attempts` counts claims, so an asset that keeps killing its worker is
    given up on instead of retried forever. The row goes when the asset's pass is finished.
    """

    __tablename__ = "pipeline_leases"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(200))
    token: Mapped[str | None] = mapped_column(String(36))
    step: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    kicked_at: Mapped[datetime] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_pipeline_leases_state", "state", "expires_at"),
        Index("ix_pipeline_leases_token", "token"),
    )


class PhashBand(Base):
    """Locality-sensitive buckets of a 64-bit pHash: 4 bands of 16 bits.

    Two hashes within Hamming distance 3 share at least one band exactly (pigeonhole), so
    look-alike candidates are an index lookup, not a comparison of every pair.
    """

    __tablename__ = "phash_bands"

    asset_id: Mapped[str] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_phash_bands_lookup", "band", "value"),)


# The condition of the holders' partial indexes (0020_search_holders) is `tsv @@` this: only a
# folder's or album's tsv holds `kind:holder` (repositories/search.py). A query repeats it as
# SQL text, not as a bound value, for PostgreSQL to use them in a prepared statement's plan.
HOLDER_TSQUERY = "'''kind:holder'''::tsquery"


class SearchDocumentRow(Base):
    """An asset's text for search, field by field (domain/search_document.py), kept in step as
    its pipeline pass finishes and as people edit it (services/search.py).

    The full-text index over it is not an ORM table: on SQLite, FTS5 tables `search_fts`
    (unicode61, diacritics removed) and `search_trigram` (substrings) with `doc_id` as their
    rowid, kept by triggers; on PostgreSQL the `tsv` column (weighted words and field words,
    built by the repository) under a GIN index, and a pg_trgm index on `substrings`.
    """

    __tablename__ = "search_documents"

    # An integer key: FTS5 addresses rows by an integer rowid.
    doc_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    folders: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    camera: Mapped[str] = mapped_column(Text, default="")
    lens: Mapped[str] = mapped_column(Text, default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[str] = mapped_column(Text, default="")
    people: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[str] = mapped_column(Text, default="")
    # Folded name, title, tags and folders, for substring matching.
    substrings: Mapped[str] = mapped_column(Text, default="")
    ext: Mapped[str | None] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    tsv: Mapped[str | None] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))
    # The asset's timeline_at, kept in step by a trigger on `assets` (0019_search_timeline):
    # a search's matches are placed on the timeline without looking each up in `assets`.
    timeline_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_search_documents_ext", "ext"),
        Index("ix_search_documents_geo", "lat", "lon"),
        # PostgreSQL's; SQLite does not read the timeline of a document.
        Index("ix_search_documents_timeline", "timeline_at", sqlite_where=text("0")),
        # PostgreSQL's full-text indexes; on SQLite the FTS5 tables do this, so there the
        # declared index is partial over no row (WHERE 0) and costs nothing.
        Index("ix_search_documents_tsv", "tsv", postgresql_using="gin", sqlite_where=text("0")),
        Index(
            "ix_search_documents_substrings",
            "substrings",
            postgresql_using="gin",
            postgresql_ops={"substrings": "gin_trgm_ops"},
            sqlite_where=text("0"),
        ),
        # The same two over the folders' and albums' documents alone: which holders match a
        # common word is read there, not among every document's matches.
        Index(
            "ix_search_documents_holder_tsv",
            "tsv",
            postgresql_using="gin",
            postgresql_where=text(f"tsv @@ {HOLDER_TSQUERY}"),
            sqlite_where=text("0"),
        ),
        Index(
            "ix_search_documents_holder_substrings",
            "substrings",
            postgresql_using="gin",
            postgresql_ops={"substrings": "gin_trgm_ops"},
            postgresql_where=text(f"tsv @@ {HOLDER_TSQUERY}"),
            sqlite_where=text("0"),
        ),
    )


class AssetVector(Base):
    """An asset's meaning (float16 bytes of the `ai_semantic` step's unit vector), copied from
    its metadata as its document is rebuilt: a narrow table, so that the in-memory index
    (services/vector_index.py) loads 100k vectors in one read instead of parsing every
    asset's JSON, and then reads only rows whose `seq` passed the last one it saw. A changed
    vector is a new row: `seq` is never reused (AUTOINCREMENT on SQLite, a sequence on
    PostgreSQL), even after the newest row is deleted."""

    __tablename__ = "asset_vectors"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), unique=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = {"sqlite_autoincrement": True}


class BulkInsert(Base):
    """A new asset whose rows (its own, its step outcomes, its search document) a scan is
    inserting in bulk: SQLite's insert triggers skip them, and the writer adds their counts and
    index entries once for the batch (repositories/bulk_inserts.py, migration 0021). Empty
    outside the writer's transaction."""

    __tablename__ = "bulk_inserts"

    asset_id: Mapped[str] = mapped_column(String(36), primary_key=True)
