"""Files and folders: their title, description, tags, visibility, the values people gave in
writable metadata namespaces (the gallery's rating and favourite among them), and a photo's
edit list (rendered again on import)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from trove.domain import edits as edit_domain
from trove.domain.access import LOCAL_OWNER_ID, Viewer
from trove.repositories.user_data import UserDataRepository
from trove.services.assets import AssetPatch
from trove.services.errors import Conflict, Invalid, Unavailable
from trove.services.user_data.records import Record, describe, file_ref
from trove.services.user_data.section import ExportContext, ImportContext

BATCH = 500


class FileSection:
    """Restored a batch at a time: a library has many more of these than of anything else."""

    kinds: tuple[str, ...] = ("asset",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        touched = (*ctx.writable, edit_domain.NAMESPACE)  # the editor's list is users' work
        for asset, root_path, tags in ctx.repo.physical_assets_with_user_data(touched):
            owned = asset.owner_id != LOCAL_OWNER_ID  # an upload: whose it is
            yield {
                "kind": "asset",
                "ref": file_ref(asset, root_path),
                **user_fields(asset, tags, ctx.writable),
                "edits": edit_domain.state_of(asset.meta or {}).get("edits", []),
                **({"owner": ctx.owner(asset.owner_id)} if owned else {}),
            }

    def restore(self, record: Record, ctx: ImportContext) -> None:
        pending = ctx.pending.setdefault("asset", [])
        pending.append(record)
        if len(pending) >= BATCH:
            self.flush(ctx)

    def flush(self, ctx: ImportContext) -> None:
        records = ctx.pending.pop("asset", [])
        if not records:
            return
        found = ctx.find_files([r["ref"] for r in records])
        patches: dict[str, AssetPatch] = {}
        edited: list[tuple[str, Any]] = []
        owners: dict[str, str] = {}
        for record, asset_id in zip(records, found, strict=True):
            if asset_id is None:
                ctx.report.miss("asset", ctx.describe_missing(record["ref"]))
                continue
            patches[asset_id] = _patch(record)
            if record.get("edits"):
                edited.append((asset_id, record["edits"]))
            if record.get("owner"):
                owner = ctx.user_id(record["owner"])
                if owner is None:
                    ctx.report.miss(
                        "owner", f"{describe(record['ref'])}: no user {record['owner']!r} here"
                    )
                else:
                    owners[asset_id] = owner
            ctx.report.hit("asset")
        ctx.service.assets.restore_many(patches)
        if owners:
            with ctx.session() as session:
                UserDataRepository(session).set_owners(owners)
        for asset_id, edits in edited:
            _restore_edits(ctx, asset_id, edits)


def user_fields(asset: Any, tags: list[str], writable: tuple[str, ...]) -> Record:
    """What a person set on any asset, file or virtual."""
    meta = asset.meta or {}
    return {
        "title": asset.title,
        "description": asset.description,
        "tags": tags,
        "visibility": asset.visibility,
        "metadata": {name: meta[name] for name in writable if meta.get(name)},
    }


def apply_user_fields(ctx: ImportContext, asset_id: str, record: Record) -> None:
    ctx.service.assets.restore_many({asset_id: _patch(record)})


def _restore_edits(ctx: ImportContext, asset_id: str, edits: Any) -> None:
    """The edit list, rendered again from the file (unless it is already the current one: a
    second import adds no version)."""
    system = Viewer.system()
    try:
        wanted = edit_domain.canonical(edit_domain.parse(edits))
        if ctx.service.edits.get(asset_id, viewer=system)["edits"] != wanted:
            ctx.service.edits.save(asset_id, wanted, viewer=system)
    except (edit_domain.InvalidEdit, Invalid, Conflict, Unavailable) as exc:
        ctx.report.miss("edits", f"{asset_id}: {exc}")


def _patch(record: Record) -> AssetPatch:
    # null: never given, left as it is; "": cleared by a person (a sidecar's stays hidden).
    given = {k: record[k] for k in ("title", "description") if record.get(k) is not None}
    return AssetPatch(
        **given,
        tags=record.get("tags") or [],
        visibility=record.get("visibility") or "private",
        metadata=record.get("metadata") or {},
    )
