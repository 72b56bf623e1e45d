"""Document subtypes (invoice / contract / tech_spec) from the text layer or the OCR text.

Writes `metadata["sub_type"]` (the subtype, a plain string, as the seed names it) and
`metadata["document"]` (domain/documents.py `DocumentFields`: number, total, currency, dates,
parties, status). A subtype a person set by hand (a PATCH of `metadata.document.sub_type`) is
kept: the rules then only read the fields for it. A file whose stem is another's plus a
version mark (`_v2`, `final`, `rev B`) is linked `version_of` the closest earlier version in
the same folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from trove.config import Settings
from trove.domain.documents import SubType, classify, extract, version_key
from trove.domain.enums import AssetType, Relation, StepStatus
from trove.pipeline.processor import AssetView, SiblingLink, StepResult

NAMESPACE = "document"
MAX_FOLDER_ENTRIES = 10_000


class DocumentTypeProcessor:
    name = "document_type"
    version = 1
    requires: tuple[str, ...] = ("text", "plain_text", "ocr")
    required = False
    light = True  # pipeline/light.py

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.DOCUMENT

    def process(self, asset: AssetView) -> StepResult:
        text = _text_of(asset.meta)
        by_hand = _hand_set(asset.meta)
        if by_hand is not None:
            fields = extract(text, sub_type=by_hand, source="hand")
        elif text:
            sub_type, scores = classify(text)
            fields = extract(text, sub_type=sub_type, source="rules")
            fields.scores = scores
        elif NAMESPACE not in asset.meta:
            # Nothing to read and nothing read before (a note, a README, a CSV): no empty
            # fields block on every such file, only what its name says of its versions.
            return StepResult(status=StepStatus.OK, siblings=_earlier_version(asset))
        else:  # the text it was read from is gone: what was read goes too
            fields = extract("", sub_type=None, source="rules")
        metadata: dict[str, Any] = {NAMESPACE: fields.model_dump(mode="json")}
        metadata["sub_type"] = str(fields.sub_type) if fields.sub_type else None
        return StepResult(status=StepStatus.OK, metadata=metadata, siblings=_earlier_version(asset))


def _text_of(meta: Any) -> str:
    """A PDF's text or what OCR read. Not a text file's words: the rules are written for
    invoices, contracts and specifications as documents arrive (PDFs, scans), and reading
    every note, README and CSV with them took a quarter of a text library's scan (3 s of CPU
    over 20,000 small files)."""
    for namespace in ("text", "ocr"):
        found = meta.get(namespace) or {}
        if found.get("content") and found.get("source") != "plain":
            return str(found["content"])
    return ""


def _hand_set(meta: Any) -> SubType | None:
    """The subtype a person set: `metadata.document.sub_type` not marked as the rules', or a
    `metadata.sub_type` that differs from what the rules wrote."""
    document = meta.get(NAMESPACE) or {}
    chosen = None
    if document.get("sub_type") and document.get("sub_type_source", "hand") != "rules":
        chosen = document["sub_type"]
    elif meta.get("sub_type") and meta["sub_type"] != document.get("sub_type"):
        chosen = meta["sub_type"]
    try:
        return SubType(chosen) if chosen else None
    except ValueError:
        return None


def _earlier_version(asset: AssetView) -> tuple[SiblingLink, ...]:
    """`version_of` the same-family file with the highest rank below this one's."""
    path = Path(asset.filename or asset.path.name)
    family, rank = version_key(path.stem)
    if rank == 0:
        return ()
    best: tuple[int, str] | None = None
    try:
        with os.scandir(asset.path.parent) as entries:
            for n, entry in enumerate(entries):
                if n >= MAX_FOLDER_ENTRIES:
                    break
                other = Path(entry.name)
                if other.suffix.lower() != path.suffix.lower() or entry.name == path.name:
                    continue
                other_family, other_rank = version_key(other.stem)
                earlier = other_family == family and other_rank < rank
                if earlier and (best is None or other_rank > best[0]):
                    best = (other_rank, entry.name)
    except OSError:
        return ()
    return (SiblingLink(relation=Relation.VERSION_OF, filename=best[1]),) if best else ()
