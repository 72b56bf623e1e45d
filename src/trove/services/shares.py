"""ShareService: share links, an unguessable token for one asset or one album (of what an album
includes, a link shows what its sharer may share: domain/access.py).

A holder of the token is not a user: they get `Viewer.share_holder(scope)`, and every read
goes through the same repositories and the same `visible_assets` predicate as anyone's, so a
share reaches exactly its asset, or its album and what the album includes, and nothing else
(no neighbours, no search, no other id: the predicate answers NotFound for them).

A password-protected share is opened with a key: `unlock(token, password)` returns it (the
API also sets it as a cookie). The key is an HMAC of the token under the password's stored
hash, so it needs no table of its own, cannot be made without the password, and stops working
when the share is revoked or deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Share
from trove.domain.access import ShareScope, Viewer
from trove.domain.filters import FILE_TYPES, AssetFilters
from trove.domain.serialize import iso_utc
from trove.repositories._sql import utcnow
from trove.repositories.albums import AlbumRepository
from trove.repositories.assets import AssetRepository
from trove.repositories.shares import ShareRepository
from trove.repositories.users import UserRepository
from trove.services.assets import AssetService, OriginalFile
from trove.services.credentials import LoginThrottle, hash_password, password_matches
from trove.services.errors import (
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    TooManyAttempts,
    Unauthorized,
)

MAX_PASSWORD = 1000
SHARE_PAGE = "/s/"


class ShareService:
    def __init__(self, settings: Settings, database: Database, *, assets: AssetService) -> None:
        self.settings = settings
        self.database = database
        self.asset_service = assets
        self.throttle = LoginThrottle()

    # --- the owner's side ------------------------------------------------------------------

    def create(
        self,
        *,
        viewer: Viewer,
        asset_id: str | None = None,
        album_id: str | None = None,
        expires_at: datetime | None = None,
        password: str | None = None,
        allow_download: bool = False,
    ) -> dict[str, Any]:
        """A new share of one asset or one album that the viewer owns (or, as an admin, any
        they see). NotFound for what they may not see, Forbidden for what they see but do
        not own."""
        if (asset_id is None) == (album_id is None):
            raise Invalid("give exactly one of asset_id and album_id")
        expiry = _expiry(expires_at)
        secret = _password(password)
        with self.database.session() as session:
            target = (
                AlbumRepository(session, viewer=viewer).get(album_id)
                if album_id is not None
                else AssetRepository(session).visible(asset_id or "", viewer=viewer)
            )
            if target is None or target.deleted_at is not None:
                kind = "album" if album_id is not None else "asset"
                raise NotFound(f"no {kind} with id {album_id or asset_id!r}")
            if not viewer.may_manage(target.owner_id) or viewer.user_id is None:
                raise Forbidden("only its owner or an admin may share it")
            own_only = not self._shares_all(is_admin=viewer.is_admin)
            if own_only and not AssetRepository(session).shareable(target.id, by=viewer.user_id):
                # a region a member drew on another's picture
                raise Forbidden("it shows another's picture: only its owner may share it")
            share = ShareRepository(session).add(
                token=secrets.token_urlsafe(32),
                asset_id=target.id,
                is_album=album_id is not None,
                created_by=viewer.user_id,
                expires_at=expiry,
                password_hash=_hashed(secret),
                allow_download=allow_download,
            )
            return share_dict(share, name=target.title or target.filename)

    def mine(self, *, viewer: Viewer) -> list[dict[str, Any]]:
        """The viewer's shares, newest first (an admin's list holds everyone's)."""
        if viewer.user_id is None:
            return []
        with self.database.session() as session:
            shares = ShareRepository(session).created_by(
                None if viewer.is_admin else viewer.user_id
            )
            names = {
                a.id: a.title or a.filename
                for a in AssetRepository(session).get_many([s.asset_id for s in shares])
            }
            return [share_dict(s, name=names.get(s.asset_id, "")) for s in shares]

    def revoke(self, share_id: str, *, viewer: Viewer) -> None:
        """The link stops working at once; the row stays, with its view count."""
        with self.database.session() as session:
            share = ShareRepository(session).get(share_id)
            if share is None or not viewer.may_manage(share.created_by):
                raise NotFound(f"no share with id {share_id!r}")
            if share.revoked_at is None:
                share.revoked_at = utcnow()

    # --- the holder's side -----------------------------------------------------------------

    def holder(self, token: str, *, key: str | None = None) -> Viewer:
        """The viewer a token stands for. NotFound for a token never issued, Gone for one
        revoked or expired or made by an account disabled since, Unauthorized while a
        password-protected share is not unlocked."""
        with self.database.session() as session:
            share = self._live(session, token)
            if share.password_hash is not None and not (
                key and hmac.compare_digest(key, _key(share))
            ):
                raise Unauthorized("this share is protected by a password: unlock it first")
            sharer = UserRepository(session).get(share.created_by)
            return Viewer.share_holder(
                ShareScope(
                    share_id=share.id,
                    asset_id=share.asset_id,
                    is_album=share.is_album,
                    allow_download=share.allow_download,
                    owner_id=None
                    if self._shares_all(is_admin=sharer is not None and sharer.is_admin)
                    else share.created_by,
                )
            )

    def unlock(self, token: str, password: str, *, client: str) -> str:
        """The key that opens a password-protected share (see the module docstring). Like a
        sign-in, five wrong passwords from one address lock that address out of this share
        for a while (429): a share's password is otherwise open to guessing by anyone."""
        wait = self.throttle.retry_after(token, client)
        if wait:
            raise TooManyAttempts(
                f"too many wrong passwords; try again in {wait} s", retry_after=wait
            )
        with self.database.session() as session:
            share = self._live(session, token)
            if share.password_hash is None:
                return ""
            if not password_matches(share.password_hash, password):
                self.throttle.failed(token, client)
                raise Unauthorized("wrong password for this share")
            self.throttle.succeeded(token, client)
            return _key(share)

    def assets(
        self, token: str, *, viewer: Viewer, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of what the share holds (its files, newest first); opening it (the first
        page) counts as a view."""
        scope = _scope(viewer)
        with self.database.session() as session:
            # Checked again: the share page keeps its holder while it is open, and a share
            # revoked or expired meanwhile must stop answering at once.
            if self._live(session, token).id != scope.share_id:
                raise NotFound("no such share")
        filters = AssetFilters(type=list(FILE_TYPES), limit=limit, cursor=cursor)
        page = self.asset_service.list(filters, viewer=viewer)
        if cursor is None:
            with self.database.session() as session:
                ShareRepository(session).count_view(scope.share_id)
        return {
            "items": [shared_asset(token, a, scope=scope) for a in page.items],
            "next_cursor": page.next_cursor,
        }

    def asset(self, token: str, asset_id: str, *, viewer: Viewer) -> dict[str, Any]:
        return shared_asset(
            token, self.asset_service.get(asset_id, viewer=viewer), scope=_scope(viewer)
        )

    def original(self, asset_id: str, *, viewer: Viewer) -> OriginalFile:
        """The file, when the share allows downloads: NotFound outside the share whatever
        it allows, Forbidden inside one that does not."""
        if not _scope(viewer).allow_download:
            with self.database.session() as session:
                if AssetRepository(session).visible(asset_id, viewer=viewer) is None:
                    raise NotFound(f"no asset with id {asset_id!r}")
            raise Forbidden("downloads are not allowed for this share")
        return self.asset_service.original(asset_id, viewer=viewer)

    def _shares_all(self, *, is_admin: bool) -> bool:
        """Whether a sharer's links show all an album includes: an admin's, or any made
        without accounts (their one user sees everything); else only the sharer's own
        files (access.shareable_by)."""
        return is_admin or not self.settings.auth

    @staticmethod
    def _live(session: Any, token: str) -> Share:
        share = ShareRepository(session).by_token(token)
        if share is None:
            raise NotFound("no such share")
        if share.revoked_at is not None:
            raise Gone("this share was revoked")
        if share.expires_at is not None and share.expires_at <= utcnow():
            raise Gone("this share has expired")
        sharer = UserRepository(session).get(share.created_by)
        if sharer is not None and sharer.disabled_at is not None:
            raise Gone("this share is no longer available")
        return share


def share_dict(share: Share, *, name: str) -> dict[str, Any]:
    return {
        "id": share.id,
        "token": share.token,
        "url": SHARE_PAGE + share.token,
        "kind": "album" if share.is_album else "asset",
        "asset_id": None if share.is_album else share.asset_id,
        "album_id": share.asset_id if share.is_album else None,
        "name": name,
        "created_at": iso_utc(share.created_at),
        "expires_at": iso_utc(share.expires_at),
        "revoked_at": iso_utc(share.revoked_at),
        "has_password": share.password_hash is not None,
        "allow_download": share.allow_download,
        "view_count": share.view_count,
    }


def shared_asset(token: str, asset: dict[str, Any], *, scope: ShareScope) -> dict[str, Any]:
    """What a holder is shown of an asset: what it is and its previews, through the share's
    own URLs; not where it lives (library, path) nor anything about who owns it."""
    base = f"/api/dam/shared/{token}/assets/{asset['id']}"
    thumbnails = {
        size: f"{base}/thumbnail/{size}?v={url.rsplit('?v=', 1)[-1]}"
        for size, url in (asset.get("thumbnails") or {}).items()
    }
    return {
        "id": asset["id"],
        "filename": asset["filename"],
        "title": asset.get("title"),
        "description": asset.get("description"),
        "size": asset.get("size"),
        "mime_type": asset.get("mime_type"),
        "asset_type": asset["asset_type"],
        "width": asset.get("width"),
        "height": asset.get("height"),
        "duration": asset.get("duration"),
        "captured_at": asset.get("captured_at"),
        "thumbnails": thumbnails,
        "file_url": f"{base}/file" if scope.allow_download else None,
    }


def cookie_name(token: str) -> str:
    """The cookie that holds a share's key: one per share, named by a digest of its token
    (the name is not secret)."""
    return "trove_share_" + hashlib.sha256(token.encode()).hexdigest()[:16]


def _scope(viewer: Viewer) -> ShareScope:
    if viewer.share is None:
        raise NotFound("no such share")
    return viewer.share


def _key(share: Share) -> str:
    return hmac.new(
        (share.password_hash or "").encode(), share.token.encode(), hashlib.sha256
    ).hexdigest()


def _expiry(value: datetime | None) -> datetime | None:
    """A naive UTC time in the future (the index stores naive UTC)."""
    if value is None:
        return None
    moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if moment <= utcnow():
        raise Invalid("expires_at must be in the future")
    return moment


def _hashed(password: str | None) -> str | None:
    """Argon2id, as account passwords are: a share's password may be short and guessable."""
    return None if password is None else hash_password(password)


def _password(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > MAX_PASSWORD:
        raise Invalid(f"password is longer than {MAX_PASSWORD} characters")
    return value
