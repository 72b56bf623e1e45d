"""Search: the query language over a generated library with known answers, through
GET /api/dam/assets?q=, on SQLite and PostgreSQL. One scan per database; the table is checked
as a whole so that every wrong answer is reported at once."""

from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import func, select, text, update

from tests.media import write_jpeg, write_text
from tests.pipeline_media import camera_exif, text_image, text_pdf, write_photo
from trove.db.models import Asset, SearchDocumentRow
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.domain.search_query import parse
from trove.repositories.assets import AssetRepository
from trove.repositories.search import SearchRepository

EIFFEL = ((48.0, 51.0, 30.24, "N"), (2.0, 17.0, 40.2, "E"))
KYOTO = ((35.0, 0.0, 41.76, "N"), (135.0, 46.0, 5.16, "E"))


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "library"
    lat, lon = EIFFEL
    exif = camera_exif(model="Canon EOS 5D Mark IV", taken="2021:07:04 15:30:45", lat=lat, lon=lon)
    write_photo(root / "beach/sunset.jpg", size=(160, 120), seed=1, exif=exif)
    lat, lon = KYOTO
    exif = camera_exif(make="Nikon", model="D750", taken="2023:07:14 09:00:00", lat=lat, lon=lon)
    write_photo(root / "beach/waves.jpg", size=(160, 120), seed=2, exif=exif)
    write_jpeg(root / "2019-08-14 Trip/Café Ångström.jpg", seed=3)
    scan = text_image(tmp_path / "page.png")
    (root / "docs").mkdir(parents=True)
    Image.open(scan).save(root / "docs/scanned.pdf", "PDF", resolution=150)
    text_pdf(root / "docs/invoice_2023.pdf", ["Invoice 2023", "Total due: 120 EUR"])
    shutil.copy(root / "docs/invoice_2023.pdf", root / "docs/copy_of_invoice.pdf")
    write_text(root / "notes/todo_draft.txt", "remember the milk")
    return root


def found(client, q, **params):
    response = client.get("/api/dam/assets", params={"q": q, "limit": 1000, **params})
    assert response.status_code == 200, f"{q}: {response.text}"
    return [i for i in response.json()["items"] if i["asset_type"] != "collection"]


def names(client, q):
    return sorted(i["filename"] for i in found(client, q))


def ids(client, q, **params):
    return [i["id"] for i in found(client, q, **params)]


def asset_id(client, path):
    items = client.get("/api/dam/assets", params={"limit": 1000, "type": ["collection"]})
    everything = items.json()["items"] + found(client, "")
    return next(i["id"] for i in everything if i["path"] == path)


SUNSET, WAVES, CAFE = "sunset.jpg", "waves.jpg", "Café Ångström.jpg"
SCANNED, INVOICE, COPY, TODO = (
    "scanned.pdf",
    "invoice_2023.pdf",
    "copy_of_invoice.pdf",
    "todo_draft.txt",
)
PDFS = [COPY, INVOICE, SCANNED]

TABLE = [
    ("beach", [SUNSET, WAVES]),  # a folder's name
    ("BEACH", [SUNSET, WAVES]),
    ("canon", [SUNSET]),  # EXIF make
    ('camera:"Canon EOS"', [SUNSET]),
    ("camera:nikon", [WAVES]),
    ("-camera:nikon type:image", [CAFE, SUNSET]),
    ("harbour", [SCANNED]),  # a word OCR read in a scanned PDF
    ("text:harbour", [SCANNED]),
    ('text:"invoice 2023"', [COPY, INVOICE]),  # the PDFs' text layer
    ("invoice", PDFS),
    ("tag:family", [SUNSET, WAVES]),  # inherited from the folder
    ("family", [SUNSET, WAVES]),
    ("-tag:family type:image", [CAFE]),
    ("taken:2021-07", [SUNSET]),
    ("taken:2023", [WAVES]),
    ("before:2022-01-01", [CAFE, SUNSET]),  # the date in its folder name
    ("after:2022-01-01 beach", [WAVES]),
    ("taken:2019-08-14", [CAFE]),
    ("near:48.8584,2.2945,1", [SUNSET]),
    ("near:35.0116,135.7681", [WAVES]),
    ("near:0,0,100", []),
    ("has:gps", [SUNSET, WAVES]),
    ("-has:gps type:image", [CAFE]),
    ("has:text", [*PDFS, TODO]),
    ("ext:pdf", PDFS),
    ("ext:.TXT", [TODO]),
    ("type:document -ext:pdf", [TODO]),
    ("is:duplicate", [COPY, INVOICE]),
    ("is:favorite", [CAFE]),
    ("is:missing", []),
    ("cafe", [CAFE]),  # diacritics do not matter
    ("ÅNGSTRÖM", [CAFE]),
    ("trip", [CAFE]),  # a word of a folder's name
    ('folder:"2019-08-14 Trip"', [CAFE]),
    ("folder:beach -waves", [SUNSET]),
    ("draft", [TODO]),
    ("milk", [TODO]),  # the words of a text file
    ("text:milk", [TODO]),
    ("-draft type:other", []),
    ("pier", [SUNSET]),  # a title someone typed
    ("album:summer", [WAVES]),
    ("picks", [WAVES]),  # the name of an album it is in
    ("place:kyoto", [WAVES]),  # named offline from its GPS position
    ("france -place:kyoto", [SUNSET]),
    ("sunset canon", [SUNSET]),
    ("sunset nikon", []),
    ("unse", [SUNSET]),  # part of a name
    ("beach taken:2023-07 type:image", [WAVES]),
    ("type:photo,document -beach -invoice", [CAFE, TODO]),  # OCR read "Invoice" too
]


