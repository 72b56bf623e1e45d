"""Small dialect helpers shared by the repositories."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    CursorResult,
    Result,
    Table,
    bindparam,
    func,
    literal_column,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp in the index is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def insert_ignoring_conflicts(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Rows keyed by the model's attribute names, inserted through its table, a row that
    would break a unique key being skipped (see insert_rows for how)."""
    insert_rows(session, model.__table__, rows, renamed=_renamed_columns(model), or_ignore=True)


def insert_rows(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    renamed: Mapping[str, str] | None = None,
    or_ignore: bool = False,
    or_update: tuple[Sequence[str], Sequence[str]] | None = None,
) -> None:
    """Insert rows (keyed by column names, or by the attribute names `renamed` maps to them)
    in a few statements per row shape (multi-row VALUES on SQLite, see _insert_values; one
    INSERT ... SELECT FROM unnest on PostgreSQL, see _insert_unnest), in the session's
    transaction. `or_ignore`: a row that would break a unique key is skipped;
    `or_update=(key columns, columns)`: it sets those columns of the row it meets instead
    (an upsert).

    A scan writes ~25 columns for each of its thousands of new files: SQLAlchemy's per-row
    parameter work (compiled-parameter dicts, one bind processor call per value) cost more
    CPU than SQLite's insert itself. Here each value goes through the same bind processor
    the Core insert would use (a DateTime is stored as the same text, JSON as the same
    document), once per column, into tuples the driver takes as they are. A shape that
    leaves out a column with a Python-side default takes the Core insert, which fills it in.
    """
    if not rows:
        return
    renamed = renamed or {}
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    connection = session.connection()
    dialect = connection.dialect
    for keys, group in shapes.items():
        names = [renamed.get(k, k) for k in keys]
        columns = [table.c[name] for name in names]
        if _defaults_left_out(table, names):
            stmt = _insert_of(dialect.name, table)
            if or_ignore:
                stmt = stmt.on_conflict_do_nothing()
            elif or_update is not None:
                stmt = stmt.on_conflict_do_update(
                    index_elements=list(or_update[0]),
                    set_={c: stmt.excluded[c] for c in or_update[1]},
                )
            session.execute(stmt, [dict(zip(names, row.values(), strict=True)) for row in group])
            continue
        quote = dialect.identifier_preparer.quote
        head = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))})"
        conflict = ""
        if or_ignore:
            conflict = " ON CONFLICT DO NOTHING"
        elif or_update is not None:
            conflict = (
                f" ON CONFLICT ({', '.join(map(quote, or_update[0]))}) DO UPDATE SET "
                + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in or_update[1])
            )
        tuples = _driver_tuples(group, keys, columns, dialect)
        if dialect.name == "postgresql":
            _insert_unnest(connection, head, conflict, tuples, columns, or_update=or_update)
        else:
            _insert_values(connection, head, conflict, tuples)


# Rows in one SQLite INSERT or UPDATE, within the bound values a statement may hold (32,766
# since SQLite 3.32; Trove needs 3.35 for RETURNING, and UPDATE ... FROM came in 3.33). 500
# cost no less CPU than 100, and the statements the driver caches made a scan's process
# 30 MB larger.
SQLITE_ROWS_PER_STATEMENT = 100
SQLITE_MAX_VARIABLES = 32_766


def _insert_values(
    connection: Any, head: str, conflict: str, tuples: list[tuple[Any, ...]]
) -> None:
    """SQLite: the rows in multi-row VALUES statements. executemany runs a statement a row,
    and a statement on a table with triggers (the maintained counters) keeps a statement
    journal: each page it changes, of the table and of each index, is copied first, once a
    statement. Row by row that was most of an insert's cost: 19 us a step record against 6,
    73 us a new file's row against 38 (the same rows, 1,000 a transaction, 100-500 a
    statement). Rows of one statement are inserted in order, a conflict with an earlier row
    of the same statement handled as executemany's later statement would."""
    for values, parameters in _in_statements(tuples):
        connection.exec_driver_sql(f"{head} VALUES {values}{conflict}", parameters)


