"""Read the index over the bare DB-API driver, for the scan's hot path.

An unchanged rescan must cost little more than stat-ing every file; importing SQLAlchemy
alone costs ~200 ms, more than `find` needs for 10k files. So the scan reads the index for a
root and records that a scan happened with sqlite3/psycopg directly, and imports the ORM only
when something has to be written (trove.repositories.assets). The SQL here is deliberately
small and portable: qmark placeholders, translated for psycopg.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from trove.domain.paths import from_stored, to_stored


class IndexUnavailable(Exception):
    """The index has not been created yet (no database file, or no schema)."""


class DatabaseUnreachable(Exception):
    """A configured database server cannot be reached: Trove cannot run."""


class RootRow(NamedTuple):
    id: str
    path: str
    status: str
    include_globs: list[str]
    exclude_globs: list[str]
    include_hidden: bool
    device: int | None = None  # st_dev of the folder when its files were last found there

    @classmethod
    def of(cls, root: Any) -> RootRow:
        """The row of a `Root` the ORM loaded."""
        return cls(
            root.id,
            root.path,
            root.status,
            list(root.include_globs),
            list(root.exclude_globs),
            root.include_hidden,
            root.device,
        )


class IndexRow(NamedTuple):
    id: str
    size: int | None
    mtime_ns: int | None
    inode: int | None
    status: str
    is_folder: bool
    has_hash: bool
    device: int | None = None


class MoveCandidate(NamedTuple):
    """An indexed entry that may be the earlier identity of a file or folder found elsewhere:
    it went missing, or a scan has not seen it at its indexed path."""

    id: str
    root_id: str
    rel_path: str  # as the walk yields it (escapes undone)
    size: int | None
    mtime_ns: int | None
    inode: int | None
    device: int | None
    is_folder: bool
    status: str = "missing"
    has_hash: bool = False


class Connection:
    """A DB-API connection plus the one dialect difference we care about (placeholders)."""

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        cursor = self.raw.cursor()
        cursor.execute(sql, params)
        return cursor

    def fetch_all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Every row of a large read (one per file of a root), as tuples. PostgreSQL sends
        them in binary: its numbers arrive as machine integers, not as text to parse."""
        if self.dialect == "postgresql":
            cursor = self.raw.cursor(binary=True)
            return cursor.execute(sql.replace("?", "%s"), params).fetchall()
        return self.raw.execute(sql, params).fetchall()

    def timestamp(self, value: datetime) -> Any:
        # SQLAlchemy stores SQLite DateTime as this exact text; PostgreSQL takes the object.
        if self.dialect == "sqlite":
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def json(self, value: Any) -> str:
        return json.dumps(value)

    def json_placeholder(self) -> str:
        return "CAST(? AS JSONB)" if self.dialect == "postgresql" else "?"


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in this block, which makes many objects and no garbage
    cycles (a row per file of a root, or the modules of an import).

    Each new tuple counts as an allocation, so 100k rows set off a hundred collections, some
    of them over every object the process holds, to find no cycle: that was a third of
    reading a root's signatures from PostgreSQL (py-spy). Reference counting frees as ever;
    the collector is restored as found, so nested or concurrent blocks never leave it off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def connect(url: str) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back if it raises. Inside
    `reusing()` on this thread, the connection stays open for the next block (and on
    PostgreSQL each statement is a transaction of its own: see reusing)."""
    held = getattr(_reused, "connections", None)
    if held is None:
        conn = _open(url)
        try:
            yield conn
            conn.raw.commit()
        finally:
            conn.raw.close()
        return
    conn = held.get(url)
    if conn is None:
        conn = held[url] = _open(url)
        if conn.dialect == "postgresql":
            # Each statement its own transaction: no BEGIN and COMMIT round trips around it.
            conn.raw.autocommit = True
    try:
        yield conn
    except BaseException:
        conn.raw.rollback()
        raise
    conn.raw.commit()


@contextlib.contextmanager
def reusing() -> Iterator[None]:
    """Blocks of `connect` on this thread share one connection per URL until this ends.

    A scan reads the schema revision, its root, the signatures and the sidecars and records
    itself, each in a block of its own: six connections a root, each a new PostgreSQL
    backend (a fork and an authentication), for a rescan that otherwise only stats files.
    Between blocks the connection holds no transaction, so it neither blocks the ORM's
    writers nor misses what they commit. Per thread: sqlite3 and psycopg connections are not
    for sharing between threads (the in-process pipeline runs beside a scan).

    On PostgreSQL the shared connection is in autocommit: a block's statements are reads or
    one write each, and under READ COMMITTED each statement had its own snapshot anyway, so
    BEGIN and COMMIT only cost two round trips a block (12 of an unchanged rescan's 25; on
    a loaded machine each round trip waits for both processes to be scheduled again)."""
    if getattr(_reused, "connections", None) is not None:
        yield  # an outer block already shares them
        return
    held: dict[str, Connection] = {}
    _reused.connections = held
    try:
        yield
    finally:
        _reused.connections = None
        for conn in held.values():
            conn.raw.close()


_reused = threading.local()


def _open(url: str) -> Connection:
    if url.startswith("sqlite"):
        return Connection(_connect_sqlite(url), "sqlite")
    return Connection(_connect_postgresql(url), "postgresql")


def _connect_sqlite(url: str) -> Any:
    import sqlite3

    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or not os.path.exists(path):
        raise IndexUnavailable(f"no index database at {path or url}")
    try:
        raw = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise IndexUnavailable(str(exc)) from exc
    raw.execute("PRAGMA busy_timeout=30000")
    return raw


def _connect_postgresql(url: str) -> Any:
    with _collector_paused():  # ~20k objects made to live as long as the process
        import psycopg

    conninfo = url.split("://", 1)[1]
    try:
        return psycopg.connect("postgresql://" + conninfo, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachable(f"cannot reach the database: {exc}".strip()) from exc


def schema_revision(conn: Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except Exception:  # no such table: the schema was never created
        conn.raw.rollback()
        return None
    return row[0] if row else None


def find_root(conn: Connection, path: str) -> RootRow | None:
    row = conn.execute(
        "SELECT id, path, status, include_globs, exclude_globs, include_hidden, device"
        " FROM roots WHERE path = ?",
        (path,),
    ).fetchone()
    if row is None:
        return None
    return RootRow(row[0], row[1], row[2], _json(row[3]), _json(row[4]), bool(row[5]), row[6])


def all_roots(conn: Connection) -> list[RootRow]:
    rows = conn.execute(
        "SELECT id, path, status, include_globs, exclude_globs, include_hidden, device FROM roots"
    ).fetchall()
    return [RootRow(r[0], r[1], r[2], _json(r[3]), _json(r[4]), bool(r[5]), r[6]) for r in rows]


def find_entries(conn: Connection, root_id: str, rel_paths: list[str]) -> dict[str, IndexRow]:
    """Index rows of a few relative paths of a root (e.g. a file and its parent folders)."""
    found: dict[str, IndexRow] = {}
    for rel in rel_paths:
        stored, _escaped = to_stored(rel)
        row = conn.execute(
            "SELECT id, size, mtime_ns, inode, status, asset_type, hash IS NOT NULL, device"
            " FROM assets WHERE root_id = ? AND rel_path = ?",
            (root_id, stored),
        ).fetchone()
        if row:
            found[rel] = IndexRow(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5] == "collection",
                bool(row[6]),
                row[7],
            )
    return found


def missing_entries(conn: Connection, *, size: int | None = None) -> list[MoveCandidate]:
    """Entries marked missing in any root (optionally only files of one size): the pool a
    newly found file or folder is matched against before it is registered as new."""
    sql = (
        "SELECT id, root_id, rel_path, path_escaped, size, mtime_ns, inode, device, asset_type,"
        " hash IS NOT NULL FROM assets"
        " WHERE status = 'missing' AND root_id IS NOT NULL AND rel_path IS NOT NULL"
    )
    params: tuple[Any, ...] = ()
    if size is not None:
        sql += " AND size = ?"
        params = (size,)
    return [
        MoveCandidate(
            id_,
            root_id,
            from_stored(rel, escaped=True) if escaped else rel,
            size_,
            mtime_ns,
            inode,
            device,
            asset_type == "collection",
            "missing",
            bool(has_hash),
        )
        for (
            id_,
            root_id,
            rel,
            escaped,
            size_,
            mtime_ns,
            inode,
            device,
            asset_type,
            has_hash,
        ) in conn.execute(sql, params)
    ]


def hashes_of(conn: Connection, asset_ids: list[str]) -> dict[str, str]:
    """Recorded SHA-256 of a few assets (move candidates whose size matched)."""
    found: dict[str, str] = {}
    for start in range(0, len(asset_ids), 500):
        chunk = asset_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for id_, digest in conn.execute(
            f"SELECT id, hash FROM assets WHERE hash IS NOT NULL AND id IN ({marks})",
            tuple(chunk),
        ):
            found[id_] = digest
    return found


# What an unchanged rescan compares, per relative path: (rel_path, size, mtime_ns, inode) for a
# file in good standing (a plain file's row as read: no second tuple per file), else a marker
# that never equals such a tuple: "dir" for a folder, "dir!<status>" or "!<status>" for a
# missing or failed entry. Plain files (nearly all rows) come from a query with no expressions,
# which SQLite answers about twice as fast.
# Both WHERE clauses match partial indexes of trove.db.models (keep them in step).
_EXCEPTIONAL = "asset_type = 'collection' OR status NOT IN ('ready', 'processing') OR path_escaped"
_GOOD_FILES_SQL = f"""
SELECT rel_path, size, mtime_ns, inode FROM assets WHERE root_id = ? AND NOT ({_EXCEPTIONAL})
"""
_OTHER_ENTRIES_SQL = f"""
SELECT rel_path, path_escaped, asset_type = 'collection', status, size, mtime_ns, inode, ctime_ns
FROM assets WHERE root_id = ? AND ({_EXCEPTIONAL})
"""
FOLDER_SIGNATURE = "dir"
FOLDER_ERROR_SIGNATURE = "dir!error"
Signature = tuple[str, int, int, int] | str


def load_signatures(conn: Connection, root_id: str) -> dict[str, Signature]:
    """relative path -> signature for every entry of a root: all an unchanged rescan needs."""
    with _collector_paused():
        return _signatures(conn, root_id)


def _signatures(conn: Connection, root_id: str) -> dict[str, Signature]:
    rows = conn.fetch_all(_GOOD_FILES_SQL, (root_id,))
    # Built without a Python-level loop: this runs once per file on every rescan.
    signatures: dict[str, Signature] = dict(zip(map(itemgetter(0), rows), rows, strict=True))
    for rel, escaped, is_folder, status, size, mtime_ns, inode, ctime_ns in conn.fetch_all(
        _OTHER_ENTRIES_SQL, (root_id,)
    ):
        key = from_stored(rel, escaped=True) if escaped else rel
        good = status in ("ready", "processing")
        if is_folder:
            signatures[key] = FOLDER_SIGNATURE if good else f"dir!{status}"
        elif good:
            signatures[key] = (key, size, mtime_ns, inode)
        elif status == "error":
            signatures[key] = f"!error:{size}:{mtime_ns}:{inode}:{ctime_ns}"
        else:
            signatures[key] = f"!{status}"
    return signatures


def load_sidecars(conn: Connection, root_id: str) -> dict[str, tuple[int, int]]:
    """rel_path (as stored) -> (size, mtime_ns) of the sidecars a scan saw in this root."""
    rows = conn.execute(
        "SELECT rel_path, size, mtime_ns FROM sidecar_files WHERE root_id = ?", (root_id,)
    ).fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def error_signature(st: os.stat_result) -> str:
    """A file in error is retried only when its stat changes; ctime catches a chmod."""
    return f"!error:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"


def is_present(signature: Signature) -> bool:
    """False for entries already marked missing."""
    return not (isinstance(signature, str) and signature.endswith("!missing"))


_INDEX_ROW = (
    "SELECT rel_path, path_escaped, id, size, mtime_ns, inode, status, asset_type,"
    " hash IS NOT NULL, device FROM assets WHERE root_id = ?"
)


def load_root_index(conn: Connection, root_id: str) -> dict[str, IndexRow]:
    """Every indexed entry of a root, keyed by the relative path as the walk yields it."""
    return _index_rows(conn.execute(_INDEX_ROW, (root_id,)))


def load_subtree(conn: Connection, root_id: str, rel: str) -> dict[str, IndexRow]:
    """The entry at `rel` and every one below it, keyed as the walk yields them: one range
    of the index, not a query per entry (a moved folder of 20,000 files)."""
    stored, _escaped = to_stored(rel)
    sql = _INDEX_ROW + " AND (rel_path = ? OR (rel_path >= ? AND rel_path < ?))"
    return _index_rows(conn.execute(sql, (root_id, stored, stored + "/", stored + "0")))


def held_nothing_or_any_of(conn: Connection, root_id: str, folder: str, names: list[str]) -> bool:
    """Whether folder `folder` held nothing in the index, or held an entry right below it
    under one of `names` (a folder found at a reused inode is taken for it only then)."""
    stored, _escaped = to_stored(folder)
    sql = "SELECT 1 FROM assets WHERE root_id = ? AND rel_path >= ? AND rel_path < ? LIMIT 1"
    if conn.execute(sql, (root_id, stored + "/", stored + "0")).fetchone() is None:
        return True
    paths = [to_stored(f"{folder}/{name}")[0] for name in names]
    for start in range(0, len(paths), 500):
        chunk = paths[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT 1 FROM assets WHERE root_id = ? AND rel_path IN ({marks}) LIMIT 1"
        if conn.execute(sql, (root_id, *chunk)).fetchone() is not None:
            return True
    return False


def _index_rows(cursor: Any) -> dict[str, IndexRow]:
    index: dict[str, IndexRow] = {}
    for rel, escaped, id_, size, mtime_ns, inode, status, asset_type, has_hash, dev in cursor:
        key = from_stored(rel, escaped=True) if escaped else rel
        index[key] = IndexRow(
            id_, size, mtime_ns, inode, status, asset_type == "collection", bool(has_hash), dev
        )
    return index


def record_scan(
    conn: Connection,
    root_id: str,
    *,
    at: datetime,
    summary: dict[str, Any],
    device: int | None = None,
) -> None:
    """`device`: the folder's file system, where the scan found the root's files (None: the
    one recorded stays)."""
    conn.execute(
        f"UPDATE roots SET last_scan_at = ?, last_scan = {conn.json_placeholder()},"
        " status = 'online', status_message = NULL, device = COALESCE(?, device) WHERE id = ?",
        (conn.timestamp(at), conn.json(summary), device, root_id),
    )


def sample_files(conn: Connection, root_id: str, *, device: int, limit: int) -> list[str]:
    """Relative paths (as the walk yields them) of up to `limit` of a root's files that were
    present on `device`, and up to `limit` of its missing ones, each spread over all of them by
    id (time-ordered). Not any file: one indexed while the library's disk was away (an upload
    into its empty mount point) lies on another device, and a library whose sample held only
    long-missing files would never be found again."""
    where = "root_id = ? AND rel_path <> '' AND asset_type <> 'collection' AND deleted_at IS NULL"
    present = f"{where} AND status <> 'missing' AND device = ?"
    missing = f"{where} AND status = 'missing'"
    return [
        *_spread_paths(conn, present, (root_id, device), limit),
        *_spread_paths(conn, missing, (root_id,), limit),
    ]


def _spread_paths(conn: Connection, where: str, params: tuple[Any, ...], limit: int) -> list[str]:
    total = conn.execute(f"SELECT count(*) FROM assets WHERE {where}", params).fetchone()[0]
    wanted = spread(int(total), limit)
    if not wanted:
        return []
    rows = conn.execute(
        "SELECT rel_path, path_escaped FROM (SELECT rel_path, path_escaped,"
        f" row_number() OVER (ORDER BY id) AS n FROM assets WHERE {where}) AS numbered"
        f" WHERE n IN ({', '.join('?' * len(wanted))})",
        (*params, *wanted),
    ).fetchall()
    return [from_stored(rel, escaped=True) if escaped else rel for rel, escaped in rows]


def spread(total: int, limit: int) -> list[int]:
    """Up to `limit` of the positions 1..`total`, evenly spaced from the first to the last
    (so the newest files are in every sample, not only the oldest)."""
    if total <= limit:
        return list(range(1, total + 1))
    if limit <= 1:
        return [total][:limit]
    return [1 + i * (total - 1) // (limit - 1) for i in range(limit)]


class CopyRow(NamedTuple):
    id: str
    hash: str
    size: int
    root_id: str
    root_path: str
    rel_path: str  # stored form (see path_escaped)
    path_escaped: bool
    filename: str
    storage_urn: str
    status: str


# A copy of a file: physical, present, visible, hashed, not empty (seed 4.6, logical dedup).
_IS_COPY = (
    "a.hash IS NOT NULL AND a.size > 0 AND a.deleted_at IS NULL AND a.status <> 'missing'"
    " AND a.asset_type <> 'collection' AND a.rel_path IS NOT NULL"
)


def duplicate_hashes(conn: Connection) -> list[str]:
    """Hashes held by two or more assets: a scan of the hash index alone (no table rows),
    ~45 ms for 100k assets. Some may turn out to have fewer than two *copies* (one missing,
    say): `copies_with_hashes` filters, the caller groups."""
    return [
        h
        for (h,) in conn.execute(
            "SELECT hash FROM assets WHERE hash IS NOT NULL GROUP BY hash HAVING COUNT(*) > 1"
        )
    ]


def copies_with_hashes(conn: Connection, hashes: list[str]) -> list[CopyRow]:
    found: list[CopyRow] = []
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT a.id, a.hash, a.size, a.root_id, r.path, a.rel_path, a.path_escaped,"
            " a.filename, a.storage_urn, a.status FROM assets a JOIN roots r ON r.id = a.root_id"
            f" WHERE a.hash IN ({marks}) AND {_IS_COPY} ORDER BY a.id",
            tuple(chunk),
        )
        found += [CopyRow._make((*row[:6], bool(row[6]), *row[7:])) for row in rows]
    return found


def preferred_copies(conn: Connection, hashes: list[str]) -> dict[str, str]:
    """hash -> the copy a person chose to show (services/stacks.py), for those chosen."""
    found: dict[str, str] = {}
    for start in range(0, len(hashes), 500):
        chunk = hashes[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT hash, asset_id FROM preferred_copies WHERE hash IN ({marks})", tuple(chunk)
        )
        found.update({str(h): str(a) for h, a in rows})
    return found


def set_watch_status(conn: Connection, root_id: str, status: str | None) -> None:
    """How a root's changes are followed: "watching ...", "polling ...", or None (nobody)."""
    conn.execute("UPDATE roots SET watch_status = ? WHERE id = ?", (status, root_id))


