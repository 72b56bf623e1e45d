"""Accounts, sign-in and credentials: who a request comes from.

A browser signs in with a name and password and gets a session (a random token in an HttpOnly
cookie, its hash in `sessions`); a script uses an API token (`Authorization: Bearer`), scoped
read or write. Both resolve to a `Viewer` on every request, by one indexed lookup that also
refuses disabled users, so logging out, disabling a user or revoking a token takes effect on
the next request.

The first admin claims the placeholder owner row (domain.access.LOCAL_OWNER_ID): what was
indexed before accounts existed, and every library added from the command line, is theirs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.db.models import ApiToken, User
from trove.domain.access import Role, TokenScope, Viewer
from trove.repositories._sql import utcnow
from trove.repositories.users import UserRepository
from trove.services.credentials import (
    TOKEN_PREFIX,
    LoginThrottle,
    hash_password,
    new_secret,
    password_matches,
    secret_hash,
)
from trove.services.errors import Conflict, Invalid, NotFound, TooManyAttempts, Unauthorized

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# A token's last use is written at most this often, not on every request it authenticates.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """A new browser session: the cookie's value and how long it lasts."""

    token: str
    max_age: int
    user: dict[str, Any]


class UserService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.throttle = LoginThrottle()

    @classmethod
    def open(cls, settings: Settings) -> UserService:
        """For a CLI command: the schema made current and the database opened."""
        from trove.db.migrate import ensure_schema

        ensure_schema(settings.resolved_database_url)
        return cls(settings, Database(settings.resolved_database_url))

    # --- accounts ------------------------------------------------------------------------------

    def add_user(self, name: str, password: str, *, admin: bool = False) -> dict[str, Any]:
        """A new account. The first admin becomes the owner of everything indexed so far."""
        return self._add(name, password, admin=admin, first=False)

    def _add(self, name: str, password: str, *, admin: bool, first: bool) -> dict[str, Any]:
        _check_name(name)
        _check_password(password)
        password_hash = hash_password(password)
        with self.database.session() as session:
            users = UserRepository(session)
            if first and users.any_with_password():
                raise Conflict("Trove is set up already; sign in instead")
            existing = users.by_name(name)
            if existing is not None and (existing.password_hash is not None or not admin):
                raise Conflict(f"a user named {name!r} exists already")
            user = None
            if admin:
                user = users.claim_local_owner(name=name, password_hash=password_hash)
            if user is None and first:
                raise Conflict("Trove is set up already; sign in instead")
            if user is None:
                user = users.add(name=name, password_hash=password_hash, is_admin=admin)
            return _user_out(user)

    def needs_setup(self) -> bool:
        """No one can sign in yet: the set-up page may create the first admin."""
        with self.database.session() as session:
            return not UserRepository(session).any_with_password()

    def set_up(self, name: str, password: str, *, client: str) -> SignedIn:
        """The set-up page's one action, only while no one can sign in: the first admin,
        signed in at once."""
        self._add(name, password, admin=True, first=True)
        return self.sign_in(name, password, client=client)

    def list_users(self) -> list[dict[str, Any]]:
        with self.database.session() as session:
            return [_user_out(u) for u in UserRepository(session).all() if u.password_hash]

    def set_password(self, name: str, password: str) -> None:
        """A new password; the user's browser sessions end (tokens stay)."""
        _check_password(password)
        password_hash = hash_password(password)
        with self.database.session() as session:
            users = UserRepository(session)
            user = _named(users, name)
            users.set_password(user.id, password_hash)
            users.delete_sessions_of(user.id)

    def set_disabled(self, name: str, *, disabled: bool) -> None:
        """A disabled user's sessions end and their tokens stop working (until enabled)."""
        with self.database.session() as session:
            users = UserRepository(session)
            user = _named(users, name)
            users.set_disabled(user.id, at=utcnow() if disabled else None)
            if disabled:
                users.delete_sessions_of(user.id)

    # --- sign-in -------------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, *, client: str) -> SignedIn:
        """A new session for a right name and password; refused (401) otherwise, and (429)
        after too many failures from this address for this name."""
        wait = self.throttle.retry_after(name, client)
        if wait:
            raise TooManyAttempts(
                f"too many failed sign-ins; try again in {wait} s", retry_after=wait
            )
        with self.database.session() as session:
            users = UserRepository(session)
            user = users.by_name(name)
            valid = password_matches(user.password_hash if user else None, password)
            if user is None or not valid or user.disabled_at is not None:
                self.throttle.failed(name, client)
                # One line per failure, for fail2ban and the like (never the password).
                log.warning("failed sign-in for %r from %s", name[:64], client)
                raise Unauthorized("wrong user name or password")
            self.throttle.succeeded(name, client)
            token = new_secret()
            lifetime = timedelta(days=self.settings.session_days)
            now = utcnow()
            users.delete_expired_sessions(now=now)
            users.add_session(
                user_id=user.id, token_hash=secret_hash(token), expires_at=now + lifetime
            )
            return SignedIn(token, int(lifetime.total_seconds()), _user_out(user))

    def sign_out(self, session_token: str) -> None:
        with self.database.session() as session:
            UserRepository(session).delete_session(secret_hash(session_token))

    def viewer_for_session(self, session_token: str) -> Viewer | None:
        """The signed-in user of a browser session, or None (unknown, expired, disabled)."""
        with self.database.session() as session:
            user = UserRepository(session).user_of_session(secret_hash(session_token), now=utcnow())
            return _viewer(user, can_write=True) if user is not None else None

    def viewer_for_token(self, api_token: str) -> Viewer | None:
        """The user of an API token (writes only with a write-scoped one), or None."""
        with self.database.session() as session:
            users = UserRepository(session)
            found = users.token_with_user(secret_hash(api_token))
            if found is None:
                return None
            token, user = found
            now = utcnow()
            if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
                users.touch_token(token.id, at=now)
            return _viewer(user, can_write=token.scope == TokenScope.WRITE)

    # --- API tokens ----------------------------------------------------------------------------

    def create_token(
        self, user_name: str, *, scope: TokenScope = TokenScope.READ, name: str = ""
    ) -> tuple[str, dict[str, Any]]:
        """A new API token for a user: (the secret, shown this once; its record)."""
        secret = new_secret(prefix=TOKEN_PREFIX)
        label = name.strip()[:200] or f"{scope} token"
        with self.database.session() as session:
            users = UserRepository(session)
            user = _named(users, user_name)
            token = users.add_token(
                user_id=user.id, name=label, token_hash=secret_hash(secret), scope=scope
            )
            return secret, _token_out(token, user.name)

    def list_tokens(self, *, viewer: Viewer, every_user: bool = False) -> list[dict[str, Any]]:
        """The viewer's tokens (an admin may ask for everyone's)."""
        owner = None if (every_user and viewer.is_admin) else viewer.user_id
        with self.database.session() as session:
            return [_token_out(t, n) for t, n in UserRepository(session).tokens_of(owner)]

    def revoke_token(self, token_id: str, *, viewer: Viewer) -> None:
        """Revoke one of the viewer's tokens (an admin: anyone's)."""
        owner = None if viewer.is_admin else viewer.user_id
        with self.database.session() as session:
            if not UserRepository(session).revoke_token(token_id, user_id=owner, at=utcnow()):
                raise NotFound(f"no active API token {token_id}")


def _named(users: UserRepository, name: str) -> User:
    user = users.by_name(name)
    if user is None or user.password_hash is None:
        raise NotFound(f"no user named {name!r}")
    return user


def _viewer(user: User, *, can_write: bool) -> Viewer:
    return Viewer(user_id=user.id, is_admin=user.is_admin, can_write=can_write, name=user.name)


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise Invalid(
            "a user name is 1 to 64 letters, digits or . _ @ - (starting with a letter or digit)"
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise Invalid("a password may be at most 1024 characters")


def _user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": Role.ADMIN if user.is_admin else Role.MEMBER,
        "disabled": user.disabled_at is not None,
        "created_at": user.created_at,
    }


def _token_out(token: ApiToken, user_name: str) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "user": user_name,
        "scope": token.scope,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked": token.revoked_at is not None,
    }
