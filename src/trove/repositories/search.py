"""The search index: documents in, matching asset ids and ranks out, on both databases.

SQLite answers a word with FTS5 (`search_fts`, unicode61 without diacritics; a prefix match)
or, for a part of a name, with the trigram table (`search_trigram`); PostgreSQL with the
`tsv` column (built here from the same folded words, so both databases split text alike) and
a pg_trgm index on `substrings`. A field filter (`camera:`, `place:`...) is an FTS5 column
filter on SQLite and field-prefixed words (`camera:canon`) in `tsv` on PostgreSQL; `text:` is
weight class D there (content and extra text).

A word matches an asset whose own document matches, or whose folder or album (one hop up a
hierarchical link) does: a folder's document holds its whole path and the tags it inherits,
an album's its name and tags (domain/search_document.py).
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    any_,
    case,
    cast,
    column,
    delete,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    true,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from trove.db.models import (
    HOLDER_TSQUERY,
    Asset,
    AssetTag,
    InheritedTag,
    IntegrityFinding,
    Link,
)
from trove.db.models import SearchDocumentRow as Doc
from trove.domain.access import Viewer
from trove.domain.enums import AssetStatus, AssetType, Relation
from trove.domain.search_document import (
    FIELD_WEIGHT,
    SEARCH_FIELDS,
    SearchDocument,
    document_of,
    fold,
    words,
)
from trove.domain.search_query import Clause, SearchQuery
from trove.repositories._sql import insert_ignoring_conflicts
from trove.repositories.access import has_visible_copy, visible_assets, visible_node
from trove.repositories.tag_flows import BUILTIN_HIERARCHICAL, tagged

# The filter of each text filter: the document fields it looks in.
FILTER_FIELDS = {
    "camera": ("camera",),
    "lens": ("lens",),
    "person": ("people",),
    "place": ("place",),
    "text": ("content", "extra"),
}
# The clauses that look for words: free words, the text filters, `album:`.
WORD_KEYS = ("", "text", *FILTER_FIELDS, "album")
# Fields that also get field-prefixed words in PostgreSQL's tsv, for their filter.
PREFIXED_FIELDS = ("camera", "lens", "people", "place")
# PostgreSQL's four weight classes, A highest.
PG_WEIGHT = {
    "name": "A",
    "title": "A",
    "labels": "C",
    "content": "D",
    "extra": "D",
}
# Past this many matches a word is "common": a page is found by walking the timeline.
MANY_MATCHES = 2000
# On SQLite, `rarest` counts an album's members up to this many.
COUNTED = 50_000
# On PostgreSQL, also past one in this many of the library's assets.
MANY_SHARE = 50
# A common word's probe per row checks its links against the matching folders and albums as a
# list when they are at most this many.
LISTED_HOLDERS = 5000
# Results ranked by relevance: the best this many; the rest of what matches follows newest first.
RANKED = 2000
# On PostgreSQL, a word in more documents than this is ranked among this many of them.
RANK_CANDIDATES = 5000
# ... read from the table in its order instead of the GIN index when the words are expected in
# at least this share of the documents together: the index lists every match before the
# first is read (1M assets, `notes` in 66%: 262 ms; `csv`, 16%: 211 ms), the table meets
# RANK_CANDIDATES of them in a few thousand rows (4 and 48 ms); `journal` (9%): 27 against 131.
DENSE_SHARE = 0.15
# On SQLite among the latest indexed this many, and those holding it in a name, title or tags.
SQLITE_RANK_CANDIDATES = 2000
MAX_POSITION = 16383  # PostgreSQL keeps word positions up to this
# In a folder's or album's tsv alone: "which holders match" is read in the indexes over the
# documents holding it (db/models.py, HOLDER_TSQUERY). Not a word any query makes (query words
# are letters and digits only).
HOLDER_LEXEME = "kind:holder"
MAX_LEXEME_CHARS = 200
BATCH = 500

# For the rest of a search's transaction (SearchRepository._planned_for_search).
_SEARCH_PLANNING = text(
    "SELECT set_config('jit', 'off', true),"
    " set_config('plan_cache_mode', 'force_custom_plan', true)"
)
_FTS = table("search_fts", column("rowid"))
_FTS_TABLE: ColumnElement[Any] = literal_column("search_fts")
# The documents an `ext:` or `near:` filter matches, inside a probe of the row's own document.
_MATCHED = aliased(Doc, name="matched")
_COLUMNS = ("asset_id", *SEARCH_FIELDS, "substrings", "ext", "lat", "lon", "timeline_at")
# An upsert: a worker and the server may index the same asset at once, each deleting its
# document first; the second insert then meets the first one's row (seen at 100,000 files with
# Redis workers, bench/million.py), and replaces it instead of failing its whole batch.
_PG_INSERT = text(
    f"INSERT INTO search_documents ({', '.join(_COLUMNS)}, tsv) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}, CAST(:tsv AS tsvector)) "
    "ON CONFLICT (asset_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS[1:], "tsv"))
)
_TRIGRAM = table("search_trigram", column("rowid"))
_ESTIMATE = text(
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM search_documents WHERE tsv @@ CAST(:tsq AS tsquery)"
)


@dataclass(frozen=True)
class Window:
    """The part of the timeline a stage of a bounded walk reads: newest first, from below
    `past` (the end of the stage before, None for the first) down to `at` included (None:
    the timeline's end); oldest first the other way."""

    at: datetime | None
    descending: bool
    past: datetime | None = None

    def holds(self, at: Any) -> ColumnElement[bool]:
        bounds: list[ColumnElement[bool]] = []
        if self.at is not None:
            bounds.append(at >= self.at if self.descending else at <= self.at)
        if self.past is not None:
            bounds.append(at < self.past if self.descending else at > self.past)
        return and_(true(), *bounds)


class SearchRepository:
    def __init__(self, session: Session, *, hierarchical: Sequence[str] | None = None) -> None:
        self.session = session
        self.hierarchical = tuple(BUILTIN_HIERARCHICAL if hierarchical is None else hierarchical)
        self.dialect = session.get_bind().dialect.name
        self._many_known: dict[int, bool] = {}
        self._estimates: dict[str, int] = {}
        self._holders: dict[int, builtins.list[str] | None] = {}
        self._library: int | None = None

    # --- writes -------------------------------------------------------------------------------

    def documents_for(self, asset_ids: Sequence[str]) -> builtins.list[SearchDocument]:
        """The documents of these assets as the index holds them now (deleted ones: none)."""
        ids = list(dict.fromkeys(asset_ids))
        found: list[SearchDocument] = []
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            tags = self._tags_of(chunk)
            # Plain columns, not ORM objects: no identity map, no tag rows loaded per asset.
            rows = self.session.execute(
                select(
                    Asset.id,
                    Asset.filename,
                    Asset.rel_path,
                    Asset.asset_type,
                    Asset.title,
                    Asset.description,
                    Asset.meta,
                    Asset.timeline_at,
                ).where(Asset.id.in_(chunk), Asset.deleted_at.is_(None))
            )
            for asset_id, filename, rel_path, kind, title, description, meta, at in rows:
                found.append(
                    document_of(
                        asset_id=asset_id,
                        filename=filename,
                        rel_path=rel_path,
                        is_folder=kind == AssetType.COLLECTION,
                        title=title,
                        description=description,
                        tags=tags.get(asset_id, []),
                        meta=meta or {},
                        timeline_at=at,
                    )
                )
        return found

    def save(self, documents: Sequence[SearchDocument]) -> None:
        """Insert or replace these documents (SQLite's triggers keep the FTS5 tables)."""
        rows = [d.row() for d in documents]
        if not rows:
            return
        self.delete([r["asset_id"] for r in rows])
        if self.dialect == "postgresql":
            for row, document in zip(rows, documents, strict=True):
                row["tsv"] = tsvector_text(document)
            self.session.execute(_PG_INSERT, rows)
            return
        # SQLite: folders and albums get negative rowids, so that "which holders match" is an
        # FTS5 query with `rowid < 0`, answered from the index without reading the documents
        # (the writer holds the database's write lock here: no other writer takes the same).
        holders = [r for r, d in zip(rows, documents, strict=True) if d.holder]
        if holders:
            lowest = min(int(self.session.scalar(select(func.min(Doc.doc_id))) or 0), 0)
            for n, row in enumerate(holders, start=1):
                row["doc_id"] = lowest - n
        for group in (holders, [r for r in rows if "doc_id" not in r]):
            insert_ignoring_conflicts(self.session, Doc, group)

    def delete(self, asset_ids: Sequence[str]) -> None:
        ids = list(asset_ids)
        for start in range(0, len(ids), BATCH):
            self.session.execute(delete(Doc).where(Doc.asset_id.in_(ids[start : start + BATCH])))

    def without_document(self, *, limit: int) -> builtins.list[str]:
        """Visible assets that have no document yet (indexed before search existed)."""
        return list(
            self.session.scalars(
                select(Asset.id)
                .where(
                    Asset.deleted_at.is_(None),
                    Asset.asset_type != AssetType.PROXY,
                    ~exists().where(Doc.asset_id == Asset.id),
                )
                .limit(limit)
            )
        )

    def holders_below(self, asset_id: str, *, limit: int = 100_000) -> builtins.list[str]:
        """Folders and albums below this one (their documents hold the tags it passes on)."""
        return list(
            self.session.scalars(
                select(InheritedTag.asset_id)
                .where(InheritedTag.source_id == asset_id)
                .distinct()
                .limit(limit)
            )
        )

    def holders_below_many(self, asset_ids: Sequence[str]) -> builtins.list[str]:
        """`holders_below` of many assets at once."""
        found: set[str] = set()
        for start in range(0, len(asset_ids), 500):
            found.update(
                self.session.scalars(
                    select(InheritedTag.asset_id)
                    .where(InheritedTag.source_id.in_(list(asset_ids[start : start + 500])))
                    .distinct()
                )
            )
        return sorted(found)

    def folders_under(self, root_id: str, rel_path: str) -> builtins.list[str]:
        """The folder assets below a folder of a library."""
        return list(
            self.session.scalars(
                select(Asset.id).where(
                    Asset.root_id == root_id,
                    Asset.asset_type == AssetType.COLLECTION,
                    _under_folder(rel_path),
                )
            )
        )

    # --- reads --------------------------------------------------------------------------------

    def texts(self, asset_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """asset -> field -> text, for the snippets of a page of results."""
        if not asset_ids:
            return {}
        fields = [getattr(Doc, name) for name in SEARCH_FIELDS]
        rows = self.session.execute(
            select(Doc.asset_id, *fields).where(Doc.asset_id.in_(list(asset_ids)))
        )
        return {
            row[0]: {n: v for n, v in zip(SEARCH_FIELDS, row[1:], strict=True) if v} for row in rows
        }

    def suggest(
        self, viewer: Viewer, field: str, prefix: str, *, limit: int
    ) -> builtins.list[tuple[str, int]]:
        """Values of a document field that have a word starting with `prefix`, most used first,
        among the assets the viewer may see."""
        pattern = "%" + _like_escaped(fold(prefix)) + "%"
        target = getattr(Doc, field)
        stmt = (
            select(target, func.count())
            .join(Asset, Asset.id == Doc.asset_id)
            .where(
                target != "",
                func.lower(target).like(pattern, escape="\\"),
                Asset.deleted_at.is_(None),
                visible_assets(viewer),
            )
            .group_by(target)
            .order_by(func.count().desc(), target)
            .limit(limit * 4)
        )
        values: dict[str, int] = {}
        for joined, count in self.session.execute(stmt):
            for value in str(joined).split("\n"):
                if any(w.startswith(fold(prefix)) for w in words(value)):
                    values[value] = values.get(value, 0) + int(count)
        return sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def suggest_tags(
        self, viewer: Viewer, prefix: str, *, limit: int
    ) -> builtins.list[tuple[str, int]]:
        pattern = _like_escaped(prefix.lower()) + "%"
        word = "% " + _like_escaped(prefix.lower()) + "%"
        stmt = (
            select(AssetTag.tag, func.count())
            .join(Asset, Asset.id == AssetTag.asset_id)
            .where(
                or_(
                    func.lower(AssetTag.tag).like(pattern, escape="\\"),
                    func.lower(AssetTag.tag).like(word, escape="\\"),
                ),
                Asset.deleted_at.is_(None),
                visible_assets(viewer),
            )
            .group_by(AssetTag.tag)
            .order_by(func.count().desc(), AssetTag.tag)
            .limit(limit)
        )
        return [(str(tag), int(n)) for tag, n in self.session.execute(stmt)]

    def suggest_albums(
        self, viewer: Viewer, prefix: str, *, limit: int
    ) -> builtins.list[tuple[str, int]]:
        title = func.coalesce(func.nullif(Asset.title, ""), Asset.filename)
        stmt = (
            select(title, func.count(Link.target_id))
            .outerjoin(
                Link,
                and_(
                    Link.source_id == Asset.id,
                    Link.relation == Relation.INCLUDES,
                    # the members the viewer sees: a count is not a way to learn of the rest
                    visible_node(Link.target_id.expression, literal("Asset"), viewer),
                ),
            )
            .where(
                Asset.asset_type == AssetType.COLLECTION,
                Asset.is_virtual.is_(True),
                Asset.deleted_at.is_(None),
                func.lower(title).like("%" + _like_escaped(prefix.lower()) + "%", escape="\\"),
                visible_assets(viewer),
            )
            .group_by(title)
            .order_by(func.count(Link.target_id).desc(), title)
            .limit(limit)
        )
        return [(str(name), int(n)) for name, n in self.session.execute(stmt)]

    # --- query --------------------------------------------------------------------------------

    def conditions(
        self,
        query: SearchQuery,
        *,
        viewer: Viewer,
        paged: bool = False,
        collected: Clause | None = None,
        window: Window | None = None,
    ) -> builtins.list[ColumnElement[bool]]:
        """One WHERE condition on `assets` per clause of the query. A word or `album:` matched
        through a folder or album counts only a holder the viewer may see: the name of
        someone's private album is not a way to learn what it includes.

        `paged`: the query reads one page down an index (the timeline), so a common word is
        probed per row read, where a count over the library (the months) collects its
        matches once; `collected`: a clause of the query whose matches are collected even so
        (`rarest`), the others probed per row of them; `window`: the part of the timeline a
        bounded walk reads (PostgreSQL), whose documents holding a lone common word are then
        collected once (`_probed_in_window`)."""
        self._planned_for_search()
        if self.dialect == "sqlite":
            return [
                Asset.id.in_(self._matching(c, viewer=viewer))
                if c is collected
                else self._clause(c, viewer=viewer, paged=paged)
                for c in query.clauses
            ]
        if not (paged and self.dialect == "postgresql"):
            return [
                self._clause(c, viewer=viewer, paged=paged and c is not collected)
                for c in query.clauses
            ]
        words = [c for c in query.clauses if self._probed_per_row(c, collected=collected)]
        together = {id(c) for c in words} if len(words) > 1 else set()
        found = [
            (
                c,
                self._probed_in_window(c, viewer=viewer, window=window)
                if window is not None and id(c) in {id(w) for w in words}
                else self._clause(c, viewer=viewer, paged=c is not collected),
            )
            for c in query.clauses
            if id(c) not in together
        ]
        if together:
            found.insert(0, (words[0], self._probed_together(words, viewer=viewer)))
        return self._words_before_negations(found, collected=collected)

    def _probed_together(
        self, words: builtins.list[Clause], *, viewer: Viewer
    ) -> ColumnElement[bool]:
        """Two or more words probed per row read (PostgreSQL) checked on one read of the
        row's document: each word in it, or (a folder or album word) on a link from a listed
        holder. Probed one by one, each word looked its document up again: `sunset canon`
        newest first at 1M assets looked up 13.5k documents for the 11.4k rows walked. The
        words held in the document alone come first, as they cost nothing more to check. An
        asset without a document matches when every word reaches it through a link, as
        before."""
        parts = [self._probe_parts(c, viewer=viewer) for c in words]
        parts.sort(key=lambda part: (part[1] is not None, part[0] is None))
        in_doc = [
            or_(
                false(),
                *([] if own is None else [own]),
                *([] if link is None else [_per_row(link)]),
            )
            for own, link in parts
        ]
        on_doc = (
            select(and_(*in_doc).is_(True))
            .where(Doc.asset_id == Asset.id)
            .correlate(Asset)
            .scalar_subquery()
        )
        links = [link for _, link in parts if link is not None]
        # Without a document, only when every word reaches the row through a link.
        no_doc = and_(*map(_per_row, links)) if len(links) == len(parts) else false()
        return func.coalesce(on_doc, no_doc, type_=Boolean)

    def _probed_in_window(
        self, c: Clause, *, viewer: Viewer, window: Window
    ) -> ColumnElement[bool]:
        """A common word probed per row of a bounded walk (PostgreSQL): the row among the
        documents of the walk's window that hold the word, collected once (their timeline is
        the assets', migration 0019), or a link to it from a listed holder, probed per row.
        Looked up per row, each row walked read its document by its asset id (1M assets,
        `beach` newest first: 9.3k rows, 37k of the walk's 78k buffers); the window's 10k
        documents are read from the timeline index, 2.7k buffers. The word is checked on
        each of them, behind OFFSET 0: with the word's condition in reach, PostgreSQL
        intersected the window with the word's whole bitmap from the text indexes (101k
        documents each, twice the time)."""
        _, link = self._probe_parts(c, viewer=viewer)
        found: list[ColumnElement[bool]] = []
        if c.key != "album":
            columns = select(Doc.asset_id, Doc.tsv, Doc.substrings)
            docs = columns.where(window.holds(Doc.timeline_at)).offset(0).subquery("window")
            own = self._own_condition_postgresql(c, holders=False, docs=docs.c)
            found.append(Asset.id.in_(select(docs.c.asset_id).where(own)))
        if link is not None:
            found.append(_per_row(link))
        return or_(false(), *found)

    def _words_before_negations(
        self, found: builtins.list[tuple[Clause, ColumnElement[bool]]], *, collected: Clause | None
    ) -> builtins.list[ColumnElement[bool]]:
        """The conditions, with the common words' probes checked on each row before the
        negations' (`-tag:`, `-word`). PostgreSQL orders a row's conditions by their
        estimated cost, and put the negations' probes first: `type:image beach -tag:private`
        newest first at 1M assets probed the tag on each of 6,700 rows walked for the 101
        that hold `beach` (EXPLAIN ANALYZE: 141-145 ms, 106k buffers; the word first: 58-93
        ms, 56k). As CASE WHEN words THEN negations ELSE false, the order is kept."""
        words = {id(c) for c, _ in found if self._probed_per_row(c, collected=collected)}
        negations = {
            id(c) for c, _ in found if c.negated and c.key in ("", "text", *FILTER_FIELDS, "tag")
        }
        if not (words and negations):
            return [condition for _, condition in found]
        first = [condition for c, condition in found if id(c) in words]
        then = [condition for c, condition in found if id(c) in negations]
        rest = [condition for c, condition in found if id(c) not in words | negations]
        return [*rest, case((and_(*first), and_(*then)), else_=false())]

    def _probed_per_row(self, c: Clause, *, collected: Clause | None) -> bool:
        """Whether `_positive` (paged, PostgreSQL) answers the clause by a probe per row."""
        return not c.negated and c is not collected and c.key in WORD_KEYS and self._matches_many(c)

    def walks(self, query: SearchQuery) -> bool:
        """Whether `conditions(paged=True)` probes every word of the query per row read, all
        of them common: a page then walks the timeline, which for words whose
        matches are all old reads far down before it meets them (1M assets, `img_2019`:
        500k rows, 20 s CPU), so the caller bounds the walk (AssetRepository) and reads a
        page it leaves short from the matches of the `rarest` word, the others probed per
        row of them. Collecting every word's matches instead (`sunset canon`: 237k of
        `canon`) took 7-9 s CPU at 1M assets, where the unbounded walk read 0.47 s. On SQLite
        (100k assets, `img_2019` newest first: 50k rows probed, 120 ms) as well."""
        if self.dialect == "sqlite":
            many = self._many(query)
            return bool(many) and all(many)
        return self.common_only(query)

    def rarest(self, query: SearchQuery) -> tuple[Clause, int] | None:
        """The word clause the query requires with the fewest matches (None without one), and
        how many, as the planner expects them on PostgreSQL, counted on SQLite: the one to
        collect when the others are probed per row of its matches."""
        expected = [(c, self._expected_matches(c)) for c in self.required_words(query)]
        return min(expected, key=lambda pair: pair[1], default=None)

    def candidates(
        self, query: SearchQuery, *, viewer: Viewer, months: Sequence[datetime]
    ) -> Select[Any]:
        """Ids of assets that may match the query's words, among those whose timeline lies
        in these months (their first days; PostgreSQL): those whose own document holds every
        word the query requires (the words found in the text indexes, the month on the
        documents), and those of these months one hop below a folder or album that holds one
        of the words. Every match of these months is among them; the query's conditions
        (`conditions(paged=True)`) then tell which match, each checked on a few candidates
        instead of every asset of the months."""
        required = self.required_words(query)
        sources: list[Select[Any]] = []
        if not any(c.key == "album" for c in required):
            own = [self._own_condition_postgresql(c, holders=False) for c in required]
            sources.append(select(Doc.asset_id).where(*own, _in_months(Doc.timeline_at, months)))
        for c in required:
            if c.key in FILTER_FIELDS:
                continue
            holders = self._listed_holders(c, viewer=viewer)
            if holders == []:
                continue
            below = self._below_holders(c, viewer=viewer, holders=holders)
            in_months = _in_months(below.selected_columns.timeline_at, months)
            sources.append(below.where(in_months).with_only_columns(Link.target_id))
        if not sources:
            return select(Asset.id).where(false())
        return sources[0] if len(sources) == 1 else select(union_all(*sources).subquery().c[0])

    def required_words(self, query: SearchQuery) -> builtins.list[Clause]:
        """The clauses of words the query requires (free words, field filters, `album:`)."""
        return [c for c in query.clauses if not c.negated and c.key in WORD_KEYS and _words_of(c)]

    def _expected_matches(self, c: Clause) -> int:
        if c.key == "album":
            counted = self._many_threshold() if self.dialect == "postgresql" else COUNTED
            return self._album_members(c, at_most=counted)
        if self.dialect == "sqlite":  # counted from the FTS5 index (1 ms for 23k matches)
            match = _FTS_TABLE.op("MATCH")(_fts_query(c) or '""')
            total = select(func.count()).select_from(_FTS).where(match)
            return int(self.session.scalar(total) or 0)
        return self._estimated_matches(_pg_query(c) or "")

    def common_only(self, query: SearchQuery) -> bool:
        """Whether every word the query requires (free words, field filters, `album:`) is
        common (PostgreSQL): nothing in it narrows the library to a list cheaper to read than
        its matches, so counting them collects a quarter of the library (1M assets, `canon`:
        235k matches read from the documents and looked up in `assets`, 5-15 s CPU)."""
        if self.dialect != "postgresql":
            return False
        many = self._many(query)
        return bool(many) and all(many)

    def library_estimate(self) -> int:
        """The planner's count of `assets` (a scale, not a count anyone sees; 0 on SQLite)."""
        return self._assets_estimate() if self.dialect == "postgresql" else 0

    def _many(self, query: SearchQuery) -> builtins.list[bool]:
        """`_matches_many` of each word clause the query requires."""
        return [
            self._matches_many(c) for c in query.clauses if not c.negated and c.key in WORD_KEYS
        ]

    def ranked_clauses(self, query: SearchQuery) -> builtins.list[Clause]:
        """The clauses `ranked` requires of every document it returns (free words and `text:`
        that have words): a result it ranks meets their conditions by its own document, so a
        page of its results need not check them again (AssetRepository)."""
        terms = [c for c in query.clauses if not c.negated and c.key in ("", "text")]
        if self.dialect == "postgresql":
            return [c for c in terms if _pg_query(c)]
        return [c for c in terms if _fts_query(c)]

    def ranked(self, query: SearchQuery) -> Any:
        """(asset_id, score) of the RANKED best documents that hold all the query's words
        themselves (`ranked_clauses`), the best first when ordered by `score` ascending; None
        without words.

        Bounded, so that a word in a quarter of the library costs a top-N sort inside the
        index, not reading and sorting every match (what matches beyond comes newest first).
        On SQLite the LIMIT is inside the FTS5 query, before its rowids are mapped to assets:
        the RANKED best are looked up in `search_documents`, not all 25k matches of a common
        word (100k assets, `canon`, 23.5k matches: 33 -> 24 ms CPU).
        """
        terms = self.ranked_clauses(query)
        if not terms:
            return None
        self._planned_for_search()
        if self.dialect == "postgresql":
            tsq = " & ".join(f"({_pg_query(c)})" for c in terms)
            return _ranked_postgresql(tsq, read_in_order=self._dense(terms))
        match = " AND ".join(f"({_fts_query(c)})" for c in terms)
        top = _ranked_sqlite(match, [_fts_query(c) or "" for c in terms if c.key == ""])
        return (
            select(Doc.asset_id, top.c.score)
            .select_from(top.join(Doc, Doc.doc_id == top.c.doc_id))
            .subquery()
        )

    def _dense(self, terms: Sequence[Clause]) -> bool:
        """Whether the planner expects DENSE_SHARE of the documents to hold all these words
        (each word's share multiplied, as if they were independent)."""
        library = self._assets_estimate()
        if not library:
            return False
        shares = (self._estimated_matches(_pg_query(c) or "") / library for c in terms)
        return math.prod(min(1.0, share) for share in shares) >= DENSE_SHARE

    def _planned_for_search(self) -> None:
        """PostgreSQL compiles a plan it costs high (a common word's index scan) to machine
        code before running it: 50-70 ms of CPU for a page that then takes less. Off for the
        rest of the search's transaction.

        And every statement planned for its own parameters: psycopg prepares a statement run
        five times, and PostgreSQL may then keep one generic plan for it, blind to the words'
        holder list and the walk's stretch of the timeline that every search of that shape
        shares (1M assets, `beach` newest first after `kyoto`: 160-268 ms CPU a page, 59-79
        with plans of its own)."""
        if self.dialect == "postgresql":
            self.session.execute(_SEARCH_PLANNING)

    def _clause(self, c: Clause, *, viewer: Viewer, paged: bool) -> ColumnElement[bool]:
        if c.negated and self.dialect == "postgresql" and c.key in ("", "text", *FILTER_FIELDS):
            return not_(self._probed(c, viewer=viewer))
        if c.negated and self.dialect == "postgresql" and c.key == "tag":
            return not_(self._tag_probed(c.value))
        condition = self._positive(c, viewer=viewer, paged=paged)
        return not_(condition) if c.negated else condition

    def _probed(self, c: Clause, *, viewer: Viewer, per_row: bool = False) -> ColumnElement[bool]:
        """The clause's words matched by probes of the row at hand: its own document (by its
        asset id) and its links from a matching folder or album (`album:`: only those). For a
        negation on PostgreSQL: `NOT IN (matches)` of a common word (a quarter of the
        library) is too big to hash, and with the LIMIT of a page PostgreSQL rescanned them
        per row read (1M assets, `-beach type:document`: 2.0 s CPU); a page needs only its
        rows' documents.

        `per_row`, for a positive clause: each probe a `(SELECT ... LIMIT 1) IS NOT NULL`,
        which PostgreSQL can neither turn into a join nor hash whole, as it would a lone
        EXISTS (repositories/access.py)."""
        if per_row:
            own, link = self._probe_parts(c, viewer=viewer)
            probes = [*([] if own is None else [self._own(c).where(Doc.asset_id == Asset.id)])]
            probes += [] if link is None else [link]
            return or_(*(_per_row(p) for p in probes)) if probes else false()
        relations = [Relation.INCLUDES] if c.key == "album" else list(self.hierarchical)
        below = select(Link.target_id).where(
            Link.target_id == Asset.id,
            Link.relation.in_(relations),
            Link.source_id.in_(self._own(c, holders=True)),
            visible_node(Link.source_id.expression, literal("Asset"), viewer),
        )
        probes = [] if c.key == "album" else [self._own(c).where(Doc.asset_id == Asset.id)]
        if c.key not in FILTER_FIELDS:
            probes.append(below)
        if not probes:
            return false()
        return or_(*(p.exists() for p in probes))

    def _probed_sqlite(self, c: Clause, *, viewer: Viewer) -> ColumnElement[bool]:
        """A common word on SQLite, checked on each row a page reads (the timeline, the ranked
        best): the row's document, found by the unique index on its asset id, among the
        matches' rowids (read from the FTS5 index alone), or a link to the row from a
        matching folder or album the viewer may see. As `assets.id IN (the matches)` each
        match's document was read for its asset id before the first row (100k assets,
        `canon` newest first: 23.5k documents, 27 -> 4 ms)."""
        relations = [Relation.INCLUDES] if c.key == "album" else list(self.hierarchical)
        probes = [] if c.key == "album" else [self._own(c).where(Doc.asset_id == Asset.id)]
        holders = self._listed_holders(c, viewer=viewer)
        if holders != [] and c.key not in FILTER_FIELDS:
            # The row's own links (ix_links_target), each holder checked against the list:
            # looked up by holder instead, each row cost a probe per holder and relation
            # (`kyoto`: 100 folders, 200 ms a page). With none listed, no probe at all
            # (`img_2019` newest first: ~1.3 us a row walked).
            holder = _unindexed(Link.source_id.expression)
            probes.append(
                select(Link.target_id).where(
                    Link.target_id == Asset.id,
                    Link.relation.in_(relations),
                    *(
                        [holder.in_(holders)]
                        if holders is not None
                        else [
                            holder.in_(self._own(c, holders=True)),
                            visible_node(Link.source_id.expression, literal("Asset"), viewer),
                        ]
                    ),
                )
            )
        return or_(false(), *(p.exists() for p in probes))

    def _probe_parts(
        self, c: Clause, *, viewer: Viewer
    ) -> tuple[ColumnElement[bool] | None, Select[Any] | None]:
        """A positive clause probed per row (PostgreSQL): the condition its words put on the
        row's document (None for `album:`) and the probe of the row's links from a listed
        holder the viewer may see, or from one whose document matches past LISTED_HOLDERS
        (None for a field filter, or when no holder matches)."""
        relations = [Relation.INCLUDES] if c.key == "album" else list(self.hierarchical)
        holders = self._listed_holders(c, viewer=viewer)
        below = select(Link.target_id).where(
            Link.target_id == Asset.id,
            Link.relation.in_(relations),
            *(
                [Link.source_id == any_(literal(holders, ARRAY(String)))]
                if holders is not None
                else [
                    Link.source_id.in_(self._own(c, holders=True)),
                    visible_node(Link.source_id.expression, literal("Asset"), viewer),
                ]
            ),
        )
        own = None if c.key == "album" else self._own_condition_postgresql(c, holders=False)
        linked = c.key not in FILTER_FIELDS and holders != []
        return own, below if linked else None

    def _listed_holders(self, c: Clause, *, viewer: Viewer) -> builtins.list[str] | None:
        """The folders and albums the viewer may see whose own text matches the clause, as a
        list read once, when they are at most LISTED_HOLDERS (None past that). A probe per
        row read then checks the row's links against the list, instead of looking up each
        link's holder and its document (1M assets, `beach`: 10k rows walked, 0.05 of 0.08 ms
        per row)."""
        if c.key in FILTER_FIELDS:
            return None
        if id(c) not in self._holders:  # asked again by `candidates` after the conditions
            found = self._own(c, holders=True).where(
                visible_node(Doc.asset_id.expression, literal("Asset"), viewer)
            )
            ids = list(self.session.scalars(found.limit(LISTED_HOLDERS + 1)))
            self._holders[id(c)] = None if len(ids) > LISTED_HOLDERS else ids
        return self._holders[id(c)]

    def _positive(self, c: Clause, *, viewer: Viewer, paged: bool) -> ColumnElement[bool]:
        if c.key in WORD_KEYS:
            # On PostgreSQL what is not a page (a count by month) collects the matches once.
            collected = self.dialect == "postgresql" and not paged
            if collected or not self._matches_many(c):
                return Asset.id.in_(self._matching(c, viewer=viewer))
            if self.dialect == "sqlite" and paged:
                return self._probed_sqlite(c, viewer=viewer)
            if self.dialect == "sqlite":
                # SQLite cannot tell how many rows an IN over FTS holds and starts from it;
                # for a common word (a quarter of the library) that reads and sorts 25k rows
                # for a page of 100. Hidden from the planner, the page is read in timeline
                # order instead, probing the set (100k assets: 340 ms -> see bench/search.py).
                matching = Asset.id.in_(self._matching(c, viewer=viewer))
                return func.likelihood(matching, literal_column("0.9"))
            # PostgreSQL collected a common word's matches (237k at 1M assets for `canon`)
            # to sort them, or, past what it can hash, rescanned them per row read (newest
            # first: > 15 s). Probed per row instead, a page walks the timeline index and
            # stops after one page.
            return self._probed(c, viewer=viewer, per_row=True)
        if c.key == "type":
            return Asset.asset_type.in_(list(c.parsed))
        if c.key == "taken":
            start, end = c.parsed
            return and_(Asset.timeline_at >= start, Asset.timeline_at < end)
        if c.key == "after":
            return Asset.timeline_at >= c.parsed[1]
        if c.key == "before":
            return Asset.timeline_at < c.parsed[0]
        if c.key == "tag":
            return Asset.id.in_(tagged(c.value, hierarchical=self.hierarchical))
        if c.key == "folder":
            return _under_folder(c.value.strip("/"))
        if c.key in ("ext", "near"):
            if self.dialect == "sqlite" and paged and self._matches_many(c):
                # Per row read: the row's document among the matching ones, both from
                # indexes. Collected, each match's document was read for its asset id, as
                # many as a page of PDFs walks past (`ext:pdf invoice`: 5k documents).
                return exists().where(Doc.asset_id == Asset.id, Doc.doc_id.in_(_documents(c)))
            return Asset.id.in_(select(Doc.asset_id).where(*_document_conditions(c, Doc)))
        if c.key == "is":
            return self._is(c.parsed, viewer=viewer)
        if c.key == "rating":
            return _rated(c.parsed, dialect=self.dialect)
        if c.key == "has":
            # Correlated: most assets have a position, so this is checked per row read.
            return exists().where(Doc.asset_id == Asset.id, _has(c.parsed))
        raise AssertionError(f"no condition for filter {c.key!r}")

    def _tag_probed(self, tag: str) -> ColumnElement[bool]:
        """`tagged` as probes of the row at hand (own, inherited, or below a tagged holder):
        for `-tag:` on PostgreSQL, whose `NOT IN` of a few thousand ids it did not hash but
        scanned per row read (1M assets, `type:image beach -tag:private`)."""

        def has_tag(node: Any) -> ColumnElement[bool]:
            own = select(AssetTag.asset_id).where(AssetTag.asset_id == node, AssetTag.tag == tag)
            rows = select(InheritedTag.asset_id).where(
                InheritedTag.asset_id == node, InheritedTag.tag == tag
            )
            return or_(own.exists(), rows.exists())

        holder = select(Link.target_id).where(
            Link.target_id == Asset.id,
            Link.relation.in_(list(self.hierarchical)),
            has_tag(Link.source_id),
        )
        return or_(has_tag(Asset.id), holder.exists())

    def _matches_many(self, c: Clause) -> bool:
        """Whether the clause's matches are many: on SQLite its own documents', counted by the
        FTS5 index and capped; on PostgreSQL those of its words as the planner estimates them
        (`album:`: the members of the albums it names, counted), against MANY_MATCHES or one
        in MANY_SHARE of the library, the more (at 1M assets 2,000 matches are too few for a
        page read down the timeline to meet 100 of them soon). Remembered for the
        repository's life (one listing): the conditions ask again when they order them."""
        known = self._many_known.get(id(c))
        if known is None:
            known = self._many_known[id(c)] = self._count_many(c)
        return known

    def _count_many(self, c: Clause) -> bool:
        if self.dialect == "postgresql":
            return self._matches_many_postgresql(c)
        if c.key == "album":
            return self._album_members(c, at_most=MANY_MATCHES) >= MANY_MATCHES
        if c.key in ("ext", "near"):
            found = _documents(c)
        else:
            expr = _fts_query(c)
            if not expr:
                return False
            found = select(_FTS.c.rowid).where(_FTS_TABLE.op("MATCH")(expr))
        capped = found.limit(MANY_MATCHES).subquery()
        return int(self.session.scalar(select(func.count()).select_from(capped)) or 0) >= (
            MANY_MATCHES
        )

    def _matches_many_postgresql(self, c: Clause) -> bool:
        tsq = _pg_query(c)
        if not tsq:
            return False
        many = self._many_threshold()
        if c.key != "album":
            return self._estimated_matches(tsq) >= many
        return self._album_members(c, at_most=many) >= many

    def _many_threshold(self) -> int:
        return max(MANY_MATCHES, self._assets_estimate() // MANY_SHARE)

    def _album_members(self, c: Clause, *, at_most: int) -> int:
        """The members of the albums `album:` names, counted up to `at_most`."""
        members = select(Link.target_id).where(
            Link.relation == Relation.INCLUDES,
            Link.source_id.in_(self._own(c, holders=True)),
        )
        capped = members.limit(at_most).subquery()
        return int(self.session.scalar(select(func.count()).select_from(capped)) or 0)

    def _estimated_matches(self, tsq: str) -> int:
        """How many documents the planner expects to match `tsq`, from the statistics ANALYZE
        keeps of the words in `tsv` (a plan, nothing read). Counted instead, even capped, a
        common word's matches were read from the table or its index first (1M assets).

        A prefix (`'notes':*`) counts as the more of itself and its whole word: PostgreSQL 15
        expected 20k documents of `'notes':*` where `'notes'` alone holds 663k (1M assets,
        the word's frequency is in the statistics, a prefix's is not), and the search then
        collected every match, 13 s a page newest first, instead of walking the timeline."""
        if tsq not in self._estimates:  # asked again by `rarest` after `_matches_many`
            self._estimates[tsq] = max(self._planned_rows(t) for t in {tsq, _whole_word(tsq)})
        return self._estimates[tsq]

    def _planned_rows(self, tsq: str) -> int:
        plan = self.session.scalar(_ESTIMATE, {"tsq": tsq})
        return int(plan[0]["Plan"]["Plan Rows"])

    def _assets_estimate(self) -> int:
        """The planner's count of `assets` (pg_class, kept by ANALYZE and autovacuum): a
        threshold's scale, not a count anyone sees."""
        if self._library is None:
            rows = self.session.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = 'assets'::regclass")
            )
            self._library = max(int(rows or 0), 0)
        return self._library

    def _is(self, value: str, *, viewer: Viewer) -> ColumnElement[bool]:
        if value == "missing":
            return Asset.status == AssetStatus.MISSING
        if value == "corrupted":
            return Asset.id.in_(
                select(IntegrityFinding.asset_id).where(IntegrityFinding.resolved_at.is_(None))
            )
        if value == "favorite":
            marked = gallery_mark("favorite", dialect=self.dialect)
            true_: ColumnElement[Any] = literal_column(
                "'true'" if self.dialect == "postgresql" else "1"
            )
            # IS NOT NULL too, so that `-is:favorite` finds the never-marked (NOT NULL = NULL).
            return and_(marked.is_not(None), marked == true_)
        return has_visible_copy(viewer)

    def _matching(self, c: Clause, *, viewer: Viewer) -> Select[Any]:
        """Ids of the assets the clause's text matches: own documents, and (for words) what
        lies one hop below a matching folder or album the viewer may see; `album:` only the
        latter."""
        if c.key in FILTER_FIELDS:
            return self._own(c)
        relations = [Relation.INCLUDES] if c.key == "album" else list(self.hierarchical)
        below = select(Link.target_id).where(
            Link.relation.in_(relations),
            Link.source_id.in_(self._own(c, holders=True)),
            visible_node(Link.source_id.expression, literal("Asset"), viewer),
        )
        if c.key == "album":
            return below
        return select(union_all(self._own(c), below).subquery().c[0])

    def placed(
        self, c: Clause, *, viewer: Viewer
    ) -> Select[str, datetime | None] | CompoundSelect[str, datetime | None]:
        """(asset_id, timeline_at) of the assets `_matching` finds (SQLite), each once: an
        own match's timeline read from its document (kept in step with the asset's), one
        below a matching folder or album the viewer may see (`_listed_holders`) from
        `assets`, so that the matches can be put in timeline order without looking each up
        in `assets`. With no such holder the own matches alone, not made distinct."""
        own = self._own(c).with_only_columns(Doc.asset_id, Doc.timeline_at)
        holders = self._listed_holders(c, viewer=viewer)
        if c.key in FILTER_FIELDS or holders == []:
            return own
        below = self._below_holders(c, viewer=viewer, holders=holders)
        return below if c.key == "album" else union(own, below)

    def _below_holders(
        self, c: Clause, *, viewer: Viewer, holders: builtins.list[str] | None
    ) -> Select[Any]:
        """(asset id, timeline_at) of what lies one hop below the folders or albums whose own
        document matches the clause: `holders`, their ids as `_listed_holders` lists them,
        or None past LISTED_HOLDERS (then found in the index, those the viewer may see)."""
        relations = [Relation.INCLUDES] if c.key == "album" else list(self.hierarchical)
        if holders is None:
            linked = [
                Link.source_id.in_(self._own(c, holders=True)),
                visible_node(Link.source_id.expression, literal("Asset"), viewer),
            ]
        elif self.dialect == "postgresql":
            linked = [Link.source_id == any_(literal(holders, ARRAY(String)))]
        else:
            linked = [Link.source_id.in_(holders)]
        held = Asset.__table__.alias("held")
        return (
            select(Link.target_id, held.c.timeline_at)
            .join(held, held.c.id == Link.target_id)
            .where(Link.relation.in_(relations), *linked)
        )

    def _own(self, c: Clause, *, holders: bool = False) -> Select[Any]:
        """Ids of the assets whose own document matches; with `holders`, folders and albums
        only (a few in a library, found without reading the others' matches)."""
        if self.dialect == "postgresql":
            return self._own_postgresql(c, holders=holders)
        conditions: list[ColumnElement[bool]] = []
        # The rowids of the words' matches and of the substring's, one list: as two, a
        # document in both (`img_2019`: all 9.5k) was read once for each.
        rowids: list[Select[Any]] = []
        expr = _fts_query(c)
        if expr:
            match = literal_column("search_fts").op("MATCH")(expr)
            found = select(_FTS.c.rowid).where(match)
            rowids.append(found.where(_FTS.c.rowid < 0) if holders else found)
        folded = fold(c.value)
        if c.key == "" and len(folded) >= 3:
            match = literal_column("search_trigram").op("MATCH")(_fts_string(folded))
            found = select(_TRIGRAM.c.rowid).where(match)
            rowids.append(found.where(_TRIGRAM.c.rowid < 0) if holders else found)
        elif c.key == "":
            short = _substring(folded)  # too short for trigrams: a scan
            conditions.append(and_(short, Doc.doc_id < 0) if holders else short)
        if rowids:
            conditions.append(Doc.doc_id.in_(union_all(*rowids) if len(rowids) > 1 else rowids[0]))
        return select(Doc.asset_id).where(or_(*conditions) if conditions else false())

    def _own_postgresql(self, c: Clause, *, holders: bool) -> Select[Any]:
        return select(Doc.asset_id).where(self._own_condition_postgresql(c, holders=holders))

    def _own_condition_postgresql(
        self, c: Clause, *, holders: bool, docs: Any = Doc
    ) -> ColumnElement[bool]:
        """The condition the clause's text puts on a document (of `docs`: the table or a
        subquery of it)."""
        tsq = _pg_query(c)
        conditions: list[ColumnElement[bool]] = []
        if tsq:
            conditions.append(docs.tsv.op("@@")(cast(literal(tsq), TSQUERY)))
        if c.key == "":
            conditions.append(_substring(fold(c.value), docs=docs))
        matched = or_(*conditions) if conditions else false()
        if not holders:
            return matched
        # The holders' partial indexes answer both parts, among their documents alone.
        return and_(docs.tsv.op("@@")(literal_column(HOLDER_TSQUERY)), matched)

    def _tags_of(self, asset_ids: list[str]) -> dict[str, list[str]]:
        """Own tags, and for folders and albums also the rows of what they inherit."""
        tags: dict[str, list[str]] = {}
        own = select(AssetTag.asset_id, AssetTag.tag).where(AssetTag.asset_id.in_(asset_ids))
        rows = select(InheritedTag.asset_id, InheritedTag.tag).where(
            InheritedTag.asset_id.in_(asset_ids)
        )
        for asset_id, tag in self.session.execute(union(own, rows)):
            tags.setdefault(asset_id, []).append(tag)
        return tags


# --- SQLite FTS5 query text ------------------------------------------------------------------


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts_phrase(value: str, *, prefix: bool) -> str | None:
    tokens = words(value)
    if not tokens:
        return None
    return " + ".join(_fts_string(t) for t in tokens) + ("*" if prefix else "")


def _fts_query(c: Clause) -> str | None:
    """The FTS5 MATCH text of a clause's words (None: it has none, e.g. only punctuation)."""
    if c.key == "album":
        phrase = _fts_phrase(c.value, prefix=not c.phrase)
        return phrase and "{name title} : " + phrase
    if c.key in FILTER_FIELDS:
        phrase = _fts_phrase(c.value, prefix=not c.phrase and c.key != "text")
        return phrase and "{" + " ".join(FILTER_FIELDS[c.key]) + "} : " + phrase
    return _fts_phrase(c.value, prefix=not c.phrase)


# --- PostgreSQL tsvector and tsquery text ----------------------------------------------------


def tsvector_text(document: SearchDocument) -> str:
    """The document as a tsvector literal: its folded words with positions and weight classes,
    and field-prefixed words for the field filters."""
    positions: dict[str, list[str]] = {}
    at = 1
    for name in SEARCH_FIELDS:
        weight = PG_WEIGHT.get(name, "B")
        prefix = name + ":" if name in PREFIXED_FIELDS else None
        for word in words(document.fields.get(name, "")):
            if len(word) > MAX_LEXEME_CHARS:
                continue
            spot = f"{min(at, MAX_POSITION)}{weight}"
            positions.setdefault(word, []).append(spot)
            if prefix:
                positions.setdefault(prefix + word, []).append(spot)
            at += 1
        at += 1  # a phrase does not run from one field into the next
    if document.holder:
        positions[HOLDER_LEXEME] = ["1D"]
    return " ".join(f"'{w}':{','.join(spots[:256])}" for w, spots in positions.items())


def _pg_phrase(value: str, *, prefix: bool, field: str = "", weight: str = "") -> str | None:
    tokens = words(value)
    if not tokens:
        return None
    parts = [f"'{field}{t}'" + (":" if weight else "") + weight for t in tokens]
    if prefix:
        last = parts[-1]
        parts[-1] = last + "*" if weight else last + ":*"
    return " <-> ".join(parts)


def _whole_word(tsq: str) -> str:
    """A query of `_pg_phrase` with its last word whole instead of a prefix."""
    if tsq.endswith(":*"):
        return tsq[:-2]
    return tsq[:-1] if tsq.endswith("*") else tsq


def _words_of(c: Clause) -> bool:
    """Whether the clause has words to look for (not only punctuation)."""
    return bool(words(c.value))


def _pg_query(c: Clause) -> str | None:
    if c.key == "album":
        return _pg_phrase(c.value, prefix=not c.phrase, weight="A")
    if c.key == "text":
        return _pg_phrase(c.value, prefix=False, weight="D")
    if c.key in FILTER_FIELDS:
        (field,) = FILTER_FIELDS[c.key]
        return _pg_phrase(c.value, prefix=not c.phrase, field=field + ":")
    return _pg_phrase(c.value, prefix=not c.phrase)


def _ranked_postgresql(tsq: str, *, read_in_order: bool) -> Any:
    """`ranked` on PostgreSQL: the best RANKED of the first RANK_CANDIDATES documents the
    index gives (in the table's order), equal scores the newest id first. Ranking reads each
    candidate's tsv from the table: for all 237k matches of `canon` at 1M assets that was
    most of a page's 200 ms; and the ranks of so common a word say little (`canon` is one
    score for all). `read_in_order`: the candidates are found by reading the table (the
    function behind `@@`, which no index answers), not listed by the index (DENSE_SHARE)."""
    q = cast(literal(tsq), TSQUERY)
    holds = func.ts_match_vq(Doc.tsv, q) if read_in_order else Doc.tsv.op("@@")(q)
    candidates = (
        select(Doc.asset_id, Doc.tsv).where(holds).limit(RANK_CANDIDATES).subquery("candidates")
    )
    rank = -func.ts_rank(candidates.c.tsv, q)
    best = select(candidates.c.asset_id, rank.label("score"))
    return best.order_by(rank, candidates.c.asset_id.desc()).limit(RANKED).subquery()


def _ranked_sqlite(match: str, words: builtins.list[str]) -> Any:
    """`ranked` on SQLite: (doc_id, score) of the RANKED best among the candidates, equal
    scores the latest indexed first. A match in more documents than SQLITE_RANK_CANDIDATES
    is ranked among the SQLITE_RANK_CANDIDATES latest indexed (the highest rowids, found by
    reading the index backwards) and those that hold every free word in their name, title
    or tags (the fields whose match ranks highest): bm25() reads each candidate's positions
    and its length in the index, 1.3-2.4 us a document, and `canon` (23.5k documents at
    100k assets) cost 21 of a page's 37 ms CPU; its best 4.4k all share one score."""
    matching = _FTS_TABLE.op("MATCH")(match)
    latest = (
        select(_FTS.c.rowid)
        .where(matching)
        .order_by(_FTS.c.rowid.desc())
        .offset(SQLITE_RANK_CANDIDATES - 1)
        .limit(1)
        .scalar_subquery()
    )
    candidates = [_FTS.c.rowid >= func.coalesce(latest, literal_column(str(-(2**63))))]
    if words:
        strong = " AND ".join("{name title tags} : (" + w + ")" for w in words)
        held = select(_FTS.c.rowid).where(_FTS_TABLE.op("MATCH")(strong))
        # The latest of them when they are many, as the rest (`img_2019`: every name).
        held = held.order_by(_FTS.c.rowid.desc()).limit(RANKED)
        candidates.append(_FTS.c.rowid.in_(held))
    weights: list[Any] = [literal_column(str(FIELD_WEIGHT[n])) for n in SEARCH_FIELDS]
    score = func.bm25(_FTS_TABLE, *weights)
    return (
        select(_FTS.c.rowid.label("doc_id"), score.label("score"))
        .where(matching, or_(*candidates))
        .order_by(score, _FTS.c.rowid.desc())
        .limit(RANKED)
        .subquery("best")
    )


# --- other conditions ------------------------------------------------------------------------


def _month_ranges(months: Sequence[datetime]) -> list[tuple[datetime, datetime]]:
    """These months (their first days) as (start, end) ranges, consecutive months one."""
    ranges: list[list[datetime]] = []
    for start in sorted(set(months)):
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
        if ranges and ranges[-1][1] == start:
            ranges[-1][1] = end
        else:
            ranges.append([start, end])
    return [(start, end) for start, end in ranges]


def _in_months(at: Any, months: Sequence[datetime]) -> ColumnElement[bool]:
    """`at` in one of these months (their first days): each month's range, within the span
    from the first to the last, which an index scan can read when it does not combine the
    ranges in a bitmap (for their OR alone PostgreSQL read the whole timeline index)."""
    ranges = _month_ranges(months)
    if not ranges:
        return false()
    span = and_(at >= ranges[0][0], at < ranges[-1][1])
    return and_(span, or_(*(and_(at >= s, at < e) for s, e in ranges)))


def _per_row(probe: Select[Any]) -> ColumnElement[bool]:
    """Whether the correlated `probe` finds a row for the asset at hand, probed per row."""
    return probe.correlate(Asset).limit(1).scalar_subquery().is_not(None)


def _unindexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The column as `+column`: SQLite then uses no index on it for the condition."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _substring(text: str, *, docs: Any = Doc) -> ColumnElement[bool]:
    """`text` (folded) within the document's substrings, which are folded as well: LIKE,
    not ILIKE, which on PostgreSQL lowers both sides again for every row it checks (a
    common word's walk checks each row read that its words miss)."""
    if not text:
        return true()
    return docs.substrings.like("%" + _like_escaped(text) + "%", escape="\\")


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _under_folder(prefix: str) -> ColumnElement[bool]:
    """In this folder or below it, in any library (an index range on rel_path)."""
    if not prefix:
        return true()
    return and_(Asset.rel_path > prefix + "/", Asset.rel_path < prefix + "0")


def _document_conditions(c: Clause, docs: Any) -> list[ColumnElement[bool]]:
    """The conditions `ext:` or `near:` puts on the documents `docs` (the table or an alias)."""
    if c.key == "ext":
        return [docs.ext == c.parsed]
    return _near(c.parsed, docs)


def _documents(c: Clause) -> Select[Any]:
    """The rowids of the documents `ext:` or `near:` matches, from their index alone."""
    return select(_MATCHED.doc_id).where(*_document_conditions(c, _MATCHED))


def _near(near: Any, docs: Any) -> list[ColumnElement[bool]]:
    """Within `km` of a point: a box the (lat, lon) index answers, then the distance on an
    equirectangular projection (exact enough at search radii; no trigonometry in SQL, which
    SQLite may lack). The box does not wrap around the antimeridian."""
    dlat = near.km / 111.32
    scale = max(math.cos(math.radians(near.lat)), 0.01)
    dlon = min(dlat / scale, 360.0)
    dy = docs.lat - near.lat
    dx = (docs.lon - near.lon) * scale
    return [
        docs.lat.between(near.lat - dlat, near.lat + dlat),
        docs.lon.between(near.lon - dlon, near.lon + dlon),
        dy * dy + dx * dx <= dlat * dlat,
    ]


def gallery_mark(key: str, *, dialect: str) -> ColumnElement[Any]:
    """`metadata.gallery.<key>` written exactly as the expression indexes of migration
    0015 are (ix_assets_favorite, ix_assets_rating): neither database uses an index on an
    expression unless the query repeats it, and a bound parameter for the path would not
    match. PostgreSQL: `favorite` as text ('true'), `rating` as JSONB (compared as numbers)."""
    if dialect == "postgresql":
        arrow = "->>" if key == "favorite" else "->"
        return literal_column(f"(assets.metadata -> 'gallery' {arrow} '{key}')")
    return literal_column(f"json_extract(assets.metadata, '$.gallery.{key}')")


def _rated(parsed: tuple[str, int], *, dialect: str) -> ColumnElement[bool]:
    """`rating:4`, `rating:>=4`, `rating:<3`: an unrated asset counts as 0 stars."""
    op, stars = parsed
    value = gallery_mark("rating", dialect=dialect)
    bound: ColumnElement[Any] = literal_column(
        f"'{stars}'::jsonb" if dialect == "postgresql" else str(stars)
    )
    compared = {
        "=": value == bound,
        ">=": value >= bound,
        ">": value > bound,
        "<=": value <= bound,
        "<": value < bound,
    }[op]
    zero_included = {"=": stars == 0, ">=": stars == 0, ">": False, "<=": True, "<": stars > 0}
    # Either way an unrated asset gives true or false, never NULL: `-rating:>=4` finds it.
    if zero_included[op]:
        return or_(compared, value.is_(None))
    return and_(value.is_not(None), compared)


def _has(value: str) -> ColumnElement[bool]:
    if value == "gps":
        return Doc.lat.is_not(None)
    if value == "text":
        return Doc.content != ""
    return Doc.people != ""
