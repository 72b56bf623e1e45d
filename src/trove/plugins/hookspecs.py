"""Every hook Trove calls, one spec each. Built-in features register through these too."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from trove.config import Settings
    from trove.domain.relations import RelationSpec
    from trove.drivers.base import BaseAssetDriver
    from trove.drivers.manager import AssetDriverManager
    from trove.pipeline.processor import MediaProcessor

PROJECT = "trove"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_media_processors(
    settings: Settings, drivers: AssetDriverManager
) -> list[MediaProcessor]:
    """Return the media processors this plugin contributes to the pipeline.

    Each processor has a unique `name`, an integer `version` (bump it and run
    `trove reprocess --step NAME` to have the step re-run where it is stale), `requires`
    (names of steps whose results it reads), `applies_to(asset)` and `process(asset)`; it may
    add `process_batch(assets)` when one call over many assets is cheaper, and `close()` to
    release a resource. `settings` are the running Trove's (timeouts, size limits, cache);
    `drivers` the `AssetDriverManager` (which type a file is, which driver handles it). A
    processor may declare the metadata namespaces it writes (`metadata_schemas`, as a
    driver does). An implementation may leave either argument out. Results of every plugin
    are merged; the pipeline orders them by `requires`.
    """


@hookspec
def register_asset_drivers(settings: Settings) -> list[BaseAssetDriver]:
    """Return the asset drivers (`trove.drivers.base.BaseAssetDriver`) this plugin contributes.

    A driver owns one `AssetType`: which files it claims at indexing (`claims`: exact MIME
    types, suffixes, MIME prefixes), how its preview is made (`get_preview_logic`), its UI
    (`render_ui_component` for the lightbox stage, `render_inspector_section` for the
    inspector), the typed metadata namespaces it owns (`metadata_schemas`), and, when the type
    can be created through `POST /api/dam/assets/virtual`, the body it accepts
    (`virtual_data`) and what a new asset gets from it (`on_ingest`). Trove's own drivers come
    through this hook too; two different drivers for one type are refused at start-up.
    An implementation may leave `settings` out. See the `trove.drivers` package docstring.
    """


@hookspec
def register_relations() -> list[RelationSpec]:
    """Return the relations (`trove.domain.relations.RelationSpec`) this plugin adds to the graph.

    Each has a unique `name` (what links store), `label` and `inverse_label` (how the relation
    reads from the source and from the target: "contains" / "is in folder"), `symmetric`
    (a->b also reads b->a), `hierarchical` (tags set on the source flow down to the target and
    below) and `dependent` (`Dependent.SOURCE` / `TARGET`: which end impact analysis reaches
    when the other is deleted; None for associative relations). Links with a relation no
    plugin registered are refused, listing the known ones. Trove's own relations come through
    this hook too; a name registered twice must be registered identically.
    """
