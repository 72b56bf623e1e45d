"""Face regions a sidecar gives that a person deleted in Trove, as boxes per picture.

Trove keeps that choice beside what the sidecar gave (`declined_regions`, pipeline/found.py),
which an index rebuilt from the disk does not have: its pipeline makes those regions again.
The import deletes them again and declines the boxes, so that later passes over the sidecar
keep them deleted. Record: `{"kind": "declined_regions", "ref": REF, "boxes": [[x, y, w, h],
...]}` (from the top-left corner, as fractions of the picture).
"""

from __future__ import annotations

from collections.abc import Iterator

from trove.domain import sidecars
from trove.pipeline import found
from trove.repositories.assets import AssetRepository
from trove.services import search
from trove.services.user_data.records import Record, file_ref
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne

KIND = "declined_regions"


class DeclinedRegionSection(OneByOne):
    kinds: tuple[str, ...] = (KIND,)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        for batch in ctx.repo.files_with_found_regions(sidecars.NAMESPACE):
            photos = [photo for photo, _ in batch]
            declined = found.declined_boxes(ctx.repo.session, photos, sidecars.NAMESPACE)
            for photo, root_path in batch:
                if photo.id in declined:
                    yield {
                        "kind": KIND,
                        "ref": file_ref(photo, root_path),
                        "boxes": declined[photo.id],
                    }

    def restore(self, record: Record, ctx: ImportContext) -> None:
        (photo_id,) = ctx.find_files([record["ref"]])
        if photo_id is None:
            ctx.report.miss("declined regions", ctx.describe_missing(record["ref"]))
            return
        with ctx.session() as session:
            (photo,) = AssetRepository(session).get_many([photo_id])
            found.decline_regions(session, photo, sidecars.NAMESPACE, record.get("boxes") or [])
            session.flush()
            search.reindex(session, [photo_id], hierarchical=ctx.service.assets.hierarchical)
        ctx.report.hit("declined regions")
