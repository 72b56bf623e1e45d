"""Who may see and change each library: the libraries assigned to members (`trove users`,
the Libraries page). A library is found again by its folder's path; one that is not a
library here (not added yet, or mounted elsewhere) is reported, and a second import after
adding it assigns it."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

from trove.repositories.user_data import UserDataRepository
from trove.services.user_data.records import Record
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne


class LibrarySection(OneByOne):
    kinds: tuple[str, ...] = ("library",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        for path, rows in groupby(ctx.repo.library_members(), key=lambda row: row[0]):
            members = [
                {"user": ctx.owner(user_id), "can_write": can_write}
                for _path, user_id, can_write in rows
            ]
            yield {"kind": "library", "path": path, "members": members}

    def restore(self, record: Record, ctx: ImportContext) -> None:
        members: list[tuple[str, bool]] = []
        for member in record.get("members") or []:
            user_id = ctx.user_id(member.get("user"))
            if user_id is None:
                ctx.report.miss("library member", f"no user {member.get('user')!r} here")
            else:
                members.append((user_id, bool(member.get("can_write"))))
        with ctx.session() as session:
            repo = UserDataRepository(session)
            root_id = repo.root_id_at(str(record.get("path")))
            if root_id is None:
                ctx.report.miss("library", f"{record.get('path')}: not a library here")
                return
            for user_id, can_write in members:
                repo.assign_library(root_id, user_id, can_write=can_write)
        ctx.report.hit("library")
