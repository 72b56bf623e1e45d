"""Who is asking: the `Viewer` every read and write of user-visible data is scoped by.

Repositories take a Viewer and narrow their queries with `repositories.access.visible_assets`
(one SQL predicate), so a new route cannot forget the check, and the listing, detail, file,
thumbnails, neighbours, graph, search and duplicates all answer the same question. An asset the
viewer may not see is answered 404, never 403: its existence stays private (DESIGN.md, Access).

Who sees an asset:
- an admin: everything;
- its owner (the library's owner for indexed files, the uploader for uploads);
- a member the asset's library is assigned to (`root_members`);
- a user it was granted to, directly or through an album that includes it (`asset_grants`);
- any signed-in user when its visibility is `public`;
- for a region (a part of a picture, drawn in the lightbox or read from a sidecar's faces)
  drawn by the picture's owner: whoever sees the picture, as albums pass on access to what
  they include; a region someone else drew on a picture they only see stays theirs;
- the holder of a share link: exactly the shared asset, or the shared album and what it
  includes, and nothing else; of these, only what its sharer may share (all of it for an
  admin's link; for a member's, their own files, and of their regions only those on their
  own pictures: a member who puts files they only see into an album of theirs does not
  decide who else sees those files, and a link is seen by anyone who has it).
Background work (scanner, pipeline, watcher, CLI maintenance) acts as `Viewer.system()`.

Who changes an asset (its title, description, tags, metadata, favourite, rating, picture
edits; moving it to the Trash and back): an admin, its owner, and a member its library is
assigned to with `can_write`; never a read-only credential or a share link. Seeing is not
changing: a public asset, a granted one, one in a library assigned read-only is answered 403
(`repositories.access.changeable_assets`). Who else sees it (visibility, grants, share links)
only its owner or an admin decides (`may_manage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# The user row created by the first migration; it owns what was indexed before accounts
# existed, the first admin claims it, and with TROVE_AUTH=off it is the one local user.
LOCAL_OWNER_ID = "00000000-0000-7000-8000-000000000001"


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class TokenScope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class ShareScope:
    """What a share-link holder may reach: one asset, or one album and what it includes."""

    share_id: str
    asset_id: str
    is_album: bool
    allow_download: bool
    # Whose files the share shows (repositories/access.py::shareable_by): its sharer's, or
    # None when an admin shared it (all the album includes). Read at each opening, so a
    # sharer made admin or member since shows what they may share now.
    owner_id: str | None


@dataclass(frozen=True)
class Viewer:
    user_id: str | None
    is_admin: bool = False
    can_write: bool = True  # False for a read-scoped API token and for share-link holders
    share: ShareScope | None = None
    name: str | None = None  # the signed-in user's name, for "signed in as"

    @classmethod
    def system(cls) -> Viewer:
        """Trove itself (scanner, pipeline, CLI maintenance): sees everything."""
        return cls(user_id=None, is_admin=True)

    @classmethod
    def local_owner(cls) -> Viewer:
        """The single user of TROVE_AUTH=off (loopback only)."""
        return cls(user_id=LOCAL_OWNER_ID, is_admin=True)

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls(user_id=None, can_write=False)

    @classmethod
    def share_holder(cls, scope: ShareScope) -> Viewer:
        return cls(user_id=None, can_write=False, share=scope)

    @property
    def sees_everything(self) -> bool:
        return self.is_admin

    @property
    def is_signed_in(self) -> bool:
        return self.user_id is not None

    def may_manage(self, owner_id: str | None) -> bool:
        """Whether this viewer may change who sees something owned by `owner_id` (its
        visibility, its grants, its share links): its owner or an admin, never a share."""
        if self.share is not None:
            return False
        return self.is_admin or (self.user_id is not None and self.user_id == owner_id)
