"""File names that are not UTF-8 are stored injectively, and one entry the database refuses
costs only that entry: the scan goes on, exits 0 and the root says what was not indexed."""

from __future__ import annotations

import json
import os

import pytest
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from tests.migrating import alembic_config, migrate_to
from trove.db.engine import make_engine
from trove.db.migrate import ensure_schema
from trove.db.models import OWNER_ID, Asset
from trove.domain.paths import from_stored, to_stored

CRAFTED = (b"\xff.txt", "\U0010ffff.txt".encode())
OTHERS = 5000

# Names as Python holds them: any text, plus lone surrogates (undecodable bytes) and the
# characters of the block the escaping uses.
_tricky = st.sampled_from(["\udcff", "\udc80", "\U0010ff00", "\U0010ff7f", "\U0010ff80", "é"])
names = st.lists(st.one_of(st.characters(exclude_categories=["Cs"]), _tricky), max_size=12).map(
    "".join
)


# A loaded machine draws slowly; the property is what is checked, not the speed.
@hypothesis_settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(names, min_size=2, max_size=8, unique=True))
def test_the_stored_form_is_injective_and_decodes_back_exactly(raw_names):
    stored = [to_stored(name) for name in raw_names]
    assert len({text for text, _ in stored}) == len(raw_names)  # the unique key is the text
    for name, (text_form, escaped) in zip(raw_names, stored, strict=True):
        text_form.encode("utf-8")  # storable by both databases
        assert from_stored(text_form, escaped=escaped) == name


def test_the_byte_and_the_character_that_used_to_collide_are_stored_apart():
    byte_name, char_name = (os.fsdecode(raw) for raw in CRAFTED)
    assert to_stored(byte_name) != to_stored(char_name)
    assert to_stored("plain/é.jpg") == ("plain/é.jpg", False)  # ordinary names are unchanged


def _indexed_names(url: str) -> dict[bytes, str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Asset.rel_path, Asset.path_escaped, Asset.asset_type)
            ).fetchall()
    finally:
        engine.dispose()
    return {
        os.fsencode(from_stored(rel, escaped=escaped)): kind
        for rel, escaped, kind in rows
        if kind != "collection"
    }


@pytest.mark.slow
def test_a_root_with_the_colliding_pair_and_5000_other_files_is_indexed_whole(
    tmp_path, settings, run_trove
):
    root = tmp_path / "library"
    root.mkdir()
    for raw in CRAFTED:
        (root / os.fsdecode(raw)).write_bytes(raw)
    for n in range(OTHERS):
        (root / f"file_{n:05d}.txt").write_text(str(n))

    scan = run_trove("scan", str(root), "--no-wait", "--json")
    assert "Traceback" not in scan.stderr
    summary = json.loads(scan.stdout)["summary"]
    assert (summary["new"], summary["errors"]) == (OTHERS + 2, 0)

    indexed = _indexed_names(settings.resolved_database_url)
    assert set(indexed) == set(os.listdir(os.fsencode(root)))
    again = json.loads(run_trove("scan", str(root), "--no-wait", "--json").stdout)["summary"]
    assert (again["unchanged"], again["new"], again["errors"]) == (OTHERS + 2, 0, 0)


