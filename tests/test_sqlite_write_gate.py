"""SQLite writers, of one process or of several, queue on the write gate (db/engine.py)
instead of sleeping in SQLite's busy handler: the gate is taken by a write transaction's first
DML statement and given back however the transaction ends, so a second writer goes on as soon
as the first commits, and nothing is left holding it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from trove.db import engine as engine_module
from trove.db.engine import make_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with made.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
    yield made
    made.dispose()


def gate_held() -> bool:
    return any(gate.lock.locked() for gate in engine_module._gates.values())


def test_a_write_transaction_holds_the_gate_until_it_commits(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM t"))
        assert not gate_held()  # reading takes no gate
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert gate_held()
        connection.execute(text("INSERT INTO t VALUES (2)"))
        connection.commit()
        assert not gate_held()


def test_rollback_a_failed_statement_and_close_give_the_gate_back(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.rollback()
        assert not gate_held()
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.commit()
        with pytest.raises(IntegrityError):
            connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.rollback()
        assert not gate_held()
    with engine.connect() as connection:
        connection.execute(text("INSERT INTO t VALUES (2)"))
        assert gate_held()
    assert not gate_held()  # returned to the pool: rolled back
    raw = engine.raw_connection()
    raw.cursor().execute("INSERT INTO t VALUES (3)")
    assert gate_held()
    raw.dbapi_connection.close()  # type: ignore[union-attr]
    assert not gate_held()
    raw.invalidate()


def test_a_second_writer_waits_on_the_gate_and_writes_once_the_first_commits(
    engine: Engine,
) -> None:
    events: list[str] = []
    first_wrote, second_started = threading.Event(), threading.Event()

    def first() -> None:
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            first_wrote.set()
            second_started.wait(5)
            time.sleep(0.2)  # the second writer is queued on the gate meanwhile
            events.append("first commits")
            connection.commit()

    def second() -> None:
        first_wrote.wait(5)
        with engine.connect() as connection:
            second_started.set()
            connection.execute(text("INSERT INTO t VALUES (2)"))
            events.append("second wrote")
            connection.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert events == ["first commits", "second wrote"]
    assert not gate_held()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_thread_writing_through_two_connections_does_not_wait_on_itself(
    engine: Engine,
) -> None:
    """The second connection goes on to SQLite's own lock and its busy timeout, as it would
    without the gate, instead of waiting for a gate its own thread holds."""
    with engine.connect() as outer, engine.connect() as inner:
        inner.exec_driver_sql("PRAGMA busy_timeout=100")
        outer.execute(text("INSERT INTO t VALUES (1)"))
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            inner.execute(text("INSERT INTO t VALUES (2)"))
        assert time.monotonic() - started < 5
        inner.rollback()
        outer.commit()
    assert not gate_held()


def test_each_database_file_has_a_gate_of_its_own(engine: Engine, tmp_path: Path) -> None:
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    took: list[float] = []

    def write_elsewhere() -> None:
        started = time.monotonic()
        with other.begin() as elsewhere:
            elsewhere.execute(text("CREATE TABLE u (x)"))
            elsewhere.execute(text("INSERT INTO u VALUES (1)"))
        took.append(time.monotonic() - started)

    try:
        with engine.connect() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            thread = threading.Thread(target=write_elsewhere)
            thread.start()
            thread.join(10)
            connection.commit()
    finally:
        other.dispose()
    assert took and took[0] < 5
    assert not gate_held()


def _write_many(database: str, count: int, start: int) -> int:
    """In another process: `count` write transactions, each holding its write lock a moment,
    with SQLite's busy handler off; how many found the database locked."""
    engine = make_engine(f"sqlite:///{database}")
    locked = 0
    try:
        for n in range(start, start + count):
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA busy_timeout=0")
                try:
                    connection.execute(text("INSERT INTO t VALUES (:x)"), {"x": n})
                    time.sleep(0.002)
                    connection.commit()
                except OperationalError:
                    locked += 1
                    connection.rollback()
    finally:
        engine.dispose()
    return locked


def test_writers_of_two_processes_queue_on_the_gate_instead_of_finding_the_database_locked(
    engine: Engine, tmp_path: Path
) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    database = str(tmp_path / "gate.db")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        locked = list(pool.map(_write_many, [database] * 2, [60, 60], [0, 1000]))

    assert locked == [0, 0]  # with the busy handler off, any collision would raise
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 120
