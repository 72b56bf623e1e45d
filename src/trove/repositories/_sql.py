"""Small dialect helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import BindParameter, CursorResult, Result, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp in the index is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def insert_ignoring_conflicts(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    session.execute(module.insert(model).on_conflict_do_nothing(), rows)


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (Session.execute types its result as a plain
    Result; for DML it is the CursorResult that carries the count)."""
    return int(cast(CursorResult[Any], result).rowcount)


def expanding(params: dict[str, Any]) -> list[BindParameter[Any]]:
    """Tuple values of a text() statement's parameters bound as `IN :name` lists."""
    return [bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, tuple)]
