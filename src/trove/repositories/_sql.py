"""Small dialect helpers shared by the repositories."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import BindParameter, CursorResult, Result, bindparam, literal_column
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp in the index is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def insert_ignoring_conflicts(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Rows keyed by the model's attribute names, inserted through its table (a Core
    executemany per row shape: the ORM's bulk path costs more than the insert itself for a
    scan's thousands of small rows)."""
    if not rows:
        return
    table = model.__table__
    renamed = _renamed_columns(model)
    shapes: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(frozenset(row), []).append(row)
    stmt = _dialect_insert(session, table).on_conflict_do_nothing()
    for keys, group in shapes.items():
        if not renamed.keys().isdisjoint(keys):
            group = [{renamed.get(k, k): v for k, v in row.items()} for row in group]
        session.execute(stmt, group)


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
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (Session.execute types its result as a plain
    Result; for DML it is the CursorResult that carries the count)."""
    return int(cast(CursorResult[Any], result).rowcount)


def expanding(params: dict[str, Any]) -> list[BindParameter[Any]]:
    """Tuple values of a text() statement's parameters bound as `IN :name` lists."""
    return [bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, tuple)]


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
