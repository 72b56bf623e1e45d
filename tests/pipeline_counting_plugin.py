"""A test plugin for the worker tests: a slow step that logs every execution.

Loaded into `trove worker` processes through the `plugins` setting
(TROVE_PLUGINS=tests.pipeline_counting_plugin), it shows how often each asset was processed.
"""

from __future__ import annotations

import os
import time

from trove.pipeline.processor import AssetView, StepResult
from trove.plugins.hookspecs import hookimpl


class CountingProcessor:
    name = "counted"
    version = 1
    requires: tuple[str, ...] = ("hash",)
    required = False

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type != "collection"

    def process(self, asset: AssetView) -> StepResult:
        log = os.environ["TROVE_TEST_COUNT_LOG"]
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{asset.id} {os.getpid()}\n".encode())
        finally:
            os.close(fd)
        time.sleep(float(os.environ.get("TROVE_TEST_COUNT_DELAY", "0.1")))
        return StepResult.ok()


@hookimpl
def register_media_processors():  # type: ignore[no-untyped-def]
    return [CountingProcessor()]
