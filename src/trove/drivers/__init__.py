"""Asset drivers (seed 4.8, 4.9): each AssetType's behaviour in one small module.

How a driver plugs in (Trove's own in this package do exactly this, see `builtin.py`):

1. Subclass `trove.drivers.base.BaseAssetDriver` in one module and set its class attributes:
   - `asset_type` (one `AssetType`; one driver per type) and `category`
     (physical / virtual / composite: what a new asset of the type is given);
   - `claims = FileClaim(mime_types=..., suffixes=..., mime_prefixes=...)`: the files the
     scanner and the mime step classify as this type. The strongest claim wins: an exact MIME
     type, then a suffix (".zip"), then a prefix ("image/"); a type that is never a file
     claims nothing;
   - `metadata_schemas = (MetadataSchema(namespace="...", model=SomeModel, writable=...),)`:
     the pydantic models of the namespaces this type owns (`drivers/metadata.py`).
     `writable=True` lets users PATCH the namespace (validated, 422 naming the field);
     otherwise it is written by a pipeline step and read-only. A media processor declares
     the namespaces its step writes the same way, as a `metadata_schemas` class attribute;
   - `virtual_data = SomeInModel` when the type can be created without a file through
     `POST /api/dam/assets/virtual {"asset_type": ..., "data": {...}}`: `data` is validated
     by that model (422 naming the field) before anything is stored.
2. Implement
   - `on_ingest(asset, source_data)`: fill the `IngestDraft` of a new virtual asset from the
     validated data: `filename`, `title`, `metadata[namespace]`, `links` (`PlannedLink`s,
     checked against the relation registry and made in the same transaction), `status`
     (PROCESSING to run the pipeline steps that apply to the type next, READY when there is
     nothing to do). Check references with `asset.lookup(id)`; raise
     `services.errors.Invalid` for one that does not hold. The asset is stored with
     `is_virtual=True`, `category` from the driver, `storage_urn="virtual://<type>/<id>"`;
   - `get_preview_logic(asset)`: how its picture is made (`PreviewKind`: decode, frame,
     crop, screenshot, ...) and the icon its tile and stage show while there is none. The
     picture itself is made by a media processor (`register_media_processors`) whose
     `applies_to` selects the type: drivers describe, processors do the work in workers;
   - optionally `render_ui_component(asset)`: the lightbox stage (NiceGUI, building blocks in
     `trove.ui.components.stage`), and `render_inspector_section(asset)`: rows on top of the
     inspector's General tab. `asset` is the API's detail dict. Render file- or user-given
     text with labels, never as HTML.
3. Return an instance from a `register_asset_drivers` hook implementation
   (`@hookimpl def register_asset_drivers(settings): return [MyDriver()]`) in a module loaded
   as a plugin (an entry point in the `trove` group, or the `plugins` setting).

`AssetDriverManager` (manager.py) collects them; `Services.drivers` holds the running one.
"""
