"""Moves, displacements and subtree status changes: what keeps identity when files move.

A moved folder is one UPDATE over its subtree (a `rel_path` range, which both databases answer
from the (root_id, rel_path) index), not a read-modify-write of every descendant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, delete, literal, or_, select, update
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetTag, Link
from trove.domain.enums import AssetStatus, Relation
from trove.domain.paths import storage_urn
from trove.repositories._sql import rowcount, utcnow
from trove.repositories.links import LinkRepository, edge

# Links Trove makes itself (folders, duplicates, derivatives, similarity): not a user's work.
DERIVED_RELATIONS = (
    Relation.CONTAINS,
    Relation.DUPLICATE_OF,
    Relation.TRANSFORMED_TO,
    Relation.VISUALLY_SIMILAR_TO,
)


def subtree(root_id: str, stored_rel: str) -> ColumnElement[bool]:
    """The entry at `stored_rel` and everything below it, as an index range."""
    return and_(
        Asset.root_id == root_id,
        or_(
            Asset.rel_path == stored_rel,
            and_(Asset.rel_path >= stored_rel + "/", Asset.rel_path < stored_rel + "0"),
        ),
    )


def descendants(root_id: str, stored_rel: str) -> ColumnElement[bool]:
    return and_(
        Asset.root_id == root_id,
        Asset.rel_path >= stored_rel + "/",
        Asset.rel_path < stored_rel + "0",
    )


class SyncRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def move_subtree(
        self,
        *,
        asset_id: str,
        old_root_id: str,
        old_rel: str,
        new_root_id: str,
        new_root_path: str,
        new_rel: str,
        new_escaped: bool,
    ) -> int:
        """Give the entry `asset_id` (at stored path `old_rel`) and everything below it the
        new path, keeping every id. Returns how many descendants moved with it."""
        now = utcnow()
        suffix = _substr_after(len(old_rel))
        values: dict[str, Any] = {
            "root_id": new_root_id,
            "rel_path": literal(new_rel, Text).concat(suffix),
            "storage_urn": literal(storage_urn(new_root_path, new_rel), Text).concat(suffix),
            "updated_at": now,
        }
        if new_escaped:  # the new prefix holds bytes that had to be escaped (paths.py)
            values["path_escaped"] = True
        moved = rowcount(
            self.session.execute(
                update(Asset)
                .where(descendants(old_root_id, old_rel))
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        )
        self.session.execute(
            update(Asset)
            .where(Asset.id == asset_id)
            .values(
                root_id=new_root_id,
                rel_path=new_rel,
                filename=new_rel.rpartition("/")[2],
                storage_urn=storage_urn(new_root_path, new_rel),
                path_escaped=new_escaped,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return int(moved or 0)

    def displace(self, root_id: str, stored_rel: str, *, keep_id: str, reason: str) -> list[str]:
        """Entries indexed at (or below) a path another entry is about to take: the file they
        stood for was replaced, so they keep their record (tags, links) but lose the path and
        become missing. The storage URN keeps showing where they were."""
        ids = list(
            self.session.scalars(
                select(Asset.id).where(subtree(root_id, stored_rel), Asset.id != keep_id)
            )
        )
        self.vacate(ids, reason=reason)
        return ids

    def vacate(self, asset_ids: Sequence[str], *, reason: str) -> None:
        """Entries whose path another entry takes now: missing and pathless (as `displace`
        leaves them), unless a move in the same transaction gives them a new path."""
        ids = list(asset_ids)
        for start in range(0, len(ids), 500):
            self.session.execute(
                update(Asset)
                .where(Asset.id.in_(ids[start : start + 500]))
                .values(
                    root_id=None,
                    rel_path=None,
                    status=AssetStatus.MISSING,
                    error_message=reason,
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )

    def retire(self, asset_id: str, *, reason: str) -> None:
        """A record whose file became part of another asset goes, with its links; one that
        holds what a user gave it (tags, a title, a description, links of their own) is
        kept, missing and pathless, so nothing typed is lost."""
        if self._holds_user_data(asset_id):
            self.vacate([asset_id], reason=reason)
            return
        LinkRepository(self.session).delete_touching([asset_id])
        self.session.execute(delete(Asset).where(Asset.id == asset_id))

    def _holds_user_data(self, asset_id: str) -> bool:
        typed = select(Asset.id).where(
            Asset.id == asset_id, or_(Asset.title.is_not(None), Asset.description.is_not(None))
        )
        tagged = select(AssetTag.asset_id).where(AssetTag.asset_id == asset_id)
        linked = select(Link.id).where(
            or_(Link.source_id == asset_id, Link.target_id == asset_id),
            Link.relation.not_in(DERIVED_RELATIONS),
        )
        return any(self.session.scalar(select(query.exists())) for query in (typed, tagged, linked))

    def mark_subtree_missing(self, root_id: str, stored_rel: str) -> int:
        """A deleted folder: it and everything indexed below it go missing (records kept)."""
        return rowcount(
            self.session.execute(
                update(Asset)
                .where(subtree(root_id, stored_rel), Asset.status != AssetStatus.MISSING)
                .values(status=AssetStatus.MISSING, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        )

    def rehome(self, moves: Sequence[tuple[str, str | None]]) -> None:
        """(asset id, new parent folder id): the `contains` edge follows the entry."""
        links = LinkRepository(self.session)
        links.detach([asset_id for asset_id, _parent in moves], relation=Relation.CONTAINS)
        links.add_many(
            [edge(parent, asset_id, Relation.CONTAINS) for asset_id, parent in moves if parent]
        )


def _substr_after(length: int) -> Any:
    """rel_path without its first `length` characters (1-based SUBSTR on both databases)."""
    from sqlalchemy import func

    return func.substr(Asset.rel_path, length + 1)
