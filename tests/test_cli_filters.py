"""`trove ls` takes the API's filters (one AssetFilters for both): bad values exit 2 naming
the allowed ones, and each filter lists what GET /api/dam/assets lists. Real CLI processes and
the real app over one small library; the filters' SQL is the API's, tested on both databases
there, so the command line is compared on SQLite, a continued listing on both."""

from __future__ import annotations

import json

import pytest

from tests.media import make_library
from trove.domain.filters import FILE_TYPES, AssetFilters

FILES = [t.value for t in FILE_TYPES]


@pytest.fixture
def library(tmp_path):
    return make_library(tmp_path / "library")


BAD_VALUES = [
    # (option, value, what the error names)
    ("--type", "photo", ["'image'", "'video'", "'collection'"]),
    ("--status", "bogus", ["'ready'", "'processing'", "'missing'"]),
    ("--sort", "password", ["'-timeline_at'", "'filename'", "'-size'"]),
    ("--since", "yesterday", ["ISO date (YYYY-MM-DD)"]),
    ("--until", "2023-13-01", ["ISO date (YYYY-MM-DD)"]),
    ("--limit", "0", ["greater than or equal to 1"]),
    ("--root", "nowhere", ["no library 'nowhere'", "libraries: library ("]),
]


# Refused before a listing is asked of the database: one database, one library, a subtest a
# case.
@pytest.mark.databases("sqlite")
def test_a_bad_filter_value_exits_2_naming_the_allowed_values(client, run_trove, subtests):
    for option, value, allowed in BAD_VALUES:
        with subtests.test(option=option, value=value):
            result = run_trove("ls", option, value, check=False)
            assert result.returncode == 2, result.stderr
            assert result.stderr.startswith((f"trove: {option}:", f"trove: {option[2:]}:"))
            for fragment in allowed:
                assert fragment in result.stderr
            assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.databases("sqlite")
def test_a_cursor_from_nowhere_exits_2(client, run_trove):
    result = run_trove("ls", "--cursor", "!!!", check=False)
    assert result.returncode == 2 and "cursor" in result.stderr


def test_every_api_filter_is_a_trove_ls_option():
    from typer.main import get_command

    from trove.cli import app

    ls = get_command(app).commands["ls"]  # type: ignore[attr-defined]
    options = {opt.removeprefix("--") for param in ls.params for opt in param.opts}
    assert set(AssetFilters.model_fields) <= options


@pytest.mark.databases("sqlite")
def test_trove_version_prints_the_version(run_trove):
    from trove import __version__

    assert run_trove("--version").stdout.strip() == f"trove {__version__}"


@pytest.fixture
def shaped(client, library):
    """The library with a tag, a soft-deleted file and the root's id and name to filter by."""
    items = client.get("/api/dam/assets", params={"limit": 1000}).json()["items"]
    by_path = {i["path"]: i for i in items}
    photo = by_path["2023/2023-01 trip/IMG_0000.jpg"]["id"]
    assert client.patch(f"/api/dam/assets/{photo}", json={"tags": ["holiday"]}).status_code == 200
    assert client.delete(f"/api/dam/assets/{by_path['notes/readme.txt']['id']}").status_code == 204
    (root,) = client.get("/api/dam/roots").json()["items"]
    return {"root_id": root["id"], "root_name": root["name"], "root_path": root["path"]}


CASES = [
    # (trove ls options, GET /api/dam/assets parameters); folders only when asked for
    ([], {}),
    (["--type", "image"], {"type": "image"}),
    (["--type", "collection"], {"type": "collection"}),
    (["--type", "image", "--type", "other"], {"type": ["image", "other"]}),
    (["--status", "ready"], {"status": "ready"}),
    (["--tag", "holiday"], {"tag": "holiday"}),
    (["--path", "2023/2023-01 trip"], {"path": "2023/2023-01 trip"}),
    (["--mime", "image/*"], {"mime": "image/*"}),
    (["--mime", "image/png"], {"mime": "image/png"}),
    (["--q", "img_000"], {"q": "img_000"}),
    (["--q", "type:image -tag:holiday"], {"q": "type:image -tag:holiday"}),
    (["--deleted"], {"deleted": "true"}),
    (["--since", "2000-01-01"], {"since": "2000-01-01"}),
    (["--until", "2000-01-01"], {"until": "2000-01-01"}),
    (["--since", "2999-01-01"], {"since": "2999-01-01"}),
    (["--sort", "filename", "--limit", "3"], {"sort": "filename", "limit": 3}),
    (["--sort", "-size", "--limit", "4"], {"sort": "-size", "limit": 4}),
    (["--root", "{root_path}"], {"root": "{root_id}"}),
    (["--root", "{root_name}"], {"root": "{root_id}"}),
    (["--root", "{root_id}", "--type", "image"], {"root": "{root_id}", "type": "image"}),
]


# The command line hands its filters to the service the API calls, whose SQL the API's own
# tests run on both databases: this checks the hand-over, once. One library, a subtest a case.
@pytest.mark.databases("sqlite")
def test_each_filter_lists_what_the_api_lists(client, run_trove, shaped, subtests):
    for options, params in CASES:
        with subtests.test(options=" ".join(options)):
            params = {k: _fill(v, shaped) for k, v in params.items()}
            params.setdefault("type", FILES)
            api = client.get("/api/dam/assets", params=params)
            assert api.status_code == 200, api.text
            listed = run_trove("ls", "--json", *[_fill(o, shaped) for o in options]).stdout
            cli = json.loads(listed)
            assert [i["id"] for i in cli["items"]] == [i["id"] for i in api.json()["items"]]
            assert cli["next_cursor"] == api.json()["next_cursor"]


def test_the_filters_in_the_table_select_different_things(client, shaped):
    """Guards the table above: a filter that selected everything (or nothing) every time would
    let a CLI that ignores it pass."""
    results = set()
    for _options, params in CASES:
        params = {"type": FILES, **{k: _fill(v, shaped) for k, v in params.items()}}
        items = client.get("/api/dam/assets", params=params).json()["items"]
        results.add(tuple(i["id"] for i in items))
    assert len(results) >= 10


def test_a_cursor_continues_the_same_listing_in_both(client, run_trove, shaped):
    first = client.get("/api/dam/assets", params={"type": FILES, "limit": 2}).json()
    cursor = first["next_cursor"]
    api = client.get("/api/dam/assets", params={"type": FILES, "limit": 2, "cursor": cursor})
    cli = json.loads(run_trove("ls", "--json", "--limit", "2", "--cursor", cursor).stdout)
    assert [i["id"] for i in cli["items"]] == [i["id"] for i in api.json()["items"]] != []


def _fill(value, shaped):  # type: ignore[no-untyped-def]
    return value.format(**shaped) if isinstance(value, str) else value
