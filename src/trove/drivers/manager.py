"""AssetDriverManager (seed 4.9): AssetType -> driver, fed by the `register_asset_drivers` hook.

It answers three questions for the rest of Trove: which type a file is (`classify`, asked by
the scanner and the mime step), which driver handles an asset (`driver_for`: ingestion,
preview logic, UI), and which metadata schemas exist (`metadata`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from trove.domain.enums import AssetCategory, AssetType
from trove.drivers.base import BaseAssetDriver
from trove.drivers.metadata import MetadataRegistry, MetadataSchema, core_schemas

if TYPE_CHECKING:
    import pluggy

    from trove.config import Settings


class DriverConflict(Exception):
    """Two unrelated drivers were registered for the same asset type."""


class AssetDriverManager:
    def __init__(
        self,
        drivers: Iterable[BaseAssetDriver] = (),
        *,
        more_schemas: Callable[[], Iterable[MetadataSchema]] | None = None,
    ) -> None:
        """`more_schemas`: the media processors' (`metadata_schemas` of each), asked on first
        use of the registry, so that building the manager does not load the imaging stack."""
        self._drivers: dict[AssetType, BaseAssetDriver] = {}
        # classify's answers by (MIME, suffix) while every driver claims by those alone.
        self._classified: dict[tuple[str | None, str], AssetType] | None = {}
        self.more_schemas = more_schemas
        self._metadata: MetadataRegistry | None = None
        for driver in drivers:
            self.register_driver(driver)

    @classmethod
    def from_plugins(
        cls, plugins: pluggy.PluginManager, *, settings: Settings
    ) -> AssetDriverManager:
        return cls(
            driver
            for contributed in plugins.hook.register_asset_drivers(settings=settings)
            for driver in contributed
        )

    @classmethod
    def load(cls, settings: Settings) -> AssetDriverManager:
        """The built-in drivers and those of the installed and configured plugins."""
        from trove.plugins.manager import make_plugin_manager, plugin_modules

        plugins = make_plugin_manager(extra_modules=plugin_modules(settings))
        return cls.from_plugins(plugins, settings=settings)

    def register_driver(self, driver: BaseAssetDriver) -> None:
        """A type's driver. Of a driver and its subclass the subclass stays, in whichever order
        they come (a plugin refining a built-in driver: more file claims, another stage); two
        unrelated drivers for one type are refused."""
        known = self._drivers.get(driver.asset_type)
        if known is not None and isinstance(known, type(driver)):
            return
        if known is not None and not isinstance(driver, type(known)):
            raise DriverConflict(
                f"asset type {driver.asset_type!r} has two drivers: "
                f"{type(known).__name__} and {type(driver).__name__}"
            )
        self._drivers[driver.asset_type] = driver
        self._metadata = None
        plain = all(
            type(d).claims_file is BaseAssetDriver.claims_file for d in self._drivers.values()
        )
        self._classified = {} if plain else None

    @property
    def metadata(self) -> MetadataRegistry:
        """Every namespace schema: the drivers' and the media processors'."""
        if self._metadata is None:
            registry = MetadataRegistry(core_schemas())
            for driver in self._drivers.values():
                for schema in driver.metadata_schemas:
                    registry.register(schema)
            for schema in self.more_schemas() if self.more_schemas else ():
                registry.register(schema)
            self._metadata = registry
        return self._metadata

    def drivers(self) -> list[BaseAssetDriver]:
        return list(self._drivers.values())

    def get(self, asset_type: str) -> BaseAssetDriver | None:
        try:
            return self._drivers.get(AssetType(asset_type))
        except ValueError:
            return None

    def driver_for(self, asset: dict[str, Any]) -> BaseAssetDriver:
        """The asset's driver; OTHER's for a type nobody registered (a plugin removed)."""
        return self.get(str(asset.get("asset_type"))) or self._drivers[AssetType.OTHER]

    def classify(self, mime_type: str | None, filename: str = "") -> AssetType:
        """The type of a file: the driver claiming it most strongly (exact MIME, then suffix,
        then MIME prefix; registration order breaks ties), else OTHER. Asked for every file a
        scan registers: remembered by (MIME, suffix) unless a driver claims by more."""
        if self._classified is None:
            return self._strongest_claim(mime_type, filename)
        key = (mime_type, os.path.splitext(filename)[1].lower())
        found = self._classified.get(key)
        if found is None:
            found = self._classified[key] = self._strongest_claim(mime_type, filename)
        return found

    def _strongest_claim(self, mime_type: str | None, filename: str) -> AssetType:
        best, best_score = AssetType.OTHER, 0
        for asset_type, driver in self._drivers.items():
            score = driver.claims_file(mime_type=mime_type, filename=filename)
            if score > best_score:
                best, best_score = asset_type, score
        return best

    def category_of(self, asset_type: str) -> AssetCategory:
        driver = self.get(asset_type)
        return driver.category if driver is not None else AssetCategory.PHYSICAL

    def virtual_types(self) -> list[AssetType]:
        """The types `POST /api/dam/assets/virtual` can create."""
        return [t for t, d in self._drivers.items() if d.virtual_data is not None]

    def icons(self) -> dict[str, str]:
        """Asset type -> the icon its tiles show without a picture (the gallery's)."""
        return {
            str(t): d.get_preview_logic({"asset_type": str(t)}).icon
            for t, d in self._drivers.items()
        }

    def describe(self) -> dict[str, Any]:
        """The registry as `GET /api/dam/schemas` gives it."""
        return {
            "items": self.metadata.json_schemas(),
            "virtual_types": [
                {"asset_type": t, "json_schema": d.virtual_data.model_json_schema()}
                for t, d in self._drivers.items()
                if d.virtual_data is not None
            ],
        }
