"""Every hook Trove calls, one spec each. Built-in features register through these too."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from trove.pipeline.processor import MediaProcessor

PROJECT = "trove"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_media_processors() -> list[MediaProcessor]:
    """Return the media processors this plugin contributes to the pipeline.

    Each processor has a unique `name`, an integer `version` (bump it to have the step re-run
    on every asset it applies to), `requires` (names of steps whose results it reads) and
    `process`. Results of every plugin are merged; the pipeline orders them by `requires`.
    """
