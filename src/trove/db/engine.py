"""Engine and sessions. Synchronous SQLAlchemy: see docs/decisions.md for why."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
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
# The page size of a new index (SQLite's default is 4 KiB; an existing index keeps its own):
# a file's row with its words and metadata is 1-2 KiB, and with 4 KiB pages 20,000 text files'
# rows took 9 % more pages and 1.4x the commit time, and their scan ~4 % more CPU in all
# (interleaved runs). Set before anything is written: in WAL mode the page size is fixed.
PAGE_SIZE_PRAGMA = "PRAGMA page_size=8192"
SQLITE_PRAGMAS = (
    PAGE_SIZE_PRAGMA,
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
# threads of one `trove scan` slept ~2-3 s each per 20,000 small files. The writers of a
# database file therefore queue on a gate of their own, taken where pysqlite opens a write
# transaction (its first INSERT, UPDATE, DELETE or REPLACE) and given back when that
# transaction ends: the next writer starts the moment the last one commits. Threads of a
# process queue on a lock; processes (the pipeline's worker processes, `trove serve` beside a
# `trove scan`) on an flock of a file beside the database, polled every few milliseconds. A
# writer that waits longer than the busy timeout, or whose own thread holds the gate through
# another connection, meets the busy handler as before; so does everything where the gate file
# cannot be made (a read-only directory, a file system without locks).
_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# How long a process waiting for another's write sleeps between tries, at most.
_GATE_POLL_MAX_S = 0.004


class _WriteGate:
    def __init__(self, gate_file: str | None) -> None:
        self.lock = threading.Lock()
        self.owner: int | None = None
        self._gate_file = gate_file
        self._fd: int | None = None

    def acquire(self, *, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.lock.acquire(timeout=timeout):
            return False
        try:
            if self._lock_file(deadline):
                return True
        except BaseException:  # Ctrl-C while polling: the lock is not left taken
            self.lock.release()
            raise
        self.lock.release()
        return False

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self.lock.release()

    def _lock_file(self, deadline: float) -> bool:
        """The other processes' side of the gate (this thread holds the lock)."""
        fd = self._file()
        if fd is None:
            return True
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, _GATE_POLL_MAX_S)
            except OSError:  # no locks on this file system: SQLite's own locking only
                os.close(fd)
                self._fd = self._gate_file = None
                return True

    def _file(self) -> int | None:
        if self._fd is None and self._gate_file is not None:
            try:
                self._fd = os.open(self._gate_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                self._gate_file = None
        return self._fd


_gates: dict[str, _WriteGate] = {}
_gates_lock = threading.Lock()


def _forget_gates() -> None:
    """In a forked child, which shares its parent's open gate files (and so their locks), and
    may have been forked while another thread held a lock: its own gates, made anew."""
    global _gates_lock
    _gates_lock = threading.Lock()
    _gates.clear()


os.register_at_fork(after_in_child=_forget_gates)


def _gate_for(database: Any) -> _WriteGate:
    name = os.fspath(database)
    in_memory = name == ":memory:" or name.startswith("file:")
    key = name if in_memory else os.path.realpath(name)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = _WriteGate(None if in_memory else f"{key}-writer")
        return gate


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
            if self._gate.owner != me and self._gate.acquire(timeout=BUSY_TIMEOUT_S):
                self._gate.owner, self._holds_gate = me, True

    def _open_gate_unless_writing(self) -> None:
        if self._holds_gate and not self.in_transaction:
            self._open_gate()

    def _open_gate(self) -> None:
        if self._holds_gate:
            self._holds_gate, self._gate.owner = False, None
            self._gate.release()


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
