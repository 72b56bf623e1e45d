"""Applying step results to the index, a batch at a time (the runner decides which steps share a
transaction).

Processors return values; this module is where they become rows: step outcomes, core fields,
metadata namespaces (each replaced whole, other namespaces untouched), proxy assets for
transcodes with their `transformed_to` links, and the look-alike index when a pHash changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trove.config import Settings
from trove.db.models import Asset
from trove.domain.enums import Relation
from trove.pipeline import similarity
from trove.pipeline.found import apply_found
from trove.pipeline.processor import Derivative, SiblingLink, StepResult
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.links import LinkRepository, edge
from trove.repositories.proxies import Proxy, ProxyRepository
from trove.repositories.steps import StepRepository
from trove.services import search
from trove.storage import cache

# Upserts of a batch's outcomes tried while assets of it are deleted (PostgreSQL: a removal's
# next batch may commit between the read of what exists and the next attempt).
MAX_OUTCOME_ATTEMPTS = 3


@dataclass(frozen=True)
class StepRun:
    asset_id: str
    result: StepResult
    elapsed_ms: float


class AssetChanges:
    """The UPDATEs of a batch's assets gathered over its steps and its final status, written
    as one row per asset: a small file's pass changed its row three times (hash, a metadata
    namespace, status), each an UPDATE through the same indexes and triggers."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}

    def add(self, row: dict[str, Any]) -> None:
        held = self._rows.get(row["id"])
        if held is None:
            self._rows[row["id"]] = row
        else:
            held.update(row)

    def meta_of(self, asset_id: str) -> dict[str, Any] | None:
        """The metadata an earlier step of the batch set and that is not written yet."""
        held = self._rows.get(asset_id)
        return None if held is None else held.get("meta")

    def write(self, session: Session) -> None:
        if self._rows:
            AssetRepository(session).update_many(list(self._rows.values()))
            self._rows = {}


def record_step(
    session: Session,
    *,
    step: str,
    version: int,
    runs: list[StepRun],
    settings: Settings,
    changes: AssetChanges | None = None,
) -> None:
    """One step's outcomes over a batch, in bulk: one upsert of the outcomes, one read of the
    metadata of the assets whose namespaces change, one UPDATE per shape of change (or, given
    `changes`, the updates kept there, to be written with the batch's others). Only results
    that make rows of their own (a proxy, a sibling link, what a sidecar said) go through the
    ORM, asset by asset."""
    now = utcnow()
    pending = AssetChanges() if changes is None else changes
    runs = _record_outcomes(
        session,
        runs,
        lambda run: outcome_row(
            run.asset_id,
            step=step,
            version=version,
            status=run.result.status,
            message=run.result.message,
            elapsed_ms=run.elapsed_ms,
            now=now,
        ),
    )
    by_orm = [r for r in runs if r.result.found is not None]
    bulk = [r for r in runs if r.result.found is None]
    changing = [r for r in bulk if r.result.updates or r.result.metadata]
    linking = [r for r in bulk if r.result.derivatives or r.result.siblings]
    if not (changing or linking or by_orm):
        return
    repo = AssetRepository(session)
    # Read: the metadata a namespace is merged into, and which assets still exist where a
    # change makes rows of its own (look-alike links). A plain core-field change is written
    # blind: an UPDATE of an asset deleted meanwhile changes nothing.
    held = {r.asset_id: pending.meta_of(r.asset_id) for r in changing if r.result.metadata}
    metas = repo.metas_of(
        [r.asset_id
         for r in changing
         if (r.result.metadata and held[r.asset_id] is None) or "phash" in r.result.updates]
    )  # fmt: skip
    for run in changing:
        if not run.result.metadata:
            pending.add(_changes(run.asset_id, run.result, {}, now=now))
        elif (meta := held[run.asset_id] or metas.get(run.asset_id)) is not None:
            pending.add(_changes(run.asset_id, run.result, meta, now=now))
    existing = set(metas)
    if linking or by_orm:
        pending.write(session)  # the rows below are read and written through the ORM
        assets = {a.id: a for a in repo.get_many([r.asset_id for r in (*linking, *by_orm)])}
        existing |= set(assets)
        for run in by_orm:
            asset = assets.get(run.asset_id)
            if asset is None:  # deleted meanwhile
                continue
            before = dict(asset.meta or {})
            _apply(asset, run.result, now=now)
            assert run.result.found is not None
            apply_found(session, asset, run.result.found, before=before, made_by=step)
        for run in (*linking, *by_orm):
            asset = assets.get(run.asset_id)
            if asset is None:
                continue
            for derivative in run.result.derivatives:
                _link_derivative(session, asset, derivative, now=now)
            if run.result.siblings:
                _link_siblings(session, asset, run.result.siblings)
        session.flush()
    hashed = [r for r in (*changing, *by_orm) if "phash" in r.result.updates]
    if changes is None or hashed:
        pending.write(session)  # look-alikes are found among the pHashes the index holds
    for run in hashed:
        if run.asset_id in existing:
            similarity.update_links(
                session,
                asset_id=run.asset_id,
                phash=run.result.updates["phash"],
                max_distance=settings.similarity_distance,
            )


