"""Accounts and their credentials: users, browser sessions, API tokens.

Credentials are looked up by the SHA-256 of the secret (the secret itself is never stored), in
one query joined with the user, so a disabled user's session or token is refused by the same
lookup that finds it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from trove.db.models import ApiToken, LoginSession, User
from trove.domain.access import LOCAL_OWNER_ID
from trove.domain.ids import new_id
from trove.repositories._sql import rowcount, utcnow


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- users ---------------------------------------------------------------------------------

    def get(self, user_id: str) -> User | None:
        return self.session.get(User, user_id)

    def by_name(self, name: str) -> User | None:
        return self.session.scalar(select(User).where(func.lower(User.name) == name.lower()))

    def all(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.created_at, User.name)))

    def any_with_password(self) -> bool:
        found = select(User.id).where(User.password_hash.is_not(None)).limit(1)
        return self.session.scalar(found) is not None

    def add(self, *, name: str, password_hash: str, is_admin: bool) -> User:
        user = User(
            id=new_id(),
            name=name,
            password_hash=password_hash,
            is_admin=is_admin,
            created_at=utcnow(),
        )
        self.session.add(user)
        self.session.flush()
        return user

    def claim_local_owner(self, *, name: str, password_hash: str) -> User | None:
        """The placeholder owner of everything indexed before accounts existed becomes this
        admin, unless someone claimed it already (then None)."""
        claimed = self.session.execute(
            update(User)
            .where(User.id == LOCAL_OWNER_ID, User.password_hash.is_(None))
            .values(name=name, password_hash=password_hash, is_admin=True, disabled_at=None)
        )
        return self.get(LOCAL_OWNER_ID) if rowcount(claimed) else None

    def set_password(self, user_id: str, password_hash: str) -> None:
        self.session.execute(
            update(User).where(User.id == user_id).values(password_hash=password_hash)
        )

    def set_disabled(self, user_id: str, *, at: datetime | None) -> None:
        self.session.execute(update(User).where(User.id == user_id).values(disabled_at=at))

    # --- sessions ------------------------------------------------------------------------------

    def add_session(self, *, user_id: str, token_hash: str, expires_at: datetime) -> None:
        self.session.add(
            LoginSession(
                id=new_id(),
                user_id=user_id,
                token_hash=token_hash,
                created_at=utcnow(),
                expires_at=expires_at,
            )
        )

    def user_of_session(self, token_hash: str, *, now: datetime) -> User | None:
        """The enabled user of a session that has not expired."""
        return self.session.scalar(
            select(User)
            .join(LoginSession, LoginSession.user_id == User.id)
            .where(
                LoginSession.token_hash == token_hash,
                LoginSession.expires_at > now,
                User.disabled_at.is_(None),
            )
        )

    def delete_session(self, token_hash: str) -> None:
        self.session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))

    def delete_sessions_of(self, user_id: str) -> None:
        self.session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))

    def delete_expired_sessions(self, *, now: datetime) -> None:
        self.session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))

    # --- API tokens ----------------------------------------------------------------------------

    def add_token(self, *, user_id: str, name: str, token_hash: str, scope: str) -> ApiToken:
        token = ApiToken(
            id=new_id(),
            user_id=user_id,
            name=name,
            token_hash=token_hash,
            scope=scope,
            created_at=utcnow(),
        )
        self.session.add(token)
        self.session.flush()
        return token

    def token_with_user(self, token_hash: str) -> tuple[ApiToken, User] | None:
        """A token that is not revoked, with its enabled user."""
        row = self.session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == token_hash,
                ApiToken.revoked_at.is_(None),
                User.disabled_at.is_(None),
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    def touch_token(self, token_id: str, *, at: datetime) -> None:
        self.session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at)
        )

    def tokens_of(self, user_id: str | None) -> list[tuple[ApiToken, str]]:
        """Tokens with their user's name, newest first; every user's when `user_id` is None."""
        query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        rows = self.session.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.id))
        return [(token, name) for token, name in rows]

    def revoke_token(self, token_id: str, *, user_id: str | None, at: datetime) -> bool:
        """Revoke a token (only one of `user_id`'s unless None); False when there is none."""
        query = update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        return rowcount(self.session.execute(query.values(revoked_at=at))) > 0
