"""Assets: bulk writes for the scanner and pipeline, filtered keyset listings for the API."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    tablesample,
    text,
    tuple_,
    type_coerce,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session, defer, with_expression
from sqlalchemy.sql.visitors import replacement_traverse

from trove.db.models import SET_ASIDE_ROWS, Asset, AssetStep, AssetTag, JsonType, Link
from trove.domain.access import Viewer
from trove.domain.enums import AssetType, Relation
from trove.domain.queries import (
    RELEVANCE,
    AssetQuery,
    InvalidQuery,
    decode_cursor,
    encode_cursor,
)
from trove.domain.search_query import Clause, SearchQuery
from trove.domain.timeline import TimelineSource
from trove.repositories._sql import insert_ignoring_conflicts, insert_rows, update_rows, utcnow
from trove.repositories.access import changeable_assets, shareable_by, visible_assets
from trove.repositories.counters import AssetTally, CounterRepository
from trove.repositories.search import SearchRepository, Window
from trove.repositories.stacks import stacked_under_another
from trove.repositories.tag_flows import tagged

# Ranked results are paged by position; past this, narrow the search instead.
MAX_OFFSET = 100_000
# A page that walks the timeline probing a common word per row (PostgreSQL) reads at most this
# many timeline rows (at 1M assets 0.3-0.8 s of probes, less than collecting 95k matches of
# `img_2019`: 3.5 s); a page not filled by then is read again with the matches collected.
WALK_ROWS = 10_000
# With more than one word, all common, the walk reads up to this many rows per match the
# rarest word is expected to have, if more: a page read from its matches then probes each
# of them for the other words (1M assets, `sunset canon`: 200k rows, 5.4 s CPU), where the
# walk met a page in its first 20k rows (0.26 s). Walking as far as reading its matches
# would cost, the page costs at most about twice the cheaper of the two.
WALK_PER_MATCH = 1
# A walk reads its rows in stages, the first this long, each next ten times longer (up to
# the walk's bound): each stage's common words are checked once on the documents of its part
# of the timeline, which costs a word whose page is met in 400 rows (`canon`) as much as
# one met in 9,000 (`beach`) when the part is the whole walk; and finding the end of a walk
# of 99k rows (`sunset canon`) reads that many entries of the timeline index (12-25 ms) for
# a page met after 11.4k rows.
FIRST_WALK_ROWS = 2_000
# On SQLite at most this many (a page of a word in 2% of the library is met ~5,000 rows down).
SQLITE_WALK_ROWS = 5_000
# A page read from a word's matches placed on the timeline by their documents (SQLite) looks
# up at most this many times its rows in `assets` before it checks every match instead.
PLACED_PER_ROW = 4
# The months of a search whose words are all common are estimated past this many assets
# (PostgreSQL), from a sample of about SAMPLE_ROWS of them; with fewer than SAMPLE_MATCHES
# matches in the sample they are counted exactly instead.
SAMPLED_PAST = 50_000
SAMPLE_ROWS = 10_000
SAMPLE_MATCHES = 100
# visible_hashes asks about at most this many contents per query.
HASHES_PER_QUERY = 5_000


class AssetRepository:
    def __init__(self, session: Session, *, hierarchical: Sequence[str] | None = None) -> None:
        """`hierarchical`: the relations tags are inherited through (Trove's own if None)."""
        self.session = session
        self.hierarchical = hierarchical
        self._searching: SearchRepository | None = None

    # --- reads -----------------------------------------------------------------------------

    def get(self, asset_id: str) -> Asset | None:
        """Any asset by id, for Trove's own work; what a person asked for: `visible`."""
        return self.session.get(Asset, asset_id)

    def visible(
        self, asset_id: str, viewer: Viewer, *, include_deleted: bool = False
    ) -> Asset | None:
        """The asset with this id if the viewer may see it (and it is not deleted, unless
        `include_deleted`); None alike for absent, deleted and hidden."""
        stmt = select(Asset).where(Asset.id == asset_id, visible_assets(viewer))
        if not include_deleted:
            stmt = stmt.where(Asset.deleted_at.is_(None))
        return self.session.scalar(stmt)

    def shareable(self, asset_id: str, *, by: str) -> bool:
        """Whether a member may put this asset behind a share link (access.shareable_by)."""
        stmt = select(Asset.id).where(Asset.id == asset_id, shareable_by(by))
        return self.session.scalar(stmt) is not None

    def visible_hashes(self, hashes: Sequence[str], viewer: Viewer) -> set[str]:
        """Which of these contents the viewer may see in some asset (in the Trash too: an
        album's collage still shows a member moved there); a listing of every album asks
        about thousands, in chunks that stay below the databases' bound parameter limits."""
        seen: set[str] = set()
        wanted = list(hashes)
        for start in range(0, len(wanted), HASHES_PER_QUERY):
            chunk = wanted[start : start + HASHES_PER_QUERY]
            stmt = select(Asset.hash).where(Asset.hash.in_(chunk), visible_assets(viewer))
            seen.update(self.session.scalars(stmt.distinct()))
        return seen

    def visible_proxy(self, asset_id: str, viewer: Viewer) -> Asset | None:
        """A proxy (a web copy, a page's screenshot) when the viewer may see an asset it is
        linked to: it has no owner or library of its own, so the predicate alone hides it
        from everyone but an admin."""
        proxy = self.session.scalar(
            select(Asset).where(
                Asset.id == asset_id,
                Asset.asset_type == AssetType.PROXY,
                Asset.deleted_at.is_(None),
            )
        )
        if proxy is None:
            return None
        # The links a step made it by: original -> transformed_to -> proxy, and a page's
        # screenshot -> downloaded_by -> its URL asset.
        linked = (
            select(Link.source_id)
            .where(Link.target_id == asset_id, Link.relation == Relation.TRANSFORMED_TO)
            .union(
                select(Link.target_id).where(
                    Link.source_id == asset_id, Link.relation == Relation.DOWNLOADED_BY
                )
            )
        )
        seen = select(Asset.id).where(
            Asset.id.in_(linked), Asset.deleted_at.is_(None), visible_assets(viewer)
        )
        return proxy if self.session.scalar(seen.limit(1)) is not None else None

    def visible_many(self, asset_ids: Sequence[str], *, viewer: Viewer) -> list[Asset]:
        """These assets, those the viewer sees, loaded as a listing (graph nodes, an album's
        new members: 10,000 at once)."""
        return list(
            self.session.scalars(
                self._listing().where(Asset.id.in_(list(asset_ids)), visible_assets(viewer))
            )
        )

    def may_change(self, asset_id: str, viewer: Viewer) -> bool:
        """Whether the viewer may change this asset (repositories/access.py)."""
        found = select(literal(1)).where(Asset.id == asset_id, changeable_assets(viewer))
        return self.session.scalar(found.limit(1)) is not None

    def changeable_many(self, asset_ids: Sequence[str], *, viewer: Viewer) -> list[Asset]:
        """Those of the ids the viewer may change (deleted ones included)."""
        return list(
            self.session.scalars(
                select(Asset).where(Asset.id.in_(list(asset_ids)), changeable_assets(viewer))
            )
        )

    def trashed(self, *, owner_id: str | None, limit: int) -> builtins.list[Asset]:
        """Deleted assets (of this owner; everyone's when None), oldest deletion first."""
        stmt = select(Asset).where(Asset.deleted_at.is_not(None))
        if owner_id is not None:
            stmt = stmt.where(Asset.owner_id == owner_id)
        return list(self.session.scalars(stmt.order_by(Asset.deleted_at, Asset.id).limit(limit)))

    def add(self, asset: Asset) -> Asset:
        """A new asset record made whole by the caller (a virtual asset)."""
        self.session.add(asset)
        self.session.flush()
        return asset

    def get_many(self, asset_ids: Sequence[str]) -> list[Asset]:
        return list(self.session.scalars(select(Asset).where(Asset.id.in_(asset_ids))))

    def for_pipeline(self, asset_ids: Sequence[str]) -> builtins.list[Row[Any]]:
        """What a pipeline pass reads of these assets (pipeline/runner.py view_of and where
        the file is), as plain rows with the attributes' names: a batch of small files
        spent more on building ORM objects (and loading their tags) than on their steps."""
        return list(self.session.execute(select(*_PIPELINE_COLUMNS).where(Asset.id.in_(asset_ids))))

    def list(self, query: AssetQuery, *, viewer: Viewer) -> tuple[list[Asset], str | None]:
        """One page of the assets matching `query` that the viewer may see, and the cursor
        of the next page."""
        self._searching = None  # a new listing: its words are asked about anew
        # One WHERE for both orders: a search answers exactly what the listing would.
        if query.sort == RELEVANCE:
            return self._list_by_relevance(query, self._listing(), _viewed(query, viewer), viewer)
        sort_col = getattr(Asset, query.sort_key)
        after = [self._after_cursor(query, sort_col)] if query.cursor else []
        order = (sort_col.desc(), Asset.id.desc()) if query.descending else (sort_col, Asset.id)
        if query.sort_key == "timeline_at":  # read down ix_assets_timeline
            page = _Page(
                order=order,
                descending=query.descending,
                after=after,
                offset=0,
                limit=query.limit + 1,
            )
            rows = self._timeline_page(query, self._listing(), _viewed(query, viewer), viewer, page)
        else:
            stmt = self._listing().where(
                *self._filters(query, viewer=viewer), *_viewed(query, viewer), *after
            )
            rows = list(self.session.scalars(stmt.order_by(*order).limit(query.limit + 1)))
        if len(rows) <= query.limit:
            return rows, None
        last = rows[query.limit - 1]
        return rows[: query.limit], encode_cursor(_cursor_value(last, query.sort_key), last.id)

    def ids_by_relevance(self, query: AssetQuery, *, viewer: Viewer) -> builtins.list[str]:
        """The ids of the page `list` answers for a search by relevance, without loading the
        rows (the words' half of a blended search: services/semantic.py)."""
        self._searching = None  # a new listing: its words are asked about anew
        scope = [visible_assets(viewer)]
        ids, _ = self._list_by_relevance(query, select(Asset.id), scope, viewer)
        return ids

    def matching(self, query: AssetQuery, asset_ids: Sequence[str], *, viewer: Viewer) -> set[str]:
        """Which of these assets the query matches, among those the viewer may see."""
        self._searching = None  # a new listing: its words are asked about anew
        found: set[str] = set()
        ids = builtins.list(dict.fromkeys(asset_ids))
        for start in range(0, len(ids), 500):
            stmt = select(Asset.id).where(
                Asset.id.in_(ids[start : start + 500]),
                *self._filters(query, viewer=viewer),
                visible_assets(viewer),
            )
            found.update(self.session.scalars(stmt))
        return found

    def in_order(self, asset_ids: Sequence[str]) -> builtins.list[Asset]:
        """These assets, in this order (ids not found are left out), loaded as a listing."""
        stmt = self._listing().where(Asset.id.in_(builtins.list(asset_ids)))
        found = {a.id: a for a in self.session.scalars(stmt)}
        return [found[i] for i in asset_ids if i in found]

    def _listing(self) -> Select[Any]:
        return select(Asset).options(*listing_options(self.session))

    def _list_by_relevance(
        self,
        query: AssetQuery,
        columns: Select[Any],
        scope: builtins.list[ColumnElement[bool]],
        viewer: Viewer,
    ) -> tuple[builtins.list[Any], str | None]:
        """The best matches first (documents holding every word, SearchRepository.ranked),
        then the rest of what matches newest first (found through a folder or album, or past
        the ranked best); the cursor is the position of the next page."""
        offset, want = _offset(query.cursor), query.limit + 1
        newest = (Asset.timeline_at.desc(), Asset.id.desc())
        search = self._search()
        ranked = search.ranked(query.search) if query.search else None
        rows: list[Any] = []
        ranked_ids: Select[Any] | None = None  # left out of the rest once the ranked are paged
        if ranked is not None:
            assert query.search is not None
            # What the ranked best hold themselves is not checked again: for a word in a
            # quarter of the library that was reading all its matches (and the folders'
            # and albums' below) into a set to probe 2,000 rows (100k assets, SQLite).
            covered = {id(c) for c in search.ranked_clauses(query.search)}
            others = SearchQuery(tuple(c for c in query.search.clauses if id(c) not in covered))
            narrowed = replace(query, search=others or None)
            best = columns.where(*self._filters(narrowed, viewer=viewer, paged=True), *scope)
            best = best.join(ranked, ranked.c.asset_id == Asset.id)
            page = best.order_by(ranked.c.score, *newest).offset(offset).limit(want)
            rows = list(self.session.scalars(page))
            if len(rows) < want:
                seen = offset + len(rows) if rows else self._count(best)
                offset = max(0, offset - seen)
                ranked_ids = select(ranked.c.asset_id)
        if len(rows) < want:
            # Built only now: planning a common word's conditions counts its matches.
            unranked = [] if ranked_ids is None else [Asset.id.not_in(ranked_ids)]
            rest = _Page(order=newest, offset=offset, limit=want - len(rows), only=unranked)
            rows += self._timeline_page(query, columns, scope, viewer, rest)
        start = _offset(query.cursor)
        if len(rows) <= query.limit:
            return rows, None
        return rows[: query.limit], encode_cursor(start + query.limit, "")

    def _timeline_page(
        self,
        query: AssetQuery,
        columns: Select[Any],
        scope: builtins.list[ColumnElement[bool]],
        viewer: Viewer,
        page: _Page,
    ) -> builtins.list[Any]:
        """A page read down ix_assets_timeline. A common word is probed per row read there
        (SearchRepository.walks), which finds a page soon when its matches are spread over
        the years, and reads the whole timeline down to them when they are all old (1M
        assets, `img_2019`: 500k rows, 20 s CPU). So the walk reads at most `_walk_rows`
        timeline rows, and a page it leaves short is read again from the rarest word's
        matches, collected and sorted (`_collected_page`): the same rows either way."""

        def read(
            *,
            paged: bool,
            within: Sequence[ColumnElement[bool]] = (),
            limit: int = page.limit,
            window: Window | None = None,
        ) -> builtins.list[Any]:
            filters = self._filters(query, viewer=viewer, paged=paged, window=window)
            where = [*filters, *scope, *page.after]
            stmt = columns.where(*where, *page.only, *within)
            return list(self.session.scalars(replace(page, limit=limit).of(stmt)))

        search = self._search()
        if not (query.search and search.walks(query.search)):
            return read(paged=True)
        rarest = search.rarest(query.search)
        assert rarest is not None
        rows = self._walk_rows(query.search, rarest=rarest[1])
        walked: builtins.list[Any] = []
        past: datetime | None = None  # where the stage before ended
        for stage in _walk_stages(rows, offset=page.offset):
            at = self._walk_edge(page, rows=stage)
            window = Window(at, query.descending, past)
            left = page.limit - len(walked)
            walked += read(
                paged=True, within=[window.holds(Asset.timeline_at)], limit=left, window=window
            )
            if len(walked) == page.limit or at is None:  # full, or the whole timeline read
                return walked
            past = at
        return self._collected_page(query, columns, scope, viewer, page, collected=rarest[0])

    def _walk_rows(self, search: SearchQuery, *, rarest: int) -> int:
        """How many timeline rows a page's walk reads at most. On SQLite, as many as the
        rarest word has matches, up to SQLITE_WALK_ROWS: a row probed costs about what a
        match collected does (~2 us), so a walk that fails costs at most the collected
        page again."""
        if self._dialect() == "sqlite":
            return min(rarest, SQLITE_WALK_ROWS)
        if len(self._search().required_words(search)) > 1:
            return max(WALK_ROWS, WALK_PER_MATCH * rarest)
        return WALK_ROWS

    def _collected_page(
        self,
        query: AssetQuery,
        columns: Select[Any],
        scope: builtins.list[ColumnElement[bool]],
        viewer: Viewer,
        page: _Page,
        *,
        collected: Clause,
    ) -> builtins.list[Any]:
        """The page of the matches of the query's rarest word (collected), the other words
        probed per row of them, sorted. The matches and their timeline are a materialized
        CTE, planned without the page's LIMIT: with it PostgreSQL expected to meet a page of
        matches early down the timeline and joined them to it by a nested loop over the
        whole list per row (100k assets, `img_2019` newest first, matches all in 2019: 78 s;
        1M: a hash, by luck of the estimates). The page's rows are then read by id.
        On SQLite the matches are first put in order by their documents'
        (`_placed_page`)."""
        if self._dialect() == "sqlite":
            placed = self._placed_page(query, columns, scope, viewer, page, collected=collected)
            if placed is not None:
                return placed
        filters = self._filters(query, viewer=viewer, paged=True, collected=collected)
        where = [*filters, *scope, *page.after, *page.only]
        hits = (
            select(Asset.id, Asset.timeline_at)
            .where(*where)
            .cte("hits")
            .prefix_with("MATERIALIZED")
        )
        chosen = (
            select(hits.c.id, hits.c.timeline_at)
            .order_by(*page.ordered(hits.c.timeline_at, hits.c.id))
            .offset(page.offset)
            .limit(page.limit)
            .subquery("chosen")
        )
        again = page.ordered(chosen.c.timeline_at, chosen.c.id)
        stmt = columns.join(chosen, chosen.c.id == Asset.id).order_by(*again)
        return list(self.session.scalars(stmt))

    def _placed_page(
        self,
        query: AssetQuery,
        columns: Select[Any],
        scope: builtins.list[ColumnElement[bool]],
        viewer: Viewer,
        page: _Page,
        *,
        collected: Clause,
    ) -> builtins.list[Any] | None:
        """`_collected_page` on SQLite, with the matches placed on the timeline by their
        documents (SearchRepository.placed) and only the first PLACED_PER_ROW times the page's
        rows of them (past the cursor) looked up in `assets` and checked by the query's other
        conditions; None when fewer than a page of those pass (the end of the matches, or a
        viewer who may see few of them: then every match is checked). Looking each match up
        in `assets` for its timeline cost a quarter of the page (100k assets, `img_2019`
        newest first, 9.5k matches all in 2019: 59-65 -> 44-53 ms CPU)."""
        placed = self._search().placed(collected, viewer=viewer).cte("placed")
        at, key = placed.c.timeline_at, placed.c[0]
        moved = {"timeline_at": at, "id": key}

        def on_placed(element: Any, **_: Any) -> Any:
            if getattr(element, "table", None) is _ASSETS and element.name in moved:
                return moved[element.name]
            return None

        unchanged: dict[str, Any] = {}
        after = [replacement_traverse(c, unchanged, on_placed) for c in page.after]
        first = (
            select(key.label("id"), at.label("timeline_at"))
            .where(*after)
            .order_by(*page.ordered(at, key))
            .limit(PLACED_PER_ROW * (page.offset + page.limit))
            .subquery("first")
        )
        assert query.search is not None
        others = SearchQuery(tuple(c for c in query.search.clauses if c is not collected))
        filters = self._filters(replace(query, search=others or None), viewer=viewer, paged=True)
        stmt = (
            columns.join(first, first.c.id == Asset.id)
            .where(*filters, *scope, *page.after, *page.only)
            .order_by(*page.ordered(first.c.timeline_at, first.c.id))
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = list(self.session.scalars(stmt))
        return rows if len(rows) == page.limit else None

    def _walk_edge(self, page: _Page, *, rows: int) -> datetime | None:
        """The timeline's end of a walk of `rows` rows past the page's offset (an index-only
        read of ix_assets_timeline, before any filter); None if the timeline ends first."""
        edge = select(Asset.timeline_at).where(*page.after).order_by(*page.order)
        return self.session.scalar(edge.offset(page.offset + rows).limit(1))

    def _count(self, stmt: Select[Any]) -> int:
        return int(self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    def months(self, query: AssetQuery, viewer: Viewer) -> Months:
        """How many assets matching `query` (cursor and order aside) each month of the
        timeline holds, newest first, the undated last under "" (the gallery's scrubber).

        What the gallery asks on load (an admin's listing, by type and library at most) is
        read from the maintained month counters (models.MonthCount) instead of counting the
        library: 0.4 s of CPU at 1M assets on SQLite (bench/scale.py). A search on
        PostgreSQL: `_searched_months`, estimated when every word of it is common."""
        self._searching = None  # a new listing: its words are asked about anew
        key = self._month_key()
        estimated = False
        if _counted_by_month(query, viewer):
            found = self._months_from_counters(query, viewer, key)
        elif query.search is not None and self._dialect() == "postgresql":
            found, estimated = self._searched_months(query, viewer, key)
        else:
            found = self._count_months(query, viewer, key, paged=False)
        ordered = sorted(((month, n) for month, n in found.items() if n > 0), reverse=True)
        rows = [row for row in ordered if row[0]] + [row for row in ordered if not row[0]]
        return Months(rows=rows, estimated=estimated)

    def _count_months(
        self,
        query: AssetQuery,
        viewer: Viewer,
        key: ColumnElement[str],
        *,
        paged: bool,
        among: Sequence[ColumnElement[bool]] = (),
    ) -> dict[str, int]:
        stmt = (
            select(key, func.count())
            .where(
                *among,
                *self._filters(query, viewer=viewer, paged=paged),
                *_viewed(query, viewer),
            )
            .group_by(key)
        )
        return {str(k): int(n) for k, n in self.session.execute(stmt)}

    def _searched_months(
        self, query: AssetQuery, viewer: Viewer, key: ColumnElement[str]
    ) -> tuple[dict[str, int], bool]:
        """The months of a search on PostgreSQL, and whether they are estimated.

        A word in a quarter of the library has no cheap exact count by month: its matches'
        ids are read from the documents (a page of `search_documents` for nearly every
        match), then each is looked up in `assets` for its month (1M assets, `canon`, 235k
        matches: 5 s CPU on an idle machine, 11-15 s under load; a covering index on the id
        did not make the lookups cheaper). So when every word of the query is common and the
        library is past SAMPLED_PAST, the months are counted over a block sample of about
        SAMPLE_ROWS assets (TABLESAMPLE SYSTEM, the same blocks each time), each word probed
        per sampled row, and scaled up: the rail's proportions, not its counts (`estimated`;
        1M assets: `canon` 0.15-0.34 s CPU, 242k for 235k). A block holds one event's
        files, so a month of few matches may be left out of the sample (114 of `canon`'s 120
        months): the months it missed are then counted exactly from their candidates alone
        (`_count_in_months`), so that every month that holds a match is on the rail. Rows
        sampled one by one (BERNOULLI) found all 120 months but read every block (0.4-0.7 s
        CPU), and a sample by the ids' last digits met bench/search.py's ten copies of each
        file. A sample of fewer than SAMPLE_MATCHES matches (two common words seldom
        together) is too thin to draw: those are counted after all.
        With a rarer word in the query its matches are collected and the common words
        probed per row (`paged`), exactly."""
        search = self._search()
        assert query.search is not None
        if not search.common_only(query.search):
            return self._count_months(query, viewer, key, paged=True), False
        library = search.library_estimate()
        if library <= SAMPLED_PAST:
            return self._count_months(query, viewer, key, paged=False), False
        percent = min(100.0, 100.0 * SAMPLE_ROWS / max(library, 1))
        sampled = tablesample(
            _ASSETS, func.system(literal(percent)), name="sampled", seed=literal(0)
        )
        among = [Asset.id.in_(select(sampled.c.id))]
        counted = self._count_months(query, viewer, key, paged=True, among=among)
        if sum(counted.values()) < SAMPLE_MATCHES:  # too few to draw: counted after all
            return self._count_months(query, viewer, key, paged=False), False
        found = {month: round(n * 100.0 / percent) for month, n in counted.items()}
        # Every dated month the sample missed is counted (the undated have no month to
        # narrow their candidates by: left to the sample).
        missed = [m for m in self._library_months(query) if m and m not in found]
        if missed:
            found.update(self._count_in_months(query, viewer, key, missed))
        return found, True

    def _library_months(self, query: AssetQuery) -> builtins.list[str]:
        """The months that hold an asset ("" for the undated): the month counters' (live
        assets), or with the trash in the query every month from the oldest asset's to the
        newest's."""
        if not (query.include_deleted or query.only_deleted):
            return sorted({t.month for t in CounterRepository(self.session).month_tallies()})
        span = select(func.min(Asset.timeline_at), func.max(Asset.timeline_at))
        oldest, newest = self.session.execute(span).one()
        months: list[str] = []
        at = None if oldest is None else datetime(oldest.year, oldest.month, 1)
        while at is not None and at <= newest:
            months.append(f"{at.year:04d}-{at.month:02d}")
            at = datetime(at.year + at.month // 12, at.month % 12 + 1, 1)
        return months

    def _count_in_months(
        self,
        query: AssetQuery,
        viewer: Viewer,
        key: ColumnElement[str],
        months: builtins.list[str],
    ) -> dict[str, int]:
        """The exact counts of a search's matches in these months (PostgreSQL), read from
        their candidates alone (SearchRepository.candidates): the months a sample of the
        library missed, which hold few matches or none. Left out, they were missing from
        the rail (1M assets: 6 of 120 months for `canon`, 28 of 72 for `sunset canon`)."""
        assert query.search is not None
        starts = [datetime(int(m[:4]), int(m[5:7]), 1) for m in months]
        candidates = self._search().candidates(query.search, viewer=viewer, months=starts)
        stmt = (
            select(key, func.count())
            .where(
                *self._filters(query, viewer=viewer, paged=True),
                *_viewed(query, viewer),
                Asset.id.in_(candidates),
                key.in_(months),
            )
            .group_by(key)
        )
        return {str(k): int(n) for k, n in self.session.execute(stmt)}

    def _month_key(self) -> ColumnElement[str]:
        """The month of an asset's timeline, "" when undated; migration 0017_month_counts
        keys the counters by the same expression."""
        if self._dialect() == "postgresql":
            month = func.to_char(Asset.timeline_at, "YYYY-MM")
        else:  # SQLite keeps "YYYY-MM-DD HH:MM:SS": its first 7 characters, without strftime
            month = func.substr(Asset.timeline_at, 1, 7, type_=String)
        return case((Asset.timeline_source == TimelineSource.NONE, ""), else_=month)

    def _months_from_counters(
        self, query: AssetQuery, viewer: Viewer, key: ColumnElement[str]
    ) -> dict[str, int]:
        """The counters' months; with `stack`, less the copies another copy stands for.
        Those are looked for only among the copies the `duplicate_of` edges name (kept in
        step with the hashes after each scan and pipeline pass), not by probing every row's
        hash: a copy hashed since the last pass is counted in its month until the next."""
        types = set(query.asset_types) if query.asset_types else None
        counts: dict[str, int] = {}
        for tally in CounterRepository(self.session).month_tallies():
            if (
                (tally.asset_type == AssetType.PROXY)
                if types is None
                else (tally.asset_type not in types)
            ):
                continue
            if query.root_id and tally.root_id != query.root_id:
                continue
            counts[tally.month] = counts.get(tally.month, 0) + tally.n
        if query.stack:
            duplicates = Link.relation == Relation.DUPLICATE_OF
            copies = union(
                select(Link.source_id).where(duplicates), select(Link.target_id).where(duplicates)
            )
            stmt = (
                select(key, func.count())
                .where(
                    Asset.id.in_(copies),
                    *self._filters(query, viewer=viewer),
                    stacked_under_another(viewer),
                )
                .group_by(key)
            )
            for month, n in self.session.execute(stmt):
                counts[str(month)] = counts.get(str(month), 0) - int(n)
        return counts

    def count_by(
        self, column: str, *, viewer: Viewer, root_id: str | None = None
    ) -> dict[str, int]:
        if viewer.sees_everything and viewer.share is None and not root_id:
            return _tally(self._live_tallies(), column, leave_out={AssetType.PROXY})
        col = getattr(Asset, column)
        stmt = (
            select(col, func.count())
            .where(Asset.deleted_at.is_(None), _not_a_proxy(), visible_assets(viewer))
            .group_by(col)
        )
        if root_id:
            stmt = stmt.where(Asset.root_id == root_id)
        return {str(key): int(n) for key, n in self.session.execute(stmt)}

    def tag_counts(self, *, limit: int, viewer: Viewer) -> builtins.list[tuple[str, int]]:
        """The most used tags of the assets this viewer sees, for the gallery's tag filter.

        For one who sees everything: the tags' totals (read from the tag index alone) less
        the tags of the assets in the trash and of proxies (a partial index finds those),
        instead of joining every tag to its asset (0.19 s of CPU at 1M assets and 50,000
        tags on SQLite, bench/scale.py)."""
        if viewer.sees_everything and viewer.share is None:
            return self._tag_counts_less_set_aside(limit)
        stmt = (
            select(AssetTag.tag, func.count())
            .join(Asset, Asset.id == AssetTag.asset_id)
            .where(Asset.deleted_at.is_(None), _not_a_proxy(), visible_assets(viewer))
            .group_by(AssetTag.tag)
            .order_by(func.count().desc(), AssetTag.tag)
            .limit(limit)
        )
        return [(tag, int(n)) for tag, n in self.session.execute(stmt)]

    def _tag_counts_less_set_aside(self, limit: int) -> builtins.list[tuple[str, int]]:
        totals: dict[str, int] = {
            str(tag): int(n)
            for tag, n in self.session.execute(
                select(AssetTag.tag, func.count()).group_by(AssetTag.tag)
            )
        }
        set_aside = select(Asset.id).where(text(SET_ASIDE_ROWS))
        for tag, n in self.session.execute(
            select(AssetTag.tag, func.count())
            .where(AssetTag.asset_id.in_(set_aside))
            .group_by(AssetTag.tag)
        ):
            totals[str(tag)] -= int(n)
        ranked = sorted(((-n, tag) for tag, n in totals.items() if n > 0))
        return [(tag, -negative) for negative, tag in ranked[:limit]]

    def _live_tallies(self) -> builtins.list[AssetTally]:
        """The maintained counters of assets not soft-deleted: what an admin's counts read
        instead of counting the library (repositories/counters.py)."""
        return [tally for tally in CounterRepository(self.session).asset_tallies() if tally.live]

    def count_by_root_and_status(self, *, viewer: Viewer) -> dict[str, dict[str, int]]:
        """Per library root, how many of the files this viewer sees are in each status
        (folders and deleted files excluded). Counted for a viewer who sees only part: the
        same files the counters give one who sees everything, i.e. in a library (a link or
        a note of theirs is in none: it is no file of the libraries' progress)."""
        if viewer.sees_everything and viewer.share is None:
            counts: dict[str, dict[str, int]] = {}
            for tally in self._live_tallies():
                if tally.root_id and tally.asset_type not in _NOT_FILES:
                    per_root = counts.setdefault(tally.root_id, {})
                    per_root[tally.status] = per_root.get(tally.status, 0) + tally.n
            return counts
        stmt = (
            select(Asset.root_id, Asset.status, func.count())
            .where(
                visible_assets(viewer),
                Asset.root_id.is_not(None),
                Asset.deleted_at.is_(None),
                Asset.asset_type.not_in(_NOT_FILES),
            )
            .group_by(Asset.root_id, Asset.status)
        )
        counts = {}
        for root_id, status, n in self.session.execute(stmt):
            counts.setdefault(str(root_id), {})[str(status)] = int(n)
        return counts

    def ids_with_status(self, status: str, *, limit: int, after_id: str = "") -> builtins.list[str]:
        return list(
            self.session.scalars(
                select(Asset.id)
                .where(Asset.status == status, Asset.deleted_at.is_(None), Asset.id > after_id)
                .order_by(Asset.id)
                .limit(limit)
            )
        )

    def folders_at(self, root_id: str, rel_paths: Sequence[str]) -> dict[str, str]:
        """rel_path -> id of the folder assets of a root at these paths."""
        rows = self.session.execute(
            select(Asset.rel_path, Asset.id).where(
                Asset.root_id == root_id,
                Asset.rel_path.in_(list(rel_paths)),
                Asset.asset_type == AssetType.COLLECTION,
            )
        )
        return {str(path): str(asset_id) for path, asset_id in rows}

    def files_at(self, root_id: str, rel_paths: Sequence[str]) -> dict[str, str]:
        """rel_path -> id of the live file assets of a root at these paths."""
        rows = self.session.execute(
            select(Asset.rel_path, Asset.id).where(
                Asset.root_id == root_id,
                Asset.rel_path.in_(list(rel_paths)),
                Asset.asset_type != AssetType.COLLECTION,
                Asset.deleted_at.is_(None),
            )
        )
        return {str(path): str(asset_id) for path, asset_id in rows}

    def _filters(
        self,
        q: AssetQuery,
        *,
        viewer: Viewer,
        paged: bool = False,
        collected: Clause | None = None,
        window: Window | None = None,
    ) -> builtins.list[ColumnElement[bool]]:
        """The WHERE of a listing; `paged` when it reads one page in an index's order (the
        timeline, the ranked best), which a common word's condition is planned for,
        `collected` a clause whose matches are collected even so, and `window` the part of
        the timeline a bounded walk reads (SearchRepository.conditions)."""
        where: list[ColumnElement[bool]] = []
        if q.only_deleted:
            where.append(Asset.deleted_at.is_not(None))
        elif not q.include_deleted:
            where.append(Asset.deleted_at.is_(None))
        if q.asset_types:
            types = Asset.asset_type.in_(q.asset_types)
            where.append(self._not_the_way_in(types) if q.album_id else types)
        else:
            where.append(_not_a_proxy())
        if q.statuses:
            where.append(Asset.status.in_(q.statuses))
        if q.root_id:
            where.append(Asset.root_id == q.root_id)
        if q.path_prefix:
            where.append(_under_path(q.path_prefix.strip("/")))
        if q.album_id:
            members = select(Link.target_id).where(
                Link.source_id == q.album_id, Link.relation == Relation.INCLUDES
            )
            where.append(Asset.id.in_(members))
        if q.mime:
            where.append(_mime_matches(q.mime))
        if q.hash:
            where.append(Asset.hash == q.hash)
        if q.text and q.text.strip():
            where.append(_text_matches(q.text.strip(), dialect=self._dialect()))
        if q.search:
            search = self._search().conditions(
                q.search, viewer=viewer, paged=paged, collected=collected, window=window
            )
            where.extend(search)
        if q.since is not None:
            where.append(Asset.timeline_at >= q.since)
        if q.until is not None:
            where.append(Asset.timeline_at < q.until)
        for tag in q.tags:
            # IN (the tag's ids) starts from the tag index; a correlated EXISTS walked the
            # whole timeline for a rare tag (SQLite, 100k assets: 0.2 ms instead of 190 ms).
            # Own or inherited (from a folder or album above it: repositories/tag_flows.py).
            where.append(Asset.id.in_(tagged(tag, hierarchical=self.hierarchical)))
        return where

    def _not_the_way_in(self, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        """`condition`, which SQLite must not start from. Within an album the type is rarely
        what narrows: started from the type's timeline index, SQLite walked every photo of the
        library to meet an album's few (100k assets: ~290 ms a page, bench/picker.py); from the
        album's links it reads its members and sorts them."""
        if self._dialect() != "sqlite":
            return condition
        return func.likelihood(condition, literal_column("0.9"))

    def _search(self) -> SearchRepository:
        """One SearchRepository for the listing at hand (reset by each public read), so that
        what it learns of the query's words is asked once: a new one at each step asked the
        planner again how many match each word (1M assets, `sunset canon` newest first: six
        EXPLAINs and four reads of pg_class for one page)."""
        if self._searching is None:
            self._searching = SearchRepository(self.session, hierarchical=self.hierarchical)
        return self._searching

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _after_cursor(self, q: AssetQuery, sort_col: Any) -> ColumnElement[bool]:
        value, last_id = decode_cursor(q.cursor or "")
        if q.sort_key == "timeline_at":
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError) as exc:
                raise InvalidQuery("cursor does not match the sort order") from exc
        # A row-value comparison, not `a < x OR (a = x AND id < y)`: both databases turn it
        # into one index range, where SQLite sorts the whole OR result (100k rows: 0.6 ms
        # instead of 80 ms per page).
        key, after = tuple_(sort_col, Asset.id), tuple_(literal(value), literal(last_id))
        return key < after if q.descending else key > after

    # --- writes ----------------------------------------------------------------------------

    def insert_many(self, rows: builtins.list[dict[str, Any]]) -> None:
        """Rows keyed by attribute names (`meta`), through the driver (see insert_rows)."""
        insert_rows(self.session, _ASSETS, rows, renamed=_COLUMN_NAMES)

    def update_many(self, rows: builtins.list[dict[str, Any]]) -> None:
        """Bulk UPDATE by primary key, a few statements per row shape (`update_rows`), where
        a row whose asset is gone (deleted while a worker held it) changes nothing instead of
        failing the whole batch, as the ORM's bulk form would (it counts the rows it
        matched). The pipeline finishes thousands of small files a batch, and a scan updates
        every file of a library that came back or was touched."""
        update_rows(self.session, _ASSETS, rows, renamed=_COLUMN_NAMES)

    def metas_of(self, asset_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The metadata of these assets (those that still exist), without loading the rows."""
        if not asset_ids:
            return {}
        stmt = select(Asset.id, Asset.meta).where(Asset.id.in_(list(asset_ids)))
        return {asset_id: dict(meta or {}) for asset_id, meta in self.session.execute(stmt)}

    def existing_ids(self, asset_ids: Sequence[str]) -> set[str]:
        """Which of these assets are still in the index."""
        if not asset_ids:
            return set()
        stmt = select(Asset.id).where(Asset.id.in_(list(asset_ids)))
        return set(self.session.scalars(stmt))

    def set_status(
        self, asset_ids: Iterable[str], status: str, *, message: str | None = None
    ) -> None:
        ids = list(asset_ids)
        if ids:
            self.session.execute(
                update(Asset)
                .where(Asset.id.in_(ids))
                .values(status=status, error_message=message, updated_at=utcnow())
            )

    def forget_steps(self, asset_ids: builtins.list[str]) -> None:
        """A changed file's earlier pipeline outcomes no longer describe it."""
        if asset_ids:
            self.session.execute(delete(AssetStep).where(AssetStep.asset_id.in_(asset_ids)))

    def set_namespace(self, asset_id: str, namespace: str, value: dict[str, Any]) -> None:
        """Replace one metadata namespace of an asset, the others untouched."""
        asset = self.session.get(Asset, asset_id)
        if asset is not None:
            asset.meta = {**(asset.meta or {}), namespace: value}
            asset.updated_at = utcnow()

    def replace_tags(self, asset: Asset, tags: Iterable[str]) -> None:
        """Exactly these tags: the others deleted, the new ones insert-or-ignore, so two
        people setting the same tag at once both succeed."""
        wanted = sorted(set(tags))
        self.session.execute(
            delete(AssetTag).where(AssetTag.asset_id == asset.id, AssetTag.tag.not_in(wanted))
        )
        self.add_tags([asset.id], wanted)
        self.session.expire(asset, ["tag_rows"])

    def add_tags_each(self, tags: dict[str, builtins.list[str]]) -> None:
        """Each asset its own new tags, in one statement."""
        rows = [{"asset_id": a, "tag": t} for a, wanted in tags.items() for t in set(wanted)]
        if rows:
            insert_ignoring_conflicts(self.session, AssetTag, rows)

    def remove_tags(self, asset_id: str, tags: Sequence[str]) -> None:
        self.session.execute(
            delete(AssetTag).where(AssetTag.asset_id == asset_id, AssetTag.tag.in_(list(tags)))
        )

    def add_tags(self, asset_ids: Sequence[str], tags: Iterable[str]) -> None:
        rows = [{"asset_id": a, "tag": t} for a in asset_ids for t in set(tags)]
        insert_ignoring_conflicts(self.session, AssetTag, rows)

    def touch(self, asset_ids: Sequence[str]) -> None:
        """Mark assets as edited now (bulk edits bypass the ORM objects)."""
        if asset_ids:
            self.session.execute(
                update(Asset).where(Asset.id.in_(list(asset_ids))).values(updated_at=utcnow())
            )

    def soft_delete(self, asset: Asset) -> None:
        asset.deleted_at = utcnow()
        asset.updated_at = asset.deleted_at

    def restore(self, asset: Asset) -> None:
        asset.deleted_at = None
        asset.updated_at = utcnow()

    def hard_delete(self, asset: Asset) -> None:
        self.session.delete(asset)

    def hash_still_used(self, content_hash: str) -> bool:
        return bool(self.session.scalar(select(exists().where(Asset.hash == content_hash))))


_NOT_FILES = (AssetType.COLLECTION, AssetType.PROXY)


def _tally(tallies: Iterable[AssetTally], column: str, *, leave_out: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for tally in tallies:
        if tally.asset_type not in leave_out:
            key = getattr(tally, column)
            counts[key] = counts.get(key, 0) + tally.n
    return counts


def _counted_by_month(query: AssetQuery, viewer: Viewer) -> bool:
    """Whether the month counters answer `query` for this viewer: everything seen, and no
    filter but the types, the library and stacking."""
    if not (viewer.sees_everything and viewer.share is None) or query.search is not None:
        return False
    plain = AssetQuery(
        asset_types=query.asset_types,
        root_id=query.root_id,
        stack=query.stack,
        sort=query.sort,
        limit=query.limit,
        cursor=query.cursor,
    )
    return query == plain


@dataclass(frozen=True, kw_only=True)
class Months:
    """The timeline rail's months (YYYY-MM, "" undated) and their counts; `estimated`: scaled
    up from a sample of the library (AssetRepository._searched_months)."""

    rows: builtins.list[tuple[str, int]]
    estimated: bool = False


@dataclass(frozen=True, kw_only=True)
class _Page:
    """Where a page of a timeline listing starts and how long it is: after the cursor (`after`)
    and `offset` rows more, in `order`; `only`: conditions of the page alone (the walk's
    bound does not count them)."""

    order: tuple[Any, ...]
    limit: int
    descending: bool = True
    offset: int = 0
    after: Sequence[ColumnElement[bool]] = ()
    only: Sequence[ColumnElement[bool]] = ()

    def ordered(self, *columns: ColumnElement[Any]) -> builtins.list[ColumnElement[Any]]:
        """These columns in the page's direction."""
        return [c.desc() if self.descending else c.asc() for c in columns]

    def of(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.order_by(*self.order).offset(self.offset).limit(self.limit)


def _walk_stages(rows: int, *, offset: int) -> builtins.list[int]:
    """How far down each stage of a walk of `rows` timeline rows reads: FIRST_WALK_ROWS, ten
    times that and so on, then `rows` (a page with an offset: one stage, as what an earlier
    stage skipped is not known)."""
    stages = []
    stage = FIRST_WALK_ROWS
    while not offset and stage < rows:
        stages.append(stage)
        stage *= 10
    return [*stages, rows]


# Where the documents' text is kept in an asset's metadata (pipeline/processors/text.py, ocr.py).
DOCUMENT_TEXT = (("text", "content"), ("ocr", "content"))


def listing_options(session: Session) -> tuple[Any, ...]:
    """How a listing loads its assets: their metadata without the documents' text
    (`Asset.summary_meta`). Their `meta` is not loaded, and reading it raises instead of
    loading it row by row."""
    dialect = session.get_bind().dialect.name
    return (
        defer(Asset.meta, raiseload=True),
        with_expression(Asset.meta_without_text, _meta_without_text(dialect)),
    )


def _meta_without_text(dialect: str) -> ColumnElement[Any]:
    stripped: ColumnElement[Any] = Asset.__table__.c.metadata
    if dialect == "postgresql":
        for path in DOCUMENT_TEXT:
            stripped = stripped.op("#-", return_type=JSONB)(literal(list(path), ARRAY(Text)))
        return type_coerce(func.coalesce(stripped, literal({}, JSONB)), JsonType)
    paths = [f"$.{namespace}.{key}" for namespace, key in DOCUMENT_TEXT]
    return type_coerce(func.coalesce(func.json_remove(stripped, *paths), "{}"), JsonType)


def _viewed(query: AssetQuery, viewer: Viewer) -> builtins.list[ColumnElement[bool]]:
    """What this viewer sees of a listing: the assets they may see, and with `stack`, of the
    copies of one file only the one that stands for the others."""
    if query.stack:
        return [visible_assets(viewer), ~stacked_under_another(viewer)]
    return [visible_assets(viewer)]


def _not_a_proxy() -> ColumnElement[bool]:
    """Transcodes made for viewing (a WebP of a TIFF, an MP4 of a MOV) are not assets of their
    own in listings and counts: they are reached by id, or from their original's links."""
    return Asset.asset_type != AssetType.PROXY


def _under_path(prefix: str) -> ColumnElement[bool]:
    """rel_path is `prefix` or below it, as an index range (LIKE would not use the index)."""
    if not prefix:
        return Asset.rel_path.is_not(None)
    return or_(
        Asset.rel_path == prefix,
        and_(Asset.rel_path >= prefix + "/", Asset.rel_path < prefix + "0"),
    )


def _text_matches(text: str, *, dialect: str) -> ColumnElement[bool]:
    """Substring of the name or the title; the user's % and _ are literal characters.

    SQLite's LIKE already ignores (ASCII) case; ILIKE there becomes lower() on every row,
    which costs a third more on a full scan and matches nothing more.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    if dialect == "sqlite":
        return or_(
            Asset.filename.like(pattern, escape="\\"), Asset.title.like(pattern, escape="\\")
        )
    return or_(Asset.filename.ilike(pattern, escape="\\"), Asset.title.ilike(pattern, escape="\\"))


def _mime_matches(mime: str) -> ColumnElement[bool]:
    if mime.endswith("/*") or mime.endswith("/"):
        major = mime.split("/", 1)[0]
        return and_(Asset.mime_type >= major + "/", Asset.mime_type < major + "0")
    return Asset.mime_type == mime


def position_of(cursor: str | None) -> int:
    """The position a relevance cursor points at (0 without one)."""
    return _offset(cursor)


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    value, _ = decode_cursor(cursor)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_OFFSET:
        raise InvalidQuery("cursor does not match the sort order")
    return value


def _cursor_value(asset: Asset, key: str) -> Any:
    value = getattr(asset, key)
    return value.isoformat() if isinstance(value, datetime) else value


# A declarative class's __table__ is typed as any FromClause; this one is a Table.
_ASSETS = cast(Table, Asset.__table__)
_COLUMN_NAMES = {"meta": "metadata"}
_PIPELINE_COLUMNS = (
    Asset.id,
    Asset.root_id,
    Asset.rel_path,
    Asset.path_escaped,
    Asset.storage_urn,
    Asset.size,
    Asset.mtime_ns,
    Asset.mime_type,
    Asset.asset_type,
    Asset.hash,
    Asset.filename,
    Asset.is_virtual,
    Asset.width,
    Asset.height,
    Asset.duration,
    Asset.timeline_source,
    Asset.title,
    Asset.description,
    Asset.meta,
)
