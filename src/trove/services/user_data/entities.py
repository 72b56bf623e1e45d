"""Entities people made (a Person, a Place...): found again by type, name and metadata.

Names are not unique (two Places "Springfield", one in IL and one in MA): a record becomes an
entity of its type, name and metadata that no other record of the import became, else a new
one."""

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
        entity_id = ctx.unclaimed(record, _candidates(record, ctx))
        if entity_id is None:
            entity_id = ctx.service.links.create_entity(
                record["type"], record["name"], record.get("metadata")
            )["id"]
        ctx.became(record, entity_id)
        ctx.report.hit("entity")


def _candidates(record: Record, ctx: ImportContext) -> list[str]:
    """The entities here of the record's type, name and metadata, oldest first."""
    wanted = record.get("metadata") or {}
    with ctx.session() as session:
        named = UserDataRepository(session).entities_named(record["type"], record["name"])
    return [entity_id for entity_id, meta in named if meta == wanted]
