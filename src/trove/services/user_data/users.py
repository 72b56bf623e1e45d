"""Accounts, so that what they own and share finds its owner again: name, role, disabled,
quota; the password hash only in an export with secrets (else the user sets a new password
with `trove users passwd`). The placeholder owner of a fresh index (Trove without accounts, or
before the first admin) is mapped onto the same placeholder here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from trove.domain.access import LOCAL_OWNER_ID
from trove.repositories._sql import utcnow
from trove.repositories.user_data import UserDataRepository
from trove.services.user_data.records import Record
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne


class UserSection(OneByOne):
    kinds: tuple[str, ...] = ("user",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        for user in ctx.repo.users():
            yield {
                "kind": "user",
                "key": user.id,
                "name": user.name,
                "admin": user.is_admin,
                "disabled": user.disabled_at is not None,
                "upload_quota": user.upload_quota,
                "local_owner": user.id == LOCAL_OWNER_ID,
                **({"password_hash": user.password_hash} if ctx.secrets else {}),
            }

    def restore(self, record: Record, ctx: ImportContext) -> None:
        with ctx.session() as session:
            repo = UserDataRepository(session)
            user_id = repo.user_id_named(record["name"])
            if user_id is None:
                account: dict[str, Any] = {
                    "name": record["name"],
                    "is_admin": bool(record.get("admin")),
                    "upload_quota": record.get("upload_quota"),
                    "disabled_at": utcnow() if record.get("disabled") else None,
                }
                if record.get("local_owner") and repo.local_owner_unclaimed():
                    user_id = repo.claim_local_owner(**account)
                else:
                    user_id = repo.add_user(**account)
            if record.get("password_hash"):
                repo.set_password_if_none(user_id, record["password_hash"])
        ctx.keys[f"user:{record['key']}"] = user_id
        ctx.report.hit("user")