def _poison_inserts_of(url: str, filename: str) -> None:
    """A real refusal by the database itself for one entry (a trigger), on either one."""
    ensure_schema(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(
                    text(
                        "CREATE TRIGGER poison BEFORE INSERT ON assets"
                        f" WHEN NEW.filename = '{filename}'"
                        " BEGIN SELECT RAISE(ABORT, 'poisoned entry'); END"
                    )
                )
            else:
                conn.execute(
                    text(
                        "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN"
                        f" IF NEW.filename = '{filename}' THEN RAISE EXCEPTION 'poisoned entry'"
                        " USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END"
                        " $$ LANGUAGE plpgsql"
                    )
                )
                conn.execute(
                    text(
                        "CREATE TRIGGER poison BEFORE INSERT ON assets"
                        " FOR EACH ROW EXECUTE FUNCTION poison()"
                    )
                )
    finally:
        engine.dispose()


@pytest.mark.slow
def test_an_entry_the_database_refuses_costs_only_that_entry(tmp_path, settings, run_trove):
    root = tmp_path / "library"
    (root / "sub").mkdir(parents=True)
    for n in range(300):
        (root / "sub" / f"f{n:03d}.txt").write_text(str(n))
    (root / "sub" / "poison.txt").write_text("refused")
    _poison_inserts_of(settings.resolved_database_url, "poison.txt")

    scan = run_trove("scan", str(root), "--no-wait")
    assert "Traceback" not in scan.stderr
    assert "not indexed: sub/poison.txt: the database refused it" in scan.stdout
    assert "poisoned entry" in scan.stdout
    indexed = _indexed_names(settings.resolved_database_url)
    assert len(indexed) == 300 and b"sub/poison.txt" not in indexed

    status = json.loads(run_trove("status", "--json").stdout)
    (library,) = status["roots"]
    assert library["last_scan"]["failed"] == 1
    assert library["last_scan"]["failed_entries"][0].startswith("sub/poison.txt: ")
    assert any("1 entries could not be indexed" in w for w in status["warnings"])
    rescan = json.loads(run_trove("scan", str(root), "--no-wait", "--json").stdout)["summary"]
    assert (rescan["unchanged"], rescan["new"], rescan["failed"]) == (300, 1, 1)


ESCAPING_REVISION = "0006_injective_path_escaping"


@pytest.fixture(name="migrate_to")
def migrate_to_fixture():
    return migrate_to


def test_paths_stored_the_earlier_way_are_migrated_to_the_injective_form(database_url, migrate_to):
    ensure_schema(database_url)
    before = (
        ScriptDirectory.from_config(alembic_config()).get_revision(ESCAPING_REVISION).down_revision
    )
    migrate_to(database_url, str(before), down=True)
    old_rows = {  # id: (rel_path as the earlier code stored it, path_escaped)
        "a-char": ("dir/\U0010ffff.txt", False),  # a real U+10FFFF in the name
        "a-byte": ("dir/\U0010ffff.bin", True),  # the byte 0xff
        "a-mark": ("\U0010ff00\U0010ff81x", True),  # a real U+10FF00, then the byte 0x81
        "a-plain": ("dir/é.jpg", False),
    }
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO roots (id, path, name, status, include_globs, exclude_globs,"
                    " include_hidden, is_upload_target, created_at) VALUES ('r', '/lib', 'lib',"
                    " 'online', '[]', '[]', false, false, CURRENT_TIMESTAMP)"
                )
            )
            for asset_id, (rel, escaped) in old_rows.items():
                conn.execute(
                    text(
                        "INSERT INTO assets (id, owner_id, root_id, rel_path, path_escaped,"
                        " filename, storage_urn, asset_type, category, status, is_virtual,"
                        " visibility, thumbnails, metadata, version, timeline_at, created_at,"
                        " updated_at)"
                        " VALUES (:id, :owner, 'r', :rel, :escaped, :name, :urn, 'document',"
                        " 'physical', 'ready', false, 'private', '{}', '{}', 1, CURRENT_TIMESTAMP,"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": asset_id,
                        "owner": OWNER_ID,
                        "rel": rel,
                        "escaped": escaped,
                        "name": rel.rpartition("/")[2],
                        "urn": "fs://local/lib/" + rel,
                    },
                )
        migrate_to(database_url, "head")
        with engine.connect() as conn:
            rows = {
                r.id: r
                for r in conn.execute(
                    text("SELECT id, rel_path, path_escaped, filename, storage_urn FROM assets")
                )
            }
    finally:
        engine.dispose()
    expected_names = {
        "a-char": "dir/\U0010ffff.txt",
        "a-byte": os.fsdecode(b"dir/\xff.bin"),
        "a-mark": "\U0010ff00" + os.fsdecode(b"\x81x"),
        "a-plain": "dir/é.jpg",
    }
    for asset_id, name in expected_names.items():
        row = rows[asset_id]
        assert from_stored(row.rel_path, escaped=bool(row.path_escaped)) == name
        assert (row.rel_path, bool(row.path_escaped)) == to_stored(name)
        assert row.filename == row.rel_path.rpartition("/")[2]
        assert row.storage_urn == "fs://local/lib/" + row.rel_path
    assert len({r.rel_path for r in rows.values()}) == 4
