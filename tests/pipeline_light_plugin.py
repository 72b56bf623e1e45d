"""A test plugin for the light-steps tests: a light step that fails on `bad-*` files and
raises on `crash-*` ones, so those files must leave the scan's light pass for the pipeline."""

from __future__ import annotations

from trove.pipeline.processor import AssetView, StepResult
from trove.plugins.hookspecs import hookimpl


class PickyProcessor:
    name = "picky"
    version = 1
    requires: tuple[str, ...] = ("hash",)
    required = False
    light = True

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type != "collection" and not asset.is_virtual

    def process(self, asset: AssetView) -> StepResult:
        if asset.filename.startswith("crash-"):
            raise ValueError("picky cannot read this one")
        if asset.filename.startswith("bad-"):
            return StepResult.failed("picky refuses bad files")
        return StepResult.ok(metadata={"picky": {"size": asset.size}})


@hookimpl
def register_media_processors():  # type: ignore[no-untyped-def]
    return [PickyProcessor()]
