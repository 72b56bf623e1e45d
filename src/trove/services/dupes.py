"""Duplicate groups (seed 4.6, logical dedup), answered from the hash index alone.

`trove dupes` reads no file and loads no ORM: one index-only GROUP BY finds the hashes held
more than once, one indexed lookup fetches those copies, and the grouping, ordering (most
wasted bytes first) and paging happen here. That is what makes it faster than `jdupes -r`,
which has to read the files.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from trove.config import Settings
from trove.domain.paths import display, from_stored
from trove.repositories import fast_index
from trove.repositories.fast_index import CopyRow
from trove.services.errors import Invalid


class DuplicateFinder:
    def __init__(self, settings: Settings) -> None:
        self.url = settings.resolved_database_url

    @classmethod
    def open(cls, settings: Settings) -> DuplicateFinder:
        """For the CLI: the schema made current first (cheap when it is)."""
        from trove.db.migrate import ensure_schema

        ensure_schema(settings.resolved_database_url)
        return cls(settings)

    def report(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        root_id: str | None = None,
    ) -> dict[str, Any]:
        """{"items": groups, "next_cursor", "totals"}; every group when `limit` is None."""
        with fast_index.connect(self.url) as conn:
            copies = fast_index.copies_with_hashes(conn, fast_index.duplicate_hashes(conn))
        groups = _groups(copies)
        totals = {
            "groups": len(groups),
            "files": sum(len(g) for g in groups),
            "wasted_bytes": sum(_wasted(g) for g in groups),
        }
        if root_id:
            groups = [g for g in groups if any(c.root_id == root_id for c in g)]
        if cursor:
            after = _decode_cursor(cursor)
            groups = [g for g in groups if _order(g) > after]
        page = groups if limit is None else groups[:limit]
        more = limit is not None and len(groups) > limit
        with fast_index.connect(self.url) as conn:
            preferred = fast_index.preferred_copies(conn, [g[0].hash for g in page])
        return {
            "items": [_group_dict(g, preferred=preferred.get(g[0].hash)) for g in page],
            "next_cursor": _encode_cursor(page[-1]) if more else None,
            "totals": totals,
        }


def _groups(copies: list[CopyRow]) -> list[list[CopyRow]]:
    by_hash: dict[str, list[CopyRow]] = {}
    for copy in copies:
        by_hash.setdefault(copy.hash, []).append(copy)
    groups = [g for g in by_hash.values() if len(g) > 1]
    groups.sort(key=_order)
    return groups


def _wasted(group: list[CopyRow]) -> int:
    return group[0].size * (len(group) - 1)


def _order(group: list[CopyRow]) -> tuple[int, str]:
    return (-_wasted(group), group[0].hash)


def _group_dict(group: list[CopyRow], *, preferred: str | None) -> dict[str, Any]:
    first = group[0]
    return {
        "hash": first.hash,
        # The copy the gallery shows for the others; None: the first indexed.
        "preferred_id": preferred if any(c.id == preferred for c in group) else None,
        "size": first.size,
        "count": len(group),
        "wasted_bytes": _wasted(group),
        "assets": [copy_dict(c) for c in group],
    }


def copy_dict(copy: CopyRow) -> dict[str, Any]:
    shown = display(from_stored(copy.rel_path, escaped=True)) if copy.path_escaped else None
    return {
        "id": copy.id,
        "root_id": copy.root_id,
        "root_path": copy.root_path,
        "path": shown or copy.rel_path,
        "filename": shown.rpartition("/")[2] if shown else copy.filename,
        "storage_urn": copy.storage_urn,
        "status": copy.status,
    }


def _encode_cursor(group: list[CopyRow]) -> str:
    raw = json.dumps(list(_order(group))).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        negative_wasted, content_hash = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(negative_wasted), str(content_hash)
    except (ValueError, TypeError) as exc:
        raise Invalid("not a valid cursor") from exc
