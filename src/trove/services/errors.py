"""Errors services raise for callers to map (HTTP status, CLI exit code, UI message)."""

from typing import Any


class NotFound(Exception):
    """No such asset, root or resource (or it is hidden from this caller)."""


class Conflict(Exception):
    """The request cannot be applied to the resource in its current state."""


class Invalid(ValueError):
    """The request's content is not acceptable; the message says what to change."""


class Unavailable(Exception):
    """The resource exists but cannot be reached right now (offline root, missing file)."""


class TooLarge(Exception):
    """An upload is over the configured limit."""


class Forbidden(Exception):
    """The request is well-formed but this server's settings do not allow it."""


class Unauthorized(Exception):
    """No valid credential, or a wrong user name or password."""


class TooManyAttempts(Exception):
    """Too many failed sign-ins from this address for this name; try again later."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Gone(Exception):
    """It existed and no longer does on purpose (a revoked or expired share link)."""


class RelocationOffered(Conflict):
    """The folder being added holds the files of a library whose folder is gone
    (services/relocation.py): relocate that library or add the folder as a new one."""

    def __init__(self, offer: dict[str, Any]) -> None:
        self.offer = offer
        super().__init__(
            f"{offer['new_path']} holds the files of library {offer['name']!r} (was at "
            f"{offer['old_path']}, {offer['matched']} of {offer['sampled']} sampled files "
            f"match): relocate that library here to keep its tags and albums "
            f"(`trove roots relocate {offer['old_path']} {offer['new_path']}`), or add it "
            "as a new library (`trove scan --as-new`; `as_new` through the API)"
        )


class ScanStopped(KeyboardInterrupt):
    """A scan stopped where it was asked to (LibraryService.scan_and_process's `stop`): for
    the CLI, Ctrl-C taken at a safe point (it exits as on any Ctrl-C); for the server, its
    shutdown."""