def test_the_search_table_answers_every_query_as_expected_however_common_its_words(
    client, monkeypatch
):
    beach = asset_id(client, "beach")
    assert client.patch(f"/api/dam/assets/{beach}", json={"tags": ["family"]}).status_code == 200
    sunset = asset_id(client, "beach/sunset.jpg")
    client.patch(f"/api/dam/assets/{sunset}", json={"title": "Golden hour at the pier"})
    cafe = asset_id(client, "2019-08-14 Trip/Café Ångström.jpg")
    client.patch(f"/api/dam/assets/{cafe}", json={"favorite": True})
    album = client.post("/api/dam/albums", json={"name": "Summer Picks"}).json()
    client.post(
        f"/api/dam/albums/{album['id']}/assets",
        json={"asset_ids": [asset_id(client, "beach/waves.jpg")]},
    )
    assert len(TABLE) >= 30
    wrong = {q: (got, want) for q, want in TABLE if (got := names(client, q)) != sorted(want)}
    assert wrong == {}
    # Every word common: planned apart (the page read down the timeline, probing each row;
    # the ranked among one candidate, on SQLite also those naming the words, the rest
    # newest first), the same answers in the same order, newest first as by relevance.
    newest = {q: ids(client, q, sort="-timeline_at") for q, _ in TABLE}
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    monkeypatch.setattr("trove.repositories.search.RANK_CANDIDATES", 1)
    monkeypatch.setattr("trove.repositories.search.SQLITE_RANK_CANDIDATES", 1)
    wrong = {q: (got, want) for q, want in TABLE if (got := names(client, q)) != sorted(want)}
    assert wrong == {}
    # The ranked candidates read from the table in its order (PostgreSQL), not the index:
    # as when the planner's statistics expect the words in most documents.
    monkeypatch.setattr("trove.repositories.search.DENSE_SHARE", 0.0)
    with client.app.state.services.database.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE assets"))
    wrong = {q: (got, want) for q, want in TABLE if (got := names(client, q)) != sorted(want)}
    assert wrong == {}
    moved = {q for q, want in newest.items() if ids(client, q, sort="-timeline_at") != want}
    assert moved == set()
    refused = client.get("/api/dam/assets", params={"q": "beach colour:red"})
    assert refused.status_code == 422
    assert "unknown filter 'colour'" in refused.json()["detail"]
    assert "at character 7" in refused.json()["detail"]
    offered = client.get("/api/dam/search/suggestions", params={"q": "ca"}).json()["items"]
    assert {"kind": "camera", "value": "Canon", "count": 1, "query": "camera:Canon"} in offered
    offered = client.get("/api/dam/search/suggestions", params={"q": "sum"}).json()["items"]
    assert [(s["kind"], s["query"]) for s in offered] == [("album", 'album:"Summer Picks"')]
    offered = client.get("/api/dam/search/suggestions", params={"q": "fam"}).json()["items"]
    assert [(s["kind"], s["value"]) for s in offered] == [("tag", "family")]


