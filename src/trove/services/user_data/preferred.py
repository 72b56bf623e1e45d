"""Preferred copies: of the files with the same content, the one the gallery shows (the others
stacked under it, services/stacks.py). The record names that file by its REF; an import finds
it by content and place, and chooses it again."""

from __future__ import annotations

from collections.abc import Iterator

from trove.repositories.stacks import StackRepository
from trove.services.user_data.records import Record
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne


class PreferredCopySection(OneByOne):
    kinds: tuple[str, ...] = ("preferred_copy",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        for _content_hash, asset_id in StackRepository(ctx.repo.session).all_preferred():
            (ref,) = ctx.refs.of([asset_id])
            if ref is not None and ref.get("hash"):
                yield {"kind": "preferred_copy", "ref": ref}

    def restore(self, record: Record, ctx: ImportContext) -> None:
        ref = record.get("ref") or {}
        asset_id = ctx.find(ref) if ref.get("hash") else None
        if asset_id is None:
            ctx.report.miss("preferred copy", ctx.describe_missing(ref))
            return
        with ctx.session() as session:
            StackRepository(session).prefer(ref["hash"], asset_id, chosen_by=None)
        ctx.report.hit("preferred copy")
