"""Who is shown an album's collage: it is drawn from the album's first members whoever
looks, so one who may see the album but not all of them (a public album of a library they
cannot open) is shown neither the collage nor its URLs; their tile shows the empty album."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trove.domain.access import Viewer
from trove.domain.albums import preview_sources
from trove.repositories.assets import AssetRepository


def hidden_collages(session: Any, assets: Iterable[Any], *, viewer: Viewer) -> set[str]:
    """The ids of the albums among `assets` whose collage shows a picture the viewer may
    not see: one query for a whole listing."""
    if viewer.sees_everything:
        return set()
    shown = {asset.id: set(preview_sources(asset.summary_meta)) for asset in assets}
    shown = {asset_id: hashes for asset_id, hashes in shown.items() if hashes}
    if not shown:
        return set()
    wanted = sorted(set().union(*shown.values()))
    seen = AssetRepository(session).visible_hashes(wanted, viewer)
    return {asset_id for asset_id, hashes in shown.items() if not hashes <= seen}
