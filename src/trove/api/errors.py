"""Every error leaves as JSON `{"detail": "..."}` with a fitting status, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import DataError

from trove.api.deps import SignInRequired
from trove.domain.queries import InvalidQuery
from trove.services.errors import (
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    TooLarge,
    TooManyAttempts,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger(__name__)

STATUS_OF: dict[type[Exception], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    Invalid: 422,
    InvalidQuery: 422,
    TooLarge: 413,
    Unavailable: 503,
}


def install_error_handlers(app: FastAPI) -> None:
    for exc_type, status in STATUS_OF.items():
        app.add_exception_handler(exc_type, _plain(status))
    app.add_exception_handler(TooManyAttempts, _too_many_attempts)
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(Exception, _unexpected)


def _plain(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handler


async def _too_many_attempts(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyAttempts)
    headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse({"detail": str(exc)}, status_code=429, headers=headers)


async def _to_sign_in(_request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/login?next={quote(exc.target, safe='/')}", status_code=303)


async def _unstorable(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database will not store or compare (PostgreSQL refuses a NUL character in
    text; a number out of its column's range): the request's content, not a server fault."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return JSONResponse({"detail": f"a value cannot be stored: {reason}"}, status_code=422)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return JSONResponse(
        {"detail": "; ".join(str(p) for p in problems) or "invalid request"}, status_code=422
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)