def test_a_common_word_whose_matches_are_all_old_is_paged_as_when_its_matches_are_collected(
    client, monkeypatch
):
    # The undated PDFs and notes are the newest (their files' times): a walk of one timeline
    # row down from the newest meets none of these words' photos, and the page is read again
    # from the collected matches. Newest first and by relevance, whole and a row at a time.
    # Two common words too: their walk is bounded as well, and the page read from the
    # matches of the rarer, probed for the other.
    queries = ("beach", "canon", "trip", "sunset canon", "beach -waves", "invoice type:image")
    orders = ({"sort": "-timeline_at"}, {})  # newest first; by relevance
    whole = {(q, i): ids(client, q, **o) for q in queries for i, o in enumerate(orders)}
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    monkeypatch.setattr("trove.repositories.assets.WALK_ROWS", 1)
    monkeypatch.setattr("trove.repositories.assets.WALK_PER_MATCH", 0)
    collected = []
    read = AssetRepository._collected_page

    def spied(self, query, *args, **kwargs):
        collected.append(" ".join(c.value for c in query.search.clauses))
        return read(self, query, *args, **kwargs)

    monkeypatch.setattr(AssetRepository, "_collected_page", spied)
    # On SQLite the matches are placed by their documents' timeline and a stretch of them
    # checked in `assets`: one page's length of them (a page left short is read again from
    # every match), or four.
    placed = []
    place = AssetRepository._placed_page

    def placed_spied(self, *args, **kwargs):
        found = place(self, *args, **kwargs)
        placed.append(found is not None)
        return found

    monkeypatch.setattr(AssetRepository, "_placed_page", placed_spied)
    monkeypatch.setattr("trove.repositories.assets.SQLITE_WALK_ROWS", 1)
    for per_row in (4, 1):
        monkeypatch.setattr("trove.repositories.assets.PLACED_PER_ROW", per_row)
        for (q, i), want in whole.items():
            assert ids(client, q, **orders[i]) == want, (q, i, per_row)
            assert one_at_a_time(client, q, **orders[i]) == want, (q, i, per_row)
    assert len(whole["beach", 0]) == 2 and whole["trip", 0]
    assert "sunset canon" in collected
    sqlite = client.app.state.services.database.engine.dialect.name == "sqlite"
    assert (True in placed, False in placed) == (sqlite, sqlite)


def test_a_match_without_a_document_is_placed_on_the_timeline_by_its_asset(client, monkeypatch):
    # Matches placed by their documents' timeline (SQLite): one found only through its
    # folder, whose document is not written yet, takes its place from `assets`.
    waves = asset_id(client, "beach/waves.jpg")
    newest = ids(client, "beach", sort="-timeline_at")
    assert waves in newest
    assert client.app.state.services.indexer.wait_idle(60)
    with client.app.state.services.database.session() as session:
        search = SearchRepository(session)
        search.delete([waves])
        session.commit()
        (beach,) = parse("beach").clauses
        found = session.execute(search.placed(beach, viewer=Viewer.system()))
        placed = {asset: at for asset, at in found}
        assert placed[waves] == session.get(Asset, waves).timeline_at
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    monkeypatch.setattr("trove.repositories.assets.WALK_ROWS", 1)
    monkeypatch.setattr("trove.repositories.assets.SQLITE_WALK_ROWS", 1)
    assert ids(client, "beach", sort="-timeline_at") == newest
    assert one_at_a_time(client, "beach", sort="-timeline_at") == newest


def test_a_walk_read_in_two_stages_pages_as_one_walk_does(client, monkeypatch):
    # A walk longer than FIRST_WALK_ROWS reads a first stage, then the rest below it, each
    # stage's common words checked among the documents of its part of the timeline
    # (PostgreSQL): the same pages, whole and a row at a time, as without stages.
    queries = ("beach", "canon", "trip", "sunset canon", "beach -waves", "invoice type:image")
    orders = ({"sort": "-timeline_at"}, {"sort": "timeline_at"}, {})
    whole = {(q, i): ids(client, q, **o) for q in queries for i, o in enumerate(orders)}
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    monkeypatch.setattr("trove.repositories.assets.FIRST_WALK_ROWS", 1)
    monkeypatch.setattr("trove.repositories.assets.WALK_ROWS", 4)
    monkeypatch.setattr("trove.repositories.assets.WALK_PER_MATCH", 0)
    for (q, i), want in whole.items():
        assert ids(client, q, **orders[i]) == want, (q, i)
        assert one_at_a_time(client, q, **orders[i]) == want, (q, i)


