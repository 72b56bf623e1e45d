"""Errors a user can act on, as one line of text (never a stack trace)."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator

# SQLite says "database or disk is full" (SQLITE_FULL); PostgreSQL's SQLSTATE for it is 53100.
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"


def user_message(exc: BaseException) -> str | None:
    """A message for errors that are the user's or the environment's, else None (a bug)."""
    from trove.domain.queries import InvalidQuery
    from trove.repositories.fast_index import DatabaseUnreachable
    from trove.services.errors import Conflict, Invalid, NotFound, Unavailable
    from trove.services.scanner import RootUnavailable

    if isinstance(
        exc,
        InvalidQuery
        | RootUnavailable
        | DatabaseUnreachable
        | Invalid
        | NotFound
        | Conflict
        | Unavailable,
    ):
        return str(exc)
    if _is_operational_db_error(exc) or _is_unusable_sqlite_file(exc):
        return f"database error: {str(exc).splitlines()[0]}"
    if is_broker_unreachable(exc):
        return (
            f"the broker (TROVE_BROKER_URL) does not answer: {_root_cause(exc)}; what was"
            " registered waits in the index, and the workers take it once Redis answers"
        )
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    if isinstance(exc, OSError) and exc.filename is not None:  # no such file, a folder ...
        return f"{exc.strerror or exc}: {exc.filename}"
    return None


def _is_operational_db_error(exc: BaseException) -> bool:
    if "sqlalchemy" not in sys.modules:  # not imported: it cannot have raised
        return False
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError)


def _is_unusable_sqlite_file(exc: BaseException) -> bool:
    """SQLite's own word that the index file cannot be used (not a database, malformed, a
    folder in its place), raised by the bare driver or through SQLAlchemy: the environment's
    fault, not a bug (constraint errors, also DatabaseErrors, are subclasses and stay bugs)."""
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None:
        return False
    cause = getattr(exc, "orig", exc)
    return type(cause) in (sqlite3.DatabaseError, sqlite3.OperationalError)


def is_database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be used right now (refused, gone, locked, its
    pool exhausted): the caller should try again later, not report a bug."""
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return _is_operational_db_error(exc) or isinstance(exc, PoolTimeout)


def is_broker_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it: taskiq wraps it) is Redis refusing or dropping the
    connection: it comes back, and the work waits for it in the index."""
    if "redis" not in sys.modules:
        return False
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return any(isinstance(e, RedisConnectionError | RedisTimeoutError) for e in _chain(exc))


def _root_cause(exc: BaseException) -> str:
    """The first line of the innermost error (taskiq's "Cannot send task" says nothing)."""
    *_, inner = _chain(exc)
    return str(inner).splitlines()[0] if str(inner) else type(inner).__name__


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what caused it, outermost first: the driver's error under SQLAlchemy's
    (`orig`), then causes and contexts. The chain is short; a cycle is never followed far."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return
        yield seen
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is a full disk, for the database or for a file."""
    return any(_says_disk_full(e) for e in _chain(exc))


def _says_disk_full(exc: BaseException) -> bool:
    return (
        (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT))
        or getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL
        or getattr(exc, "sqlstate", None) == _PG_DISK_FULL
        or "database or disk is full" in str(exc)
    )
