"""Share links. A link's token is the address people were sent and its password hash is what
opens it: both are secrets, so they are written only by `trove export --secrets` (and the
nightly export, which sits beside the database that holds them anyway). A share exported
without them cannot be restored as the same link and is reported as not restored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from trove.repositories.shares import ShareRepository
from trove.services.user_data.records import Record, describe
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne


class ShareSection(OneByOne):
    kinds: tuple[str, ...] = ("share",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        for share in ctx.repo.shares():
            (target,) = ctx.refs.of([share.asset_id])
            if target is None:
                continue
            yield {
                "kind": "share",
                "target": target,
                "owner": ctx.owner(share.created_by),
                "created_at": _iso(share.created_at),
                "expires_at": _iso(share.expires_at),
                "revoked_at": _iso(share.revoked_at),
                "allow_download": share.allow_download,
                "has_password": share.password_hash is not None,
                "view_count": share.view_count,
                **(
                    {"token": share.token, "password_hash": share.password_hash}
                    if ctx.secrets
                    else {}
                ),
            }

    def restore(self, record: Record, ctx: ImportContext) -> None:
        what = describe(record.get("target"))
        if not record.get("token"):
            ctx.report.miss("share", f"{what}: exported without its link (use --secrets)")
            return
        target = ctx.find(record["target"])
        owner = ctx.user_id(record.get("owner"))
        if target is None or owner is None:
            missing = "its owner" if target is not None else "what it shares"
            ctx.report.miss("share", f"{what}: {missing} is not here")
            return
        with ctx.session() as session:
            shares = ShareRepository(session)
            if shares.by_token(record["token"]) is None:
                share = shares.add(
                    token=record["token"],
                    asset_id=target,
                    is_album="album" in record["target"],
                    created_by=owner,
                    expires_at=_moment(record.get("expires_at")),
                    password_hash=record.get("password_hash"),
                    allow_download=bool(record.get("allow_download")),
                )
                share.created_at = _moment(record.get("created_at")) or share.created_at
                share.revoked_at = _moment(record.get("revoked_at"))
                share.view_count = int(record.get("view_count") or 0)
        ctx.report.hit("share")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(text: str | None) -> datetime | None:
    """The index stores naive UTC, as written."""
    return None if not text else datetime.fromisoformat(text)