def test_common_words_probed_together_still_find_an_asset_without_a_document_by_its_links(
    client, monkeypatch
):
    # Two common words checked on one read of each row's document (PostgreSQL): an asset
    # whose document is not written yet still matches when each word reaches it through a
    # folder or album above it (`beach` its folder, `picks` its album), as one probe a word
    # found it; with its document, a word it lacks (`nikon` is waves', not sunset's) keeps
    # it out.
    waves, sunset = asset_id(client, "beach/waves.jpg"), asset_id(client, "beach/sunset.jpg")
    album = client.post("/api/dam/albums", json={"name": "Summer Picks"}).json()
    added = {"asset_ids": [waves, sunset]}
    assert client.post(f"/api/dam/albums/{album['id']}/assets", json=added).status_code < 300
    assert client.app.state.services.indexer.wait_idle(60)  # no rebuild of it pending
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    with client.app.state.services.database.session() as session:
        SearchRepository(session).delete([waves])
        session.commit()
    for order in ({"sort": "-timeline_at"}, {}):
        assert sorted(ids(client, "beach picks", **order)) == sorted([waves, sunset]), order
        assert ids(client, "picks canon", **order) == [sunset], order
        assert ids(client, "beach nikon", **order) == [], order


def test_the_months_of_a_search_are_counted_alike_however_common_its_words_and_say_if_estimated(
    client, monkeypatch
):
    # The rail's months: every word rare (the matches collected), some common (the rare
    # collected, the common probed per row: PostgreSQL), all common; and past SAMPLED_PAST
    # on PostgreSQL scaled up from a sample, here of the whole library (scale 1), saying so.
    queries = ("beach", "canon", "trip", "sunset beach", "invoice", "beach -waves", "2023")

    def rails():
        return {q: client.get("/api/dam/timeline", params={"q": q}).json() for q in queries}

    counted = rails()
    assert all(not rail["estimated"] for rail in counted.values())
    assert sum(m["count"] for m in counted["sunset beach"]["months"]) == 1
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 2)
    assert rails() == counted
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    assert rails() == counted
    monkeypatch.setattr("trove.repositories.assets.SAMPLED_PAST", -1)
    monkeypatch.setattr("trove.repositories.assets.SAMPLE_MATCHES", 1)
    sampled = rails()
    postgresql = client.app.state.services.database.engine.dialect.name == "postgresql"
    for q, rail in sampled.items():
        matched = bool(counted[q]["months"] or counted[q]["undated"])
        assert rail["estimated"] is (postgresql and matched), q
        assert {**rail, "estimated": False} == counted[q], q


def test_a_month_the_sample_of_a_search_leaves_out_is_on_its_rail_all_the_same(client, monkeypatch):
    # A block sample of the library (PostgreSQL, past SAMPLED_PAST) draws the rail of a
    # search whose words are all common; a month with few matches may have none of them in
    # the sample. Here the sample holds the assets of 2022 on: `beach` also has 2021's
    # sunset, `canon` only that one, both on the rail as when counted whole.
    queries = ("beach", "sunset beach", "canon", "beach -waves")

    def rails():
        return {q: client.get("/api/dam/timeline", params={"q": q}).json() for q in queries}

    counted = rails()
    assert {"2021-07", "2023-07"} <= {m["month"] for m in counted["beach"]["months"]}
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    monkeypatch.setattr("trove.repositories.assets.SAMPLED_PAST", -1)
    monkeypatch.setattr("trove.repositories.assets.SAMPLE_MATCHES", 0)

    def recent_only(table, *args, **kwargs):
        return select(table.c.id).where(table.c.timeline_at >= datetime(2022, 1, 1)).subquery()

    monkeypatch.setattr("trove.repositories.assets.tablesample", recent_only)
    postgresql = client.app.state.services.database.engine.dialect.name == "postgresql"
    for q, rail in rails().items():
        assert rail["estimated"] is postgresql, q
        assert {**rail, "estimated": False} == counted[q], q


def test_a_document_keeps_the_timeline_of_its_asset_as_it_changes_and_is_rebuilt(client):
    sunset = asset_id(client, "beach/sunset.jpg")
    database = client.app.state.services.database

    def timelines():
        with database.session() as session:
            doc = select(SearchDocumentRow.timeline_at).where(SearchDocumentRow.asset_id == sunset)
            own = select(Asset.timeline_at).where(Asset.id == sunset)
            return session.scalar(doc), session.scalar(own)

    assert timelines() == (datetime(2021, 7, 4, 15, 30, 45),) * 2
    with database.session() as session:
        moved = update(Asset).where(Asset.id == sunset).values(timeline_at=datetime(2001, 2, 3))
        session.execute(moved)
        session.commit()
    assert timelines() == (datetime(2001, 2, 3),) * 2
    with database.session() as session:
        search = SearchRepository(session)
        search.save(search.documents_for([sunset]))
        session.commit()
    assert timelines() == (datetime(2001, 2, 3),) * 2


