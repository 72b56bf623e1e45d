"""Engine and sessions. Synchronous SQLAlchemy: see docs/decisions.md for why."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and pick the installed driver (psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str) -> Engine:
    database = url.split("///", 1)[1] if "///" in url else ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": BUSY_TIMEOUT_S,
            "factory": _GatedConnection,
        },
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


BUSY_TIMEOUT_S = 30

# temp_store=MEMORY: an INSERT into `assets` (13 indexes, counter triggers) journals ~19 pages
# per row for its statement, past SQLite's 64 KiB in-memory spill, so every row wrote them to a
# temporary file: ~40 pwrite calls a row, 1.4 of 3.0 CPU s for 20,000 bulk inserts here.
# cache_size 16 MiB (SQLite's default is 2 MiB): the indexes of `assets` ordered by time or
# type take rows all over their pages, and with 2 MiB each batch read them back from the OS
# (20,000 inserts: 2.2 -> 1.9 CPU s, system time halved; 64 MiB did no better). A page cache
# grows only as pages are read, and lives as long as its pooled connection.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-16384",
)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# SQLite lets one connection write at a time. A writer that finds the database locked sleeps in
# SQLite's busy handler (1, 2, 5, 10 ... 100 ms) and tries again, however soon the lock is
# released: with a scan registering files and two pipeline threads committing batches, the
# threads of one `trove scan` slept ~2-3 s each per 20,000 small files. Within a process the
# writers of a database file therefore queue on a gate of their own, taken where pysqlite opens
# a write transaction (its first INSERT, UPDATE, DELETE or REPLACE) and given back when that
# transaction ends: the next writer starts the moment the last one commits. Other processes
# still meet the busy handler; so does a writer that waits longer than the busy timeout, or
# whose own thread holds the gate through another connection.
_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class _WriteGate:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owner: int | None = None


_gates: dict[str, _WriteGate] = {}
_gates_lock = threading.Lock()


def _gate_for(database: Any) -> _WriteGate:
    name = os.fspath(database)
    key = name if name == ":memory:" or name.startswith("file:") else os.path.realpath(name)
    with _gates_lock:
        return _gates.setdefault(key, _WriteGate())


class _GatedConnection(sqlite3.Connection):
    _holds_gate = False

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._gate = _gate_for(database)

    # typeshed declares `cursor` overloaded on the factory's type; this one only defaults it.
    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or _GatedCursor)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._open_gate_unless_writing()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._open_gate_unless_writing()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._open_gate()

    def _wait_for_gate(self, statement: str) -> None:
        if self._holds_gate or self.in_transaction:
            return
        if statement.lstrip()[:7].upper().startswith(_DML):
            me = threading.get_ident()
            if self._gate.owner != me and self._gate.lock.acquire(timeout=BUSY_TIMEOUT_S):
                self._gate.owner, self._holds_gate = me, True

    def _open_gate_unless_writing(self) -> None:
        if self._holds_gate and not self.in_transaction:
            self._open_gate()

    def _open_gate(self) -> None:
        if self._holds_gate:
            self._holds_gate, self._gate.owner = False, None
            self._gate.lock.release()


class _GatedCursor(sqlite3.Cursor):
    connection: _GatedConnection

    def execute(self, sql: str, parameters: Any = (), /) -> _GatedCursor:
        self.connection._wait_for_gate(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection._open_gate_unless_writing()

    def executemany(self, sql: str, parameters: Any, /) -> _GatedCursor:
        self.connection._wait_for_gate(sql)
        try:
            return super().executemany(sql, parameters)
        finally:
            self.connection._open_gate_unless_writing()
