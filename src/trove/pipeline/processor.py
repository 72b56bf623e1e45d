"""The MediaProcessor protocol (seed 4.4) and what a step reports back.

A processor reads an `AssetView` (plain values, no database session) and returns a
`StepResult`; the pipeline applies results to the index. Processors never write to the
database themselves, so they can run in any worker, on any machine that mounts the roots.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from trove.domain.enums import StepStatus

log = logging.getLogger(__name__)


# The scratch key of a small original's bytes, read once in a pass (see AssetView).
ORIGINAL_BYTES = "original_bytes"


@dataclass(frozen=True, kw_only=True)
class AssetView:
    """What a processor may read about an asset: plain values, no database session.

    `scratch` carries in-memory results from earlier steps of the same pass (the decoded
    small preview, for instance) to later ones; it is empty when those steps ran earlier.
    Under ORIGINAL_BYTES, the `mime` step leaves a small original's bytes (storage/originals.py
    `Content`), which the `hash` step digests instead of opening and reading the file again.
    """

    id: str
    # For a virtual asset (an album) this is its URN, not a file: only processors that apply
    # to virtual assets (collection_preview) are given one, and they read no file.
    path: Path
    size: int | None
    mtime_ns: int | None
    mime_type: str | None
    asset_type: str
    hash: str | None
    filename: str = ""
    # No file behind it (an album, a note, a URL): `path` is its URN.
    is_virtual: bool = False
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    # Which clock placed it on the timeline (domain/timeline.py), e.g. "exif".
    timeline_source: str | None = None
    # What people typed (the meaning step embeds it).
    title: str | None = None
    description: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    scratch: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def suffix(self) -> str:
        """Path.suffix of the name, lower case (asked by every step of every asset: without
        building a Path)."""
        name = (self.filename or self.path.name).rpartition("/")[2]
        dot = name.rfind(".")
        return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


@dataclass(frozen=True, kw_only=True)
class Derivative:
    """A file a step made in the cache from the original (a web-friendly transcode)."""

    path: Path
    mime_type: str
    asset_type: str
    relation: str = "transformed_to"
    # The link's direction: original -> made ("transformed_to"), or made -> original for a
    # relation read from the made thing ("downloaded_by": a screenshot downloaded by its URL).
    made_to_original: bool = False
    width: int | None = None
    height: int | None = None
    duration: float | None = None


@dataclass(frozen=True, kw_only=True)
class SiblingLink:
    """A link from the asset to another file in the same folder, named by its file name
    (a processor sees files, not ids): an installer `contains` the LICENSE beside it, a
    contract `version_of` its earlier draft. Recorded only when that file is indexed."""

    relation: str
    filename: str
    reverse: bool = False  # the sibling is the source (its draft is `version_of` this one)


@dataclass(frozen=True, kw_only=True)
class FoundRegion:
    """A box on the picture another tool drew (an MWG face region), in fractions 0-1 of the
    picture's width and height from its top-left corner, with the name it was given."""

    bbox: tuple[float, float, float, float]
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class Found:
    """What a step read from a file beside the asset that people also edit in Trove (a
    sidecar's keywords and face regions). The pipeline applies it so that a person's edit
    wins (pipeline/found.py): a tag removed in Trove stays removed, a region kept in Trove
    stays as it is. Each pass replaces what the step found before; `namespace` is the step's
    metadata namespace, where the pipeline keeps what it needs to tell the two apart."""

    namespace: str
    tags: tuple[str, ...] = ()
    regions: tuple[FoundRegion, ...] = ()


@dataclass(frozen=True, kw_only=True)
class StepResult:
    status: StepStatus
    message: str | None = None
    # Core fields of the asset to set (e.g. {"hash": ...}); applied by the pipeline.
    updates: dict[str, Any] = field(default_factory=dict)
    # Metadata namespaces to replace as a whole (e.g. {"exif": {...}, "geo": {...}}).
    metadata: dict[str, Any] = field(default_factory=dict)
    derivatives: tuple[Derivative, ...] = ()
    siblings: tuple[SiblingLink, ...] = ()
    found: Found | None = None

    @classmethod
    def ok(cls, *, metadata: dict[str, Any] | None = None, **updates: Any) -> StepResult:
        return cls(status=StepStatus.OK, updates=updates, metadata=metadata or {})

    @classmethod
    def skipped(cls, reason: str) -> StepResult:
        return cls(status=StepStatus.SKIPPED, message=reason)

    @classmethod
    def failed(cls, reason: str) -> StepResult:
        return cls(status=StepStatus.FAILED, message=reason)


_VIEW_FIELDS = frozenset(f.name for f in fields(AssetView))


def view_after(view: AssetView, result: StepResult) -> AssetView:
    """The asset as the next step of the same pass sees it: the core fields this step set,
    its metadata namespaces merged in (the same `scratch`).

    Copied field by field, not through `dataclasses.replace`, which runs `__init__` again over
    every field: 7 us against 1, for each step of each file (three for a small text file)."""
    changes: dict[str, Any] = {k: v for k, v in result.updates.items() if k in _VIEW_FIELDS}
    if result.metadata:
        changes["meta"] = {**view.meta, **result.metadata}
    if not changes:
        return view
    after = object.__new__(AssetView)
    after.__dict__.update(view.__dict__, **changes)
    return after


class MediaProcessor(Protocol):
    name: str
    version: int
    requires: tuple[str, ...]
    # A failure of a required step puts the asset in `error`; others only record the failure.
    required: bool
    # Optional: `light = True` says the step reads only files on disk, needs no database and
    # returns only core fields and metadata, so it may run as a scan registers a new file
    # (pipeline/light.py). Absent means False.

    def applies_to(self, asset: AssetView) -> bool: ...

    def process(self, asset: AssetView) -> StepResult: ...


@runtime_checkable
class BatchMediaProcessor(Protocol):
    """A processor for which one call over many assets is much cheaper than many calls
    (ExifTool: one request to a resident process instead of one per file)."""

    def process_batch(self, assets: list[AssetView]) -> dict[str, StepResult]: ...


@runtime_checkable
class WarmableProcessor(Protocol):
    """A processor whose first asset waits for something it loads once (an index, a model).
    The runner calls `warm` with each batch's assets, in a thread of its own, as the batch
    starts and again after each step (with what the step found): it loads ahead once it will
    come to these assets, while the steps before it run. It must be cheap when it has
    nothing to do, safe beside `process`, and may fail: `process` then fails its own way."""

    def warm(self, assets: Sequence[AssetView]) -> None: ...


@runtime_checkable
class ClosableProcessor(Protocol):
    """A processor holding a resource (a tool process, an OCR engine) to release at the end."""

    def close(self) -> None: ...


def close_processors(processors: list[MediaProcessor]) -> None:
    """Release what each processor holds; one that fails to close does not stop the others
    (nor hide the real outcome of the run)."""
    for processor in processors:
        if isinstance(processor, ClosableProcessor):
            try:
                processor.close()
            except Exception:
                log.exception("closing processor %s failed", processor.name)