def outcome_row(
    asset_id: str,
    *,
    step: str,
    version: int,
    status: str,
    message: str | None,
    elapsed_ms: float,
    now: Any,
) -> dict[str, Any]:
    """A step's outcome for an asset, as its record (pipeline_steps) holds it."""
    return {
        "asset_id": asset_id,
        "step": step,
        "status": status,
        "version": version,
        "message": (message or None) and message[:2000],
        "duration_ms": round(elapsed_ms, 3),
        "updated_at": now,
    }


def finish(
    session: Session,
    outcomes: dict[str, tuple[str, str | None]],
    *,
    changes: AssetChanges | None = None,
) -> None:
    """Final status of each asset of a batch: ready, or error with the required step's reason
    (written with the step `changes` not written yet, one UPDATE per asset); and their search
    documents, from what the steps found."""
    now = utcnow()
    pending = AssetChanges() if changes is None else changes
    for asset_id, (status, message) in outcomes.items():
        pending.add({"id": asset_id, "status": status, "error_message": message, "updated_at": now})
    pending.write(session)
    search.reindex(session, list(outcomes))


def _record_outcomes(
    session: Session, runs: list[StepRun], row: Callable[[StepRun], dict[str, Any]]
) -> list[StepRun]:
    """Upsert the runs' outcomes; the runs whose asset is still in the index. A library
    removed while its files were processed takes their assets away, and one outcome of a
    deleted asset broke the foreign key of the whole upsert, failing the run with an SQL error
    shown on the Libraries page. Which assets exist is read only after such a failure, and in
    the transaction that now holds the write lock: read before it, a removal committing
    between the read and the write would break the upsert all the same."""
    steps = StepRepository(session)
    for _ in range(MAX_OUTCOME_ATTEMPTS - 1):
        try:
            with session.begin_nested():
                steps.record([row(run) for run in runs])
            return runs
        except IntegrityError:
            existing = AssetRepository(session).existing_ids([run.asset_id for run in runs])
            runs = [run for run in runs if run.asset_id in existing]
    steps.record([row(run) for run in runs])
    return runs


def _changes(
    asset_id: str, result: StepResult, meta: dict[str, Any], *, now: Any
) -> dict[str, Any]:
    """The UPDATE of one asset: core fields as given, metadata namespaces each replaced whole
    (the others kept as the index holds them now)."""
    row: dict[str, Any] = {"id": asset_id, **result.updates, "updated_at": now}
    if result.metadata:
        row["meta"] = {**meta, **result.metadata}
    return row


def _apply(asset: Asset, result: StepResult, *, now: Any) -> None:
    for key, value in result.updates.items():
        setattr(asset, key, value)
    if result.metadata:
        asset.meta = {**(asset.meta or {}), **result.metadata}
    asset.updated_at = now


def _link_derivative(session: Session, original: Asset, made: Derivative, *, now: Any) -> None:
    if not original.hash:
        return
    proxy = Proxy(
        storage_urn=cache.urn(original.hash, made.path.name),
        filename=f"{_stem(original.filename)}{made.path.suffix}",
        mime_type=made.mime_type,
        size=made.path.stat().st_size if made.path.exists() else None,
        width=made.width,
        height=made.height,
        duration=made.duration,
        meta={"derivative": {"of_hash": original.hash, "kind": made.asset_type}},
        timeline_at=original.timeline_at or now,
    )
    ProxyRepository(session).save(
        proxy,
        original_id=original.id,
        relation=made.relation or Relation.TRANSFORMED_TO,
        made_to_original=made.made_to_original,
        now=now,
    )


def _link_siblings(session: Session, asset: Asset, siblings: tuple[SiblingLink, ...]) -> None:
    if asset.root_id is None or asset.rel_path is None:
        return
    folder = asset.rel_path.rpartition("/")[0]
    paths = {s.filename: f"{folder}/{s.filename}" if folder else s.filename for s in siblings}
    found = AssetRepository(session).files_at(asset.root_id, list(paths.values()))
    rows = []
    for sibling in siblings:
        other = found.get(paths[sibling.filename])
        if other is None or other == asset.id:
            continue
        source, target = (other, asset.id) if sibling.reverse else (asset.id, other)
        rows.append(edge(source, target, sibling.relation))
    if rows:
        LinkRepository(session).add_many(rows)


def _stem(filename: str) -> str:
    return filename.rsplit(".", 1)[0] if "." in filename else filename
