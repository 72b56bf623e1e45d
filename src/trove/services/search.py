"""SearchService: the full-text index kept in step with the library, suggestions as you type,
and where each result matched.

Documents are rebuilt (`reindex`, in the caller's transaction) when an asset's pipeline pass
finishes (pipeline/recording.py), when someone edits its title, description, tags or metadata
(AssetService), and when an album is created, renamed or tagged (AlbumService); with each
document, the meaning vector the asset's metadata holds is copied to `asset_vectors` (where
services/vector_index.py reads it). Tagging a folder or album re-indexes it and the folders
and albums below it, whose documents hold the tags they inherit; files are reached through
them (repositories/search.py). An index built before search existed is filled by `backfill`
(the background indexer runs it).

The query language is domain/search_query.py; listings run it through AssetRepository, so a
search answers the same question, with the same filters and scope, as the listing does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from trove.config import Settings
from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.search_document import document_of
from trove.domain.search_query import SearchQuery
from trove.domain.snippets import Snippet, snippet
from trove.repositories.search import SearchRepository
from trove.repositories.vectors import VectorRepository

VECTOR_BYTES = 384 * 2  # MiniLM's 384 numbers as float16 (pipeline/ai/semantic.py)
SUGGESTION_KINDS = ("tag", "album", "person", "camera", "place")
MAX_SUGGESTIONS = 20


@dataclass(frozen=True, kw_only=True)
class Suggestion:
    kind: str
    value: str
    count: int

    @property
    def query(self) -> str:
        """The filter that finds it, as the search box inserts it."""
        value = f'"{self.value}"' if any(c.isspace() for c in self.value) else self.value
        return f"{self.kind}:{value}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "count": self.count, "query": self.query}


def reindex(
    session: Session, asset_ids: Sequence[str], *, hierarchical: Sequence[str] | None = None
) -> None:
    """Rebuild the documents of these assets in the caller's transaction (deleted: dropped)."""
    if not asset_ids:
        return
    repo = SearchRepository(session, hierarchical=hierarchical)
    documents = repo.documents_for(asset_ids)
    kept = {d.asset_id for d in documents}
    repo.delete([i for i in asset_ids if i not in kept])  # save() replaces the others'
    repo.save(documents)
    vectors = VectorRepository(session)
    vectors.sync({i: _vector_bytes(v) for i, v in vectors.stored_in_metadata(asset_ids).items()})


def index_new_files(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """The documents of files inserted in the caller's transaction, from the rows written: a
    new file has no tags of its own, no title, no description and no vector yet, so reading it
    back (`reindex`) would only decode the metadata just encoded."""
    SearchRepository(session).save(
        [
            document_of(
                asset_id=row["id"],
                filename=row["filename"],
                rel_path=row["rel_path"],
                is_folder=False,
                title=None,
                description=None,
                tags=[],
                meta=row["meta"],
                timeline_at=row["timeline_at"],
            )
            for row in rows
        ]
    )


def _vector_bytes(packed: str | None) -> bytes | None:
    """The float16 bytes of a vector as the `ai_semantic` step packs it (base64)."""
    if not packed:
        return None
    try:
        raw = base64.b64decode(packed, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == VECTOR_BYTES else None


def reindex_with_holders_below(
    session: Session, asset_id: str, *, hierarchical: Sequence[str] | None = None
) -> None:
    """An asset whose own tags changed, and the folders and albums that inherit from it."""
    repo = SearchRepository(session, hierarchical=hierarchical)
    reindex(session, [asset_id, *repo.holders_below(asset_id)], hierarchical=hierarchical)


def snippets(
    session: Session, query: SearchQuery | None, asset_ids: Sequence[str]
) -> dict[str, Snippet]:
    """Where each of these results matched the query's words (none without words)."""
    if query is None or not query.words or not asset_ids:
        return {}
    texts = SearchRepository(session).texts(asset_ids)
    found = {asset_id: snippet(fields, query.words) for asset_id, fields in texts.items()}
    return {asset_id: s for asset_id, s in found.items() if s is not None}


class SearchService:
    def __init__(
        self, settings: Settings, database: Database, *, hierarchical: Sequence[str] | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.hierarchical = hierarchical

    def reindex(self, asset_ids: Sequence[str]) -> None:
        with self.database.session() as session:
            reindex(session, asset_ids, hierarchical=self.hierarchical)

    def backfill(self, *, batch: int = 2000, max_batches: int | None = None) -> int:
        """Documents for the assets that have none; returns how many were written."""
        done = 0
        while max_batches is None or max_batches > 0:
            with self.database.session() as session:
                ids = SearchRepository(session).without_document(limit=batch)
                reindex(session, ids, hierarchical=self.hierarchical)
            done += len(ids)
            if len(ids) < batch:
                break
            if max_batches is not None:
                max_batches -= 1
        return done

    def suggestions(
        self,
        viewer: Viewer,
        prefix: str,
        *,
        kinds: Sequence[str] = SUGGESTION_KINDS,
        limit: int = 8,
    ) -> list[Suggestion]:
        """Tags, albums, people, cameras and places with a word starting with `prefix`, each
        kind's most used first, counted over what the viewer may see."""
        prefix = prefix.strip()
        if not prefix:
            return []
        limit = max(1, min(limit, MAX_SUGGESTIONS))
        found: list[Suggestion] = []
        with self.database.session() as session:
            repo = SearchRepository(session, hierarchical=self.hierarchical)
            readers: dict[str, Any] = {
                "tag": lambda: repo.suggest_tags(viewer, prefix, limit=limit),
                "album": lambda: repo.suggest_albums(viewer, prefix, limit=limit),
                "person": lambda: repo.suggest(viewer, "people", prefix, limit=limit),
                "camera": lambda: repo.suggest(viewer, "camera", prefix, limit=limit),
                "place": lambda: repo.suggest(viewer, "place", prefix, limit=limit),
            }
            for kind in kinds:
                found.extend(Suggestion(kind=kind, value=v, count=n) for v, n in readers[kind]())
        return found
