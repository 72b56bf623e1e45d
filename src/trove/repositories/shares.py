"""Share links: rows of `shares`, found by id (their creator's list) or by token (a holder)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from trove.db.models import Share, User
from trove.repositories._sql import utcnow


class ShareRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        token: str,
        asset_id: str,
        is_album: bool,
        created_by: str,
        expires_at: datetime | None,
        password_hash: str | None,
        allow_download: bool,
    ) -> Share:
        share = Share(
            token=token,
            asset_id=asset_id,
            is_album=is_album,
            created_by=created_by,
            created_at=utcnow(),
            expires_at=expires_at,
            password_hash=password_hash,
            allow_download=allow_download,
            view_count=0,
        )
        self.session.add(share)
        self.session.flush()
        return share

    def get(self, share_id: str) -> Share | None:
        return self.session.get(Share, share_id)

    def by_token(self, token: str) -> Share | None:
        return self.session.scalar(select(Share).where(Share.token == token))

    def created_by(self, user_id: str | None) -> list[Share]:
        """A user's shares, newest first (None: every share, for an admin)."""
        stmt = select(Share).order_by(Share.created_at.desc(), Share.id.desc())
        if user_id is not None:
            stmt = stmt.where(Share.created_by == user_id)
        return list(self.session.scalars(stmt))

    def count_view(self, share_id: str) -> None:
        """One more view, as one UPDATE (two holders opening it at once both count)."""
        self.session.execute(
            update(Share).where(Share.id == share_id).values(view_count=Share.view_count + 1)
        )

    def open_links(self, asset_ids: Sequence[str], *, created_by: str | None) -> dict[str, Share]:
        """Per asset, a live share of it alone that anyone may open: no password, not revoked,
        not expired, not made by an account disabled since; one allowing downloads first, then
        the newest. Only `created_by`'s (None: anyone's, for an admin)."""
        now = utcnow()
        stmt = (
            select(Share)
            .join(User, User.id == Share.created_by)
            .where(
                User.disabled_at.is_(None),
                Share.asset_id.in_(list(asset_ids)),
                Share.is_album.is_(False),
                Share.password_hash.is_(None),
                Share.revoked_at.is_(None),
                or_(Share.expires_at.is_(None), Share.expires_at > now),
            )
            .order_by(Share.allow_download.desc(), Share.created_at.desc(), Share.id.desc())
        )
        if created_by is not None:
            stmt = stmt.where(Share.created_by == created_by)
        found: dict[str, Share] = {}
        for share in self.session.scalars(stmt):
            found.setdefault(share.asset_id, share)
        return found