def one_at_a_time(client, q, **params):
    got, cursor = [], None
    while True:
        page = {"q": q, "limit": 1, **params, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/dam/assets", params=page).json()
        got += [i["id"] for i in body["items"] if i["asset_type"] != "collection"]
        if not (cursor := body["next_cursor"]):
            return got


def test_results_are_ranked_say_where_they_matched_and_follow_a_rename(
    client, library, monkeypatch
):
    ranked = [i["filename"] for i in found(client, "invoice")]
    assert ranked[-1] == SCANNED  # only its OCR text matched; the others' names did
    (hit,) = found(client, "harbour")
    match = hit["match"]
    assert match["field"] == "content"
    (start, end), *_ = match["highlights"]
    assert match["text"][start:end].lower() == "harbour"
    assert "<" not in match["text"]
    # A common word is planned differently on SQLite (the page read in timeline order): the
    # same answers.
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    plain = ("beach", "canon", "camera:nikon", "harbour", 'text:"invoice 2023"', "invoice", "trip")
    for q, want in TABLE:
        if q in plain:
            assert names(client, q) == sorted(want), q
    (library / "notes/todo_draft.txt").rename(library / "notes/groceries.txt")
    services = client.app.state.services
    services.indexer.request_scan(str(library))
    assert services.indexer.wait_idle(60)
    assert names(client, "groceries") == ["groceries.txt"]
    assert names(client, "draft") == []


@pytest.mark.databases("sqlite")  # PostgreSQL ranks among the first candidates its index gives
def test_a_word_in_more_documents_than_are_ranked_still_ranks_first_the_files_it_names(
    client, monkeypatch
):
    # SQLite ranks a word in more than SQLITE_RANK_CANDIDATES documents among the latest indexed
    # and those holding it in a name, title or tags: the scanned PDF, indexed last, is the
    # one latest candidate, and the two PDFs named for the word still come before it.
    client.app.state.services.search.reindex([asset_id(client, "docs/scanned.pdf")])
    monkeypatch.setattr("trove.repositories.search.SQLITE_RANK_CANDIDATES", 1)
    ranked = [i["filename"] for i in found(client, "invoice")]
    assert sorted(ranked[:2]) == [COPY, INVOICE] and ranked[2:] == [SCANNED]


@pytest.mark.databases("postgresql")  # SQLite plans every statement anew
def test_a_search_on_postgresql_is_planned_for_its_own_words_each_time(client):
    # psycopg prepares a statement run five times and PostgreSQL may then keep one generic
    # plan for every search of its shape; a search's transaction asks for its own plans.
    with client.app.state.services.database.session() as session:
        query = AssetFilters(q="beach", sort="-timeline_at").to_query()
        AssetRepository(session).list(query, viewer=Viewer.system())
        setting = session.execute(text("SHOW plan_cache_mode")).scalar_one()
        assert setting == "force_custom_plan"
        assert session.execute(text("SHOW jit")).scalar_one() == "off"
        session.rollback()
        assert session.execute(text("SHOW plan_cache_mode")).scalar_one() == "auto"


@pytest.mark.databases("postgresql")  # SQLite counts a word's matches in its FTS5 index
def test_a_common_word_is_expected_as_common_when_searched_as_a_prefix(client):
    # With fewer than 100 common lexemes in its statistics (a small library; at 1M assets, a
    # library of notes), PostgreSQL expects any prefix (`'beach':*`) in 2% of the documents,
    # under the share that makes a word common: a word in most documents was collected
    # whole (13 s a page at 1M) instead of walked. The whole word's estimate is the floor.
    with client.app.state.services.database.session() as session:
        session.execute(text("ANALYZE search_documents"))
        documents = session.scalar(select(func.count()).select_from(SearchDocumentRow))
        holding = session.scalar(
            text("SELECT count(*) FROM search_documents WHERE tsv @@ 'beach'::tsquery")
        )
        assert holding and documents and holding > documents * 0.1
        repo = SearchRepository(session)
        expected = repo._estimated_matches("'beach':*")
        assert expected >= holding * 0.5, (expected, holding, documents)
        assert repo.rarest(parse("beach")) == (parse("beach").clauses[0], expected)