def _in_statements(tuples: list[tuple[Any, ...]]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The rows a SQLite statement at a time: its VALUES list of `?` and its parameters."""
    width = len(tuples[0])
    per = max(1, min(SQLITE_ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES // width))
    row = f"({', '.join('?' * width)})"
    for start in range(0, len(tuples), per):
        part = tuples[start : start + per]
        yield ", ".join([row] * len(part)), tuple(itertools.chain.from_iterable(part))


def _insert_unnest(
    connection: Any,
    head: str,
    conflict: str,
    tuples: list[tuple[Any, ...]],
    columns: list[Column[Any]],
    *,
    or_update: tuple[Sequence[str], Sequence[str]] | None,
) -> None:
    """PostgreSQL: the rows as one array per column, in one INSERT ... SELECT FROM unnest.
    psycopg's executemany sends a statement per row (pipeline mode batches the round trips,
    not the statements), each with its own executor start and end on the server; 3 outcomes
    for each of 20,000 small files cost 8.4-8.6 CPU s (process + backend) that way and
    5.0-5.9 this way (bench/outcomes.py). An upsert may not meet the same key twice in one
    statement: the last row of each key is kept, as executemany's later statement won."""
    if or_update is not None:
        names = [c.name for c in columns]
        at = [names.index(k) for k in or_update[0]]
        tuples = list({tuple(t[i] for i in at): t for t in tuples}.values())
    arrays = ", ".join(f"%s::{_array_element_type(c, connection.dialect)}[]" for c in columns)
    connection.exec_driver_sql(
        f"{head} SELECT * FROM unnest({arrays}){conflict}",
        tuple(map(list, zip(*tuples, strict=True))),
    )


def _array_element_type(column: Column[Any], dialect: Any) -> str:
    """The column's type as an array's element type: a collation (`TEXT COLLATE "C"`) is
    no part of it there, and the column applies its own when the row is stored."""
    return _COLLATE.sub("", str(column.type.compile(dialect=dialect)))


_COLLATE = re.compile(r' COLLATE "[^"]*"')


def update_rows(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    renamed: Mapping[str, str] | None = None,
) -> None:
    """UPDATE by primary key `id`: each row sets its other keys (attribute names, `renamed`
    as in insert_rows), a few statements per row shape (UPDATE ... FROM VALUES on SQLite, see
    _update_values; one UPDATE ... FROM unnest on PostgreSQL, see _update_unnest). A row
    whose id is gone changes nothing. Why the driver: see insert_rows (the pipeline updates
    thousands of small files' status and metadata a batch)."""
    if not rows:
        return
    renamed = renamed or {}
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(k for k in row if k != "id"), []).append(row)
    connection = session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    for keys, group in shapes.items():
        if not keys:
            continue
        names = [renamed.get(k, k) for k in keys]
        columns = [table.c[name] for name in (*names, "id")]
        tuples = _driver_tuples(group, (*keys, "id"), columns, dialect)
        if dialect.name == "postgresql":
            _update_unnest(connection, quote(table.name), tuples, columns)
            continue
        _update_values(connection, quote(table.name), [quote(name) for name in names], tuples)


def _update_values(
    connection: Any, table: str, names: list[str], tuples: list[tuple[Any, ...]]
) -> None:
    """SQLite: the rows (the key last) in UPDATE ... FROM (VALUES ...) statements, for the
    reason _insert_values gives: 14 us a file's status and metadata against 24-38 row by row.
    One statement updates a row once, with whichever of its rows it meets: the last row of
    each id is kept, as executemany's later statement won."""
    sets = ", ".join(f"{name} = v.column{i}" for i, name in enumerate(names, start=1))
    key = f"v.column{len(names) + 1}"
    for values, parameters in _in_statements(list({t[-1]: t for t in tuples}.values())):
        connection.exec_driver_sql(
            f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS v WHERE {table}.id = {key}",
            parameters,
        )


def _update_unnest(
    connection: Any, table: str, tuples: list[tuple[Any, ...]], columns: list[Column[Any]]
) -> None:
    """PostgreSQL: the rows as one array per column (the key last), in one UPDATE ... FROM
    unnest, for the reason _insert_unnest gives (executemany sends a statement per row).
    One statement updates a row once, with whichever of its batch's rows it meets: the last
    row of each id is kept, as executemany's later statement won."""
    tuples = list({t[-1]: t for t in tuples}.values())
    quote = connection.dialect.identifier_preparer.quote
    names = [quote(c.name) for c in columns]
    key = names[-1]
    arrays = ", ".join(f"%s::{_array_element_type(c, connection.dialect)}[]" for c in columns)
    connection.exec_driver_sql(
        f"UPDATE {table} SET {', '.join(f'{n} = v.{n}' for n in names[:-1])}"
        f" FROM unnest({arrays}) AS v({', '.join(names)}) WHERE {table}.{key} = v.{key}",
        tuple(map(list, zip(*tuples, strict=True))),
    )


