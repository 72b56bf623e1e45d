"""A test plugin for the pipeline pool tests: a step that ends its process abruptly, as a
decoder crashing on a hostile file would (a segfault takes no `finally` with it), for files
whose name starts with `crash`; every other file passes."""

from __future__ import annotations

import os

from trove.pipeline.processor import AssetView, StepResult
from trove.plugins.hookspecs import hookimpl


class CrashingProcessor:
    name = "crashing"
    version = 1
    requires: tuple[str, ...] = ()
    required = False

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type != "collection"

    def process(self, asset: AssetView) -> StepResult:
        if (asset.filename or "").startswith("crash"):
            os._exit(70)
        return StepResult.ok()


@hookimpl
def register_media_processors():  # type: ignore[no-untyped-def]
    return [CrashingProcessor()]
