"""A new SQLite index made in one transaction from the schema the migrations build.

Running twenty migrations on an empty file took ~0.5 s of one core: a second of every first
`trove scan` (the scan and the CLI's start-up are ~1.3 s in all), and of every test's SQLite
database. A new file instead gets `sqlite_head.sql`, the dump of a freshly migrated index (as
Rails loads `schema.rb` rather than replaying its migrations). A test migrates a database and
dumps it again, so a migration added without a new dump fails there (`make schema-snapshot`
writes it: migrate.write_snapshot). An existing index, at any revision, is still migrated;
PostgreSQL always is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from trove.db.engine import PAGE_SIZE_PRAGMA

SNAPSHOT = Path(__file__).with_name("sqlite_head.sql")
# Written when an index is made, not when the dump was: (table, column) -> SQL for the value.
_MADE_NOW = {("users", "created_at"): "strftime('%Y-%m-%d %H:%M:%f000', 'now')"}
_KIND_ORDER = {"table": 0, "index": 1, "trigger": 2, "view": 3}


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for another database, or one kept in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_from_snapshot(path: Path, *, timeout_s: float) -> bool:
    """Make the index at `path` from the snapshot if the file holds no schema yet. False when
    it does: an existing index (migrated as usual), or one another process made meanwhile
    (its write lock held this one back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
    try:
        connection.execute(PAGE_SIZE_PRAGMA)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("BEGIN IMMEDIATE")
        if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            connection.execute("ROLLBACK")
            return False
        for statement in statements(SNAPSHOT.read_text(encoding="utf-8")):
            connection.execute(statement)
        connection.execute("COMMIT")
        return True
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()


def statements(script: str) -> Iterator[str]:
    """The script's statements, whole (a trigger's body holds semicolons of its own)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"the schema snapshot ends inside a statement: {pending[:80]!r}")


def dump(connection: sqlite3.Connection) -> str:
    """The schema and rows of a migrated index as a script, tables first, then indexes,
    triggers and views. The tables SQLite makes itself (FTS5's shadow tables, sqlite_*)
    are left to it."""
    own = {
        name
        for name, kind in connection.execute("SELECT name, type FROM pragma_table_list")
        if kind in ("table", "virtual") and not name.startswith("sqlite_")
    }
    objects = connection.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ).fetchall()
    kept = [o for o in objects if o[2] in own and not o[1].startswith("sqlite_")]
    kept.sort(key=lambda o: _KIND_ORDER[o[0]])  # stable: creation order within a kind
    lines = [f"{sql};\n" for _, _, _, sql in kept]
    for kind, name, _, sql in kept:
        if kind == "table" and not sql.upper().startswith("CREATE VIRTUAL"):
            lines.extend(_rows(connection, name))
    return "".join(lines)


def _rows(connection: sqlite3.Connection, table: str) -> list[str]:
    columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
    quoted = ", ".join(f'quote("{c}")' for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    inserts = []
    for row in connection.execute(f'SELECT {quoted} FROM "{table}" ORDER BY rowid'):
        values = [_MADE_NOW.get((table, c), value) for c, value in zip(columns, row, strict=True)]
        inserts.append(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(values)});\n')
    return inserts
