"""Errors a user can act on, as one line of text (never a stack trace)."""

from __future__ import annotations

import sys


def user_message(exc: BaseException) -> str | None:
    """A message for errors that are the user's or the environment's, else None (a bug)."""
    from trove.domain.queries import InvalidQuery
    from trove.repositories.fast_index import DatabaseUnreachable
    from trove.services.errors import Conflict, Invalid, NotFound
    from trove.services.scanner import RootUnavailable

    if isinstance(
        exc, InvalidQuery | RootUnavailable | DatabaseUnreachable | Invalid | NotFound | Conflict
    ):
        return str(exc)
    if _is_operational_db_error(exc):
        return f"database error: {str(exc).splitlines()[0]}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    return None


def _is_operational_db_error(exc: BaseException) -> bool:
    if "sqlalchemy" not in sys.modules:  # not imported: it cannot have raised
        return False
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError)
