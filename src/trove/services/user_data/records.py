"""The file format's pieces shared by every section: the header, references to files and to
other records, and the import report.

A REF names what a record points at without the index's ids (they change when the index is
rebuilt): a file or folder by `{"hash", "root", "path"}` (hash null for a folder or an unhashed
file), and a record of the same export by its key: `{"album": key}`, `{"entity": key}`,
`{"virtual": key}` (a URL, a note, a region), `{"user": key}`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from trove.domain.enums import AssetCategory, AssetType
from trove.repositories.user_data import UserDataRepository
from trove.services.errors import Invalid

FORMAT = "trove-user-data"
# 1: assets, entities, albums, links. 2: adds users, virtual assets (URLs, notes, regions),
# shares, owners; a file of version 1 imports unchanged (its records are a subset). 3: an end
# record closes the file, so that a copy cut short is refused instead of half imported.
VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
END = "end"
MAX_UNMATCHED_LISTED = 50
# Keys of the records another record may point at, as REF keys.
KEYED_KINDS = ("album", "entity", "virtual", "user")

Record = dict[str, Any]


@dataclass
class ImportReport:
    matched: Counter[str] = field(default_factory=Counter)
    unmatched: Counter[str] = field(default_factory=Counter)
    unmatched_refs: list[str] = field(default_factory=list)

    def hit(self, kind: str) -> None:
        self.matched[kind] += 1

    def miss(self, kind: str, what: str) -> None:
        self.unmatched[kind] += 1
        if len(self.unmatched_refs) < MAX_UNMATCHED_LISTED:
            self.unmatched_refs.append(f"{kind}: {what}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "matched": dict(self.matched),
            "unmatched": dict(self.unmatched),
            "unmatched_refs": self.unmatched_refs,
        }


def header(*, exported_at: str, trove_version: str, secrets: bool) -> Record:
    return {
        "kind": "header",
        "format": FORMAT,
        "version": VERSION,
        "exported_at": exported_at,
        "trove": trove_version,
        "secrets": secrets,
    }


def end(count: int) -> Record:
    """The last record of an export: how many lines came before it."""
    return {"kind": END, "records": count}


def checked(lines: Iterable[str]) -> Iterator[Record]:
    """Every record of an export, read as a stream before any is applied: each line must be a
    record, and from version 3 the last one the end record counting the others, so that a
    file cut short (an interrupted export or copy) is refused whole, not half imported (raised
    once its last line is read)."""
    records = _records(lines)
    version, count, last = _version(records), 1, None
    for record in records:
        count, last = count + 1, record
        yield record
    if version >= 3 and last != end(count - 1):
        raise Invalid(
            f"the file is cut short after {count} records (its end record is missing or "
            "counts others): an interrupted export or copy; nothing was imported"
        )


def parsed(lines: Iterable[str]) -> Iterator[Record]:
    """The records of an export, its header checked first (any readable version), without
    the end record."""
    records = _records(lines)
    _version(records)
    for record in records:
        if record.get("kind") != END:
            yield record


def _version(records: Iterator[Record]) -> int:
    head = next(records, None)
    if not head or head.get("format") != FORMAT or head.get("version") not in READABLE_VERSIONS:
        versions = " or ".join(str(v) for v in READABLE_VERSIONS)
        raise Invalid(f"not a {FORMAT} file of version {versions}")
    return int(head["version"])


def _records(lines: Iterable[str]) -> Iterator[Record]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise Invalid(
                f"line {number} is not JSON: not a {FORMAT} file, or one cut short there;"
                " nothing was imported"
            ) from None
        if not isinstance(record, dict):
            raise Invalid(f"line {number} is not a record: not a {FORMAT} file")
        yield record


class Refs:
    """REFs of index ids, for export. `is_exported_virtual` says which virtual assets other
    than albums have a record of their own (the rest cannot be pointed at)."""

    def __init__(
        self, repo: UserDataRepository, *, is_exported_virtual: Callable[[Any], bool]
    ) -> None:
        self.repo = repo
        self.is_exported_virtual = is_exported_virtual

    def of(self, ids: list[str]) -> list[Record | None]:
        """The REF of each id; None for what has none (a preview, a deleted asset)."""
        assets = self.repo.assets_by_id(ids)
        entity_ids = self.repo.entity_ids([i for i in ids if i not in assets])
        refs: list[Record | None] = []
        for node_id in ids:
            if node_id in assets:
                asset, root_path = assets[node_id]
                refs.append(self._asset_ref(asset, root_path))
            else:
                refs.append({"entity": node_id} if node_id in entity_ids else None)
        return refs

    def _asset_ref(self, asset: Any, root_path: str | None) -> Record | None:
        if asset.deleted_at is not None:
            return None
        if asset.asset_type == AssetType.COLLECTION and asset.category == AssetCategory.VIRTUAL:
            return {"album": asset.id}
        if asset.is_virtual:
            return {"virtual": asset.id} if self.is_exported_virtual(asset) else None
        if root_path is None:
            return None
        return file_ref(asset, root_path)


def file_ref(asset: Any, root_path: str) -> Record:
    return {"hash": asset.hash, "root": root_path, "path": asset.rel_path}


def describe(ref: Record | None) -> str:
    if ref is None:
        return "nothing"
    if "path" in ref:
        return f"{ref['root']}/{ref['path']}"
    return json.dumps(ref, ensure_ascii=False)
