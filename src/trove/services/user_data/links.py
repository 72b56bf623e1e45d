"""Links people made between files, albums, notes, regions and entities (`depicts`,
`related_to`, a plugin's relations). Links Trove makes itself are left out: a rescan and the
pipeline make them again, or another record carries them."""

from __future__ import annotations

from collections.abc import Iterator

from trove.domain.access import Viewer
from trove.domain.enums import Relation
from trove.services.errors import Conflict, Invalid, NotFound
from trove.services.user_data.records import Record, describe
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne

# Folders, copies, look-alikes, previews and derivatives are made again by a rescan and the
# pipeline; album membership and nesting are in the album records; a region's
# `extracted_from` its picture is made again when the region is.
REMADE_BY_TROVE = (
    Relation.CONTAINS,
    Relation.INCLUDES,
    Relation.DUPLICATE_OF,
    Relation.VISUALLY_SIMILAR_TO,
    Relation.TRANSFORMED_TO,
    Relation.DOWNLOADED_BY,
    Relation.EXTRACTED_FROM,
)


class LinkSection(OneByOne):
    kinds: tuple[str, ...] = ("link",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        for link in ctx.repo.links(relations=REMADE_BY_TROVE, exclude=True):
            source, target = ctx.refs.of([link.source_id, link.target_id])
            if source is None or target is None:  # an end with no record of its own
                continue
            yield {
                "kind": "link",
                "source": source,
                "target": target,
                "relation": link.relation,
                "weight": link.weight,
                "metadata": link.meta or {},
            }

    def restore(self, record: Record, ctx: ImportContext) -> None:
        source, target = ctx.find(record["source"]), ctx.find(record["target"])
        if source is None or target is None:
            missing = record["source"] if source is None else record["target"]
            ctx.report.miss("link", f"{record['relation']} {ctx.describe_missing(missing)}")
            return
        try:
            ctx.service.links.link(
                source,
                target,
                record["relation"],
                viewer=Viewer.system(),
                weight=record.get("weight", 1.0),
                metadata=record.get("metadata") or None,
            )
        except (Invalid, NotFound, Conflict) as exc:  # an unknown relation, a cycle, ...
            ends = f"{describe(record['source'])} -> {describe(record['target'])}"
            ctx.report.miss("link", f"{record['relation']} {ends}: {exc}")
            return
        ctx.report.hit("link")
