"""The search language parsed (pure: no database), and a clause that cannot be used refused
with the character it starts at."""

from __future__ import annotations

import random
import sys
import unicodedata
from datetime import datetime

import pytest

from trove.domain.search_document import LONG_TEXT, combining_marks, document_of, fold
from trove.domain.search_query import Near, QuerySyntaxError, completed, current_word, parse
from trove.domain.snippets import snippet


def test_words_phrases_filters_and_negations_are_clauses_in_order():
    query = parse('beach -draft type:photo,video camera:"Canon EOS" -tag:x near:35,135.5,2')
    assert [(c.key, c.value, c.negated) for c in query.clauses] == [
        ("", "beach", False),
        ("", "draft", True),
        ("type", "photo,video", False),
        ("camera", "Canon EOS", False),
        ("tag", "x", True),
        ("near", "35,135.5,2", False),
    ]
    assert query.clauses[2].parsed == ("image", "video")
    assert query.clauses[3].phrase
    assert query.clauses[5].parsed == Near(lat=35.0, lon=135.5, km=2.0)
    assert query.words == ("beach", "Canon EOS")


def test_taken_is_the_whole_year_month_or_day():
    (year, month, day) = parse("taken:2023 taken:2023-12 taken:2024-02-29").clauses
    assert year.parsed == (datetime(2023, 1, 1), datetime(2024, 1, 1))
    assert month.parsed == (datetime(2023, 12, 1), datetime(2024, 1, 1))
    assert day.parsed == (datetime(2024, 2, 29), datetime(2024, 3, 1))


def test_a_colon_in_a_word_that_is_no_filter_is_looked_for_as_text():
    assert [c.value for c in parse("12:30 note:").clauses] == ["12:30", "note:"]


@pytest.mark.parametrize(
    ("q", "position", "reason"),
    [
        ("beach colour:red", 7, "unknown filter 'colour'"),
        ("taken:2023-13", 7, "not a date"),
        ('text:"invoice 2023', 6, "quote is not closed"),
        ("near:91,0", 6, "latitude"),
        ("near:1,2,3,4", 6, "lat,lon"),
        ("- beach", 1, "must be followed"),
        ("is:blue", 4, "unknown value 'blue'"),
        ("type:spreadsheet", 6, "unknown type"),
        ("tag:", 1, "needs a value"),
        ("ext:../x", 5, "not a file extension"),
    ],
)
def test_a_clause_that_cannot_be_used_is_refused_at_its_position(q, position, reason):
    with pytest.raises(QuerySyntaxError) as refused:
        parse(q)
    assert refused.value.position + 1 == position
    assert reason in str(refused.value) and f"at character {position}" in str(refused.value)


def test_a_snippet_is_plain_text_with_the_ranges_that_matched_diacritics_folded():
    found = snippet({"name": "x.jpg", "content": "Le <b>Café</b> du port"}, ["cafe"])
    assert found is not None and found.field == "content"
    assert [found.text[s:e] for s, e in found.highlights] == ["Café"]
    assert "<b>" in found.text  # kept as text: the page shows it, never renders it


@pytest.mark.parametrize(
    ("typed", "word", "picked", "after"),
    [
        ("beach can", ("", "can"), "camera:Canon", "beach camera:Canon "),
        ("-tag:fam", ("tag", "fam"), "tag:family", "-tag:family "),
        ("type:ima", ("", ""), None, None),  # type: takes a fixed list, not suggestions
        ('camera:"Canon E', ("", ""), None, None),  # inside a quote
        ("beach ", ("", ""), None, None),
    ],
)
def test_the_search_box_suggests_for_the_word_being_typed_and_completes_it(
    typed, word, picked, after
):
    assert current_word(typed) == word
    if picked:
        assert completed(typed, picked) == after


def test_a_document_reads_the_known_namespaces_and_text_another_step_added():
    document = document_of(
        asset_id="a",
        filename="IMG_0001.JPG",
        rel_path="2019/Kyoto trip/IMG_0001.JPG",
        is_folder=False,
        title=None,
        description=None,
        tags=["family"],
        meta={
            "exif": {"Make": "Canon", "Model": "Canon EOS R6", "LensID": "RF 50mm"},
            "iptc": {"Keywords": ["temple", "autumn"], "City": "Kyoto"},
            "place": {"city": "Kyoto", "country": "Japan", "name": "Kyoto, Japan"},
            "geo": {"lat": 35.0, "lon": 135.7},
            "ai": {"search_text": {"labels": ["pagoda"], "mood": "calm"}},
        },
    )
    assert document.fields["folders"] == "2019\nKyoto trip"
    assert document.fields["camera"] == "Canon\nCanon EOS R6"
    assert document.fields["caption"] == "temple\nautumn"
    assert document.fields["place"] == "Kyoto\nKyoto, Japan\nJapan"
    assert (document.fields["labels"], document.fields["extra"]) == ("pagoda", "calm")
    assert (document.ext, document.lat, document.holder) == ("jpg", 35.0, False)


def test_a_web_page_is_found_by_its_title_and_a_note_by_its_whole_text():
    page = document_of(
        asset_id="u",
        filename="https://example.org/",
        rel_path=None,
        is_folder=False,
        title="example.org",
        description=None,
        tags=[],
        meta={"web_scraper": {"title": "Tide tables", "site_name": "Harbour"}},
    )
    assert page.fields["caption"] == "Tide tables\nHarbour"
    note = document_of(
        asset_id="n",
        filename="Note 2026-03-04 09:30",
        rel_path=None,
        is_folder=False,
        title="Printed for the exhibition",
        description=None,
        tags=[],
        meta={"log_entry": {"text": "Printed for the exhibition\nA3, matte"}},
    )
    assert "matte" in note.fields["content"]


def test_a_long_text_is_folded_as_its_characters_are_one_by_one():
    """Past LONG_TEXT characters the marks are filtered by NumPy: the same folding."""
    rng = random.Random(7)
    pieces = [*"abcdeéèêfgïijkloôpqrsßtuüvwxyzÅ  \n", "ﬁ", "İ", "Σ", "e\u0301", "ǰ", "ё", "Ω"]
    text = "".join(rng.choice(pieces) for _ in range(3 * LONG_TEXT))
    assert fold(text) == "".join(fold(c) for c in text)


def test_the_combining_marks_looked_up_are_every_mark_unicode_has():
    every = {p for p in range(sys.maxunicode + 1) if unicodedata.combining(chr(p))}
    assert set(combining_marks().nonzero()[0].tolist()) == every


@pytest.mark.parametrize("at", [0, 250, 254, 4090, 4094, 8190, 20_000, 170_000])
def test_a_snippet_of_a_long_document_not_in_ascii_is_around_its_first_match(at):
    """Found without folding the whole document character by character (93 ms for 175 KB
    of French), wherever the match is: across two of the blocks looked at, or two pieces."""
    filler = ("près de la mer " * 12_000)[:at]
    text = filler + "la Côte d'Azur, puis encore la côte" + " étés" * 100
    found = snippet({"content": text}, ["cote"])
    assert found is not None and found.field == "content"
    assert [found.text[s:e] for s, e in found.highlights] == ["Côte", "côte"]
    assert "la Côte d'Azur" in found.text
    assert snippet({"content": text}, ["absent"]) is None


def test_a_searched_word_longer_than_a_block_gets_no_window_and_no_error():
    text = "é" * 5000 + "x" * 6000 + "é"
    assert snippet({"content": text}, ["x" * 5000]) is None
    found = snippet({"content": text}, ["e" * 300])
    assert found is not None and found.highlights