def count_folders(conn: Connection, root_id: str) -> int:
    """Folders indexed (and not missing) in a root: how many inotify watches it needs."""
    row = conn.execute(
        "SELECT COUNT(*) FROM assets WHERE root_id = ? AND asset_type = 'collection'"
        " AND status NOT IN ('missing', 'error')",
        (root_id,),
    ).fetchone()
    return int(row[0])


@contextlib.contextmanager
def held_connection(url: str) -> Iterator[Connection]:
    """A connection kept open by its holder (PostgreSQL session-level advisory locks live
    exactly as long as it does), in autocommit mode."""
    if url.startswith("sqlite"):
        raise ValueError("session locks need PostgreSQL; SQLite uses a lock file")
    raw = _connect_postgresql(url)
    raw.autocommit = True
    try:
        yield Connection(raw, "postgresql")
    finally:
        raw.close()


def try_advisory_lock(conn: Connection, namespace: int, key: int) -> bool:
    """A PostgreSQL session-level advisory lock: released when the connection ends, so a
    crashed holder never leaves a stale lock behind."""
    row = conn.execute("SELECT pg_try_advisory_lock(?, ?)", (namespace, key)).fetchone()
    return bool(row[0])


def ping(conn: Connection) -> bool:
    try:
        conn.execute("SELECT 1").fetchone()
    except Exception:
        return False
    return True


def has_pending(conn: Connection) -> bool:
    """Whether any file waits for the pipeline (one index probe, however many wait)."""
    row = conn.execute(
        "SELECT 1 FROM assets WHERE status = 'processing' AND deleted_at IS NULL LIMIT 1"
    ).fetchone()
    return row is not None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or [])