def _driver_tuples(
    group: list[dict[str, Any]], keys: Sequence[str], columns: list[Column[Any]], dialect: Any
) -> list[tuple[Any, ...]]:
    """The rows as the driver's parameter tuples, through each column's bind processor
    (looked up once per column, not once per value)."""
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    values = [
        list(map(itemgetter(key), group))
        if process is None
        else _processed(process, map(itemgetter(key), group))
        for key, process in zip(keys, processors, strict=True)
    ]
    return list(zip(*values, strict=True))


def _processed(process: Any, values: Iterable[Any]) -> list[Any]:
    """Each value through `process`, once for a run of the same object: the rows of a batch
    share their timestamp (`now`), whose formatting as SQLite text cost more than the rest of
    its parameter work."""
    out: list[Any] = []
    last: Any = _NOTHING
    done: Any = None
    for value in values:
        if value is not last:
            last, done = value, process(value)
        out.append(done)
    return out


_NOTHING = object()


def _defaults_left_out(table: Table, names: list[str]) -> bool:
    present = set(names)
    return any(c.default is not None and c.name not in present for c in table.columns)


def _insert_of(dialect: str, table: Any) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


@functools.cache
def _renamed_columns(model: Any) -> dict[str, str]:
    """The model's attributes whose column has another name (`meta` -> `metadata`)."""
    mapper = sa_inspect(model)
    return {
        prop.key: prop.columns[0].name
        for prop in mapper.column_attrs
        if prop.columns[0].name != prop.key
    }


def insert_if_absent(session: Session, model: Any, row: dict[str, Any]) -> bool:
    """Insert `row` unless a row with the same unique key exists; True when this call added it.

    The get-or-create that holds under concurrency on both databases: a writer that loses the
    race waits for the winner's commit and inserts nothing (no IntegrityError, no rolled-back
    transaction), and a SELECT afterwards sees the winner's row.
    """
    # RETURNING, not rowcount: psycopg reports -1 rows for INSERT ... ON CONFLICT.
    stmt = _dialect_insert(session, model).values(row).on_conflict_do_nothing()
    return session.execute(stmt.returning(literal_column("1"))).first() is not None


def _dialect_insert(session: Session, model: Any) -> Any:
    return _insert_of(session.get_bind().dialect.name, model)


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (Session.execute types its result as a plain
    Result; for DML it is the CursorResult that carries the count)."""
    return int(cast(CursorResult[Any], result).rowcount)


def expanding(params: dict[str, Any]) -> list[BindParameter[Any]]:
    """Tuple values of a text() statement's parameters bound as `IN :name` lists."""
    return [bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, tuple)]


def usually_true(session: Session, clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """`clause`, marked as true of most rows it is asked of, for SQLite's planner.

    Without statistics (the index is never ANALYZEd) SQLite takes an equality on an indexed
    column for more selective than a primary key's IN list: a batch's claim (its 200 ids and
    `status = 'processing'`) walked ix_assets_status over every asset waiting for the
    pipeline, 8-37 ms a batch at 20,000 of them, where the ids' lookups take 0.3 ms.
    PostgreSQL plans from its statistics and is given the clause as it is.
    """
    if session.get_bind().dialect.name == "sqlite":
        return func.likelihood(clause, literal_column("0.9"))  # a constant, as SQLite asks
    return clause


def depth_bounded(sql: str, *, dialect: str) -> str:
    """`BOUND(alias)` in a recursive CTE becomes `alias.depth < :max_depth`.

    On SQLite it is wrapped in likelihood(..., 0.001): the planner cannot tell how many rows
    a CTE holds, and otherwise builds a Bloom filter over the whole links table for each
    recursive step (60 ms at 100k links instead of 0.1 ms for a walk of three nodes).
    """
    template = (
        r"likelihood(\1.depth < :max_depth, 0.001)"
        if dialect == "sqlite"
        else (r"\1.depth < :max_depth")
    )
    return _BOUND.sub(template, sql)


_BOUND = re.compile(r"BOUND\((\w+)\)")
