"""ffprobe for video and audio (seed 4.1.2): duration, streams, codecs, bit rate, rotation.

Stored under `metadata["probe"]`; duration and the displayed width/height (after rotation)
go to the asset's core fields.
"""

from __future__ import annotations

from trove.config import Settings
from trove.pipeline.processor import AssetView, StepResult
from trove.storage.originals import OriginalUnavailable, open_original
from trove.tools import ffmpeg
from trove.tools.run import ToolError


class ProbeProcessor:
    name = "probe"
    version = 1
    requires: tuple[str, ...] = ("mime",)
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type in ("video", "audio")

    def process(self, asset: AssetView) -> StepResult:
        try:
            with open_original(asset.path):  # regular file, not a FIFO or a swapped symlink
                pass
            probe = ffmpeg.probe(asset.path, timeout=self.settings.tool_timeout_s)
        except (ToolError, OriginalUnavailable) as exc:
            return StepResult.failed(str(exc))
        updates: dict[str, object] = {}
        if probe.duration is not None:
            updates["duration"] = round(probe.duration, 3)
        if probe.width and probe.height:
            updates["width"], updates["height"] = probe.width, probe.height
        return StepResult.ok(metadata={"probe": probe.info}, **updates)
