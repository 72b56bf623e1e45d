"""Web-friendly derivatives of formats browsers do not show (seed 4.1.3).

TIFF, HEIC/HEIF and camera RAW become a full-size WebP; MOV, AVI, MKV and other non-web
containers become an H.264/AAC MP4 (streams that are already H.264 + AAC/MP3 are only
remuxed, which takes a fraction of a second instead of a re-encode). Files go to the cache
as `web.webp` / `web.mp4`, shared by every copy of the same content.

In the graph a derivative is a *proxy* asset: `asset_type="proxy"`, `category="virtual"`,
`is_virtual=True`, `storage_urn="fs://system/dam_cache/{hash}/web.mp4"`, status `ready`,
no root. Each original links to it with `transformed_to` (original → proxy). A proxy row is
per content hash, so duplicates point at the same proxy; it is made by the pipeline from the
step's `Derivative` (pipeline/recording.py), never by the processor.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from trove.config import Settings
from trove.domain.enums import StepStatus
from trove.pipeline import imaging
from trove.pipeline.processor import AssetView, Derivative, StepResult
from trove.storage import cache
from trove.storage.originals import OriginalUnavailable
from trove.tools import ffmpeg
from trove.tools.run import ToolError

IMAGE_MIMES = frozenset({"image/tiff", *imaging.HEIF_MIMES})
VIDEO_MIMES = frozenset(
    {
        "video/quicktime",
        "video/x-msvideo",
        "video/x-matroska",
        "video/x-ms-asf",
        "video/x-ms-wmv",
        "video/x-flv",
        "video/mpeg",
        "video/mp2t",
        "video/3gpp",
        "video/x-m4v",
    }
)
VIDEO_SUFFIXES = frozenset(
    {".mov", ".avi", ".mkv", ".wmv", ".flv", ".mpg", ".mpeg", ".mts", ".m2ts", ".3gp"}
)
WEBP_MAX_SIDE = 16383
MAX_OUTPUT_BYTES = 8 * 1024**3


class TranscodeProcessor:
    name = "transcode"
    version = 1
    requires: tuple[str, ...] = ("hash", "mime", "probe")
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        imaging.configure(settings)

    def applies_to(self, asset: AssetView) -> bool:
        return self._target(asset) is not None

    def process(self, asset: AssetView) -> StepResult:
        if not asset.hash:
            return StepResult.skipped("no content hash yet")
        target = self._target(asset)
        path = cache.derivative_path(self.settings.resolved_cache_dir, asset.hash, f"web.{target}")
        try:
            derivative = self._image(asset, path) if target == "webp" else self._video(asset, path)
        except (imaging.CannotDecode, OriginalUnavailable, ToolError) as exc:
            return StepResult.failed(str(exc))
        return StepResult(status=StepStatus.OK, derivatives=(derivative,))

    def _target(self, asset: AssetView) -> str | None:
        mime = asset.mime_type or ""
        if asset.asset_type == "image" and (
            mime in IMAGE_MIMES
            or asset.suffix in imaging.HEIF_SUFFIXES
            or imaging.kind_of(asset) == "raw"
        ):
            return "webp"
        if asset.asset_type == "video" and (mime in VIDEO_MIMES or asset.suffix in VIDEO_SUFFIXES):
            return "mp4"
        return None

    def _image(self, asset: AssetView, path: os.PathLike[str]) -> Derivative:
        from PIL import Image

        target = Path(path)
        if not target.is_file():
            image = imaging.decode(asset, self.settings, box=WEBP_MAX_SIDE)
            buffer = io.BytesIO()
            image.save(buffer, "WEBP", quality=85, method=2)
            cache.write_atomic(target, buffer.getvalue())
            size = image.size
        else:
            with Image.open(target) as stored:
                size = stored.size
        return Derivative(
            path=target, mime_type="image/webp", asset_type="image", width=size[0], height=size[1]
        )

    def _video(self, asset: AssetView, path: os.PathLike[str]) -> Derivative:
        target = Path(path)
        if not target.is_file():
            streams = (asset.meta.get("probe") or {}).get("streams") or []
            video = [s for s in streams if s.get("type") == "video" and not s.get("attached_pic")]
            audio = [s for s in streams if s.get("type") == "audio"]
            if not video:
                raise ToolError("no video stream to transcode")
            copy = video[0].get("codec") == "h264" and all(
                s.get("codec") in ("aac", "mp3") for s in audio[:1]
            )
            temporary = cache.temporary_beside(target)
            try:
                ffmpeg.transcode_mp4(
                    asset.path,
                    temporary,
                    timeout=self.settings.transcode_timeout_s,
                    has_audio=bool(audio),
                    copy=copy,
                    max_bytes=MAX_OUTPUT_BYTES,
                )
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
        made = ffmpeg.probe(target, timeout=self.settings.tool_timeout_s)
        return Derivative(
            path=target,
            mime_type="video/mp4",
            asset_type="video",
            width=made.width,
            height=made.height,
            duration=made.duration,
        )
