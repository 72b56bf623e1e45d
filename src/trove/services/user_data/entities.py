"""Entities people made (a Person, a Place...): found again by type and name."""

from __future__ import annotations

from collections.abc import Iterator

from trove.repositories.user_data import UserDataRepository
from trove.services.user_data.records import Record
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne


class EntitySection(OneByOne):
    kinds: tuple[str, ...] = ("entity",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        for entity in ctx.repo.entities():
            yield {
                "kind": "entity",
                "key": entity.id,
                "type": entity.type,
                "name": entity.name,
                "metadata": entity.meta or {},
            }

    def restore(self, record: Record, ctx: ImportContext) -> None:
        with ctx.session() as session:
            existing = UserDataRepository(session).entity_named(record["type"], record["name"])
        if existing is None:
            existing = ctx.service.links.create_entity(
                record["type"], record["name"], record.get("metadata")
            )["id"]
        ctx.keys[f"entity:{record['key']}"] = existing
        ctx.report.hit("entity")
