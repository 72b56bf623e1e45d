"""ffprobe and ffmpeg, each call bounded in time and output size.

Hostile media can make ffmpeg open other files or URLs (an HLS playlist inside an AVI is the
classic): every call allows only the `file` protocol and a list of ordinary demuxers, and
names the input as `file:<absolute path>` so that no name is read as a protocol or option.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trove.tools.run import ToolError, run_tool

DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,asf,ogg,wav,mp3,"
    "flac,aac,aiff,amr,ac3,eac3,dts,caf,au,w64,wv,ape,dv,mxf,h264,hevc,m4v,gif,mjpeg,"
    "image2,webm_dash_manifest,tta,opus,dsf,wsaud,voc,rm,nut,ivf,yuv4mpegpipe,truehd,mlp"
)
SAFE_INPUT = ("-protocol_whitelist", "file", "-format_whitelist", DEMUXERS)


def _binary(name: str) -> str:
    return shutil.which(name) or name


def _input(path: Path) -> bytes:
    return b"file:" + os.fsencode(path.absolute())


@dataclass(frozen=True, kw_only=True)
class Probe:
    duration: float | None
    width: int | None
    height: int | None
    rotation: int
    info: dict[str, Any]


def probe(path: Path, *, timeout: float) -> Probe:
    """Duration, streams, codecs, bit rate and rotation of a video or audio file."""
    raw = run_tool(
        [
            _binary("ffprobe"),
            "-v",
            "error",
            *SAFE_INPUT,
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            _input(path),
        ],
        timeout=timeout,
        max_output=8 * 1024**2,
    )
    try:
        data = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ToolError("ffprobe returned malformed JSON") from exc
    return _summarise(data)


def _summarise(data: dict[str, Any]) -> Probe:
    fmt = data.get("format") or {}
    streams = [_stream(s) for s in data.get("streams") or [] if isinstance(s, dict)]
    if not streams:
        raise ToolError("no audio or video stream found")
    duration = _float(fmt.get("duration")) or max(
        (s.get("duration") or 0.0 for s in streams), default=None
    )
    video = next((s for s in streams if s["type"] == "video" and not s.get("attached_pic")), None)
    rotation = int(video.get("rotation", 0)) if video else 0
    width = height = None
    if video:
        width, height = video.get("width"), video.get("height")
        if rotation % 180 and width and height:  # shown upright: the display is turned
            width, height = height, width
    tags = {str(k).lower(): v for k, v in (fmt.get("tags") or {}).items()}
    info = {
        "format": fmt.get("format_name"),
        "format_long": fmt.get("format_long_name"),
        "duration": duration,
        "bit_rate": _int(fmt.get("bit_rate")),
        "size": _int(fmt.get("size")),
        "creation_time": tags.get("creation_time"),
        "rotation": rotation,
        "streams": streams,
    }
    return Probe(duration=duration, width=width, height=height, rotation=rotation % 360, info=info)


def _stream(s: dict[str, Any]) -> dict[str, Any]:
    kind = s.get("codec_type")
    out: dict[str, Any] = {
        "index": s.get("index"),
        "type": kind,
        "codec": s.get("codec_name"),
        "codec_long": s.get("codec_long_name"),
        "profile": s.get("profile"),
        "bit_rate": _int(s.get("bit_rate")),
        "duration": _float(s.get("duration")),
    }
    if kind == "video":
        out.update(
            width=_int(s.get("width")),
            height=_int(s.get("height")),
            pix_fmt=s.get("pix_fmt"),
            fps=_rate(s.get("avg_frame_rate")) or _rate(s.get("r_frame_rate")),
            frames=_int(s.get("nb_frames")),
            rotation=_rotation(s),
            attached_pic=bool((s.get("disposition") or {}).get("attached_pic")),
        )
    elif kind == "audio":
        out.update(
            sample_rate=_int(s.get("sample_rate")),
            channels=_int(s.get("channels")),
            channel_layout=s.get("channel_layout"),
        )
    language = (s.get("tags") or {}).get("language")
    if language:
        out["language"] = language
    return {k: v for k, v in out.items() if v is not None}


def _rotation(stream: dict[str, Any]) -> int:
    """Degrees the picture is turned for display, as ffprobe reports them: the display
    matrix (newer files) or the old `rotate` tag. 90 or 270 means width and height swap."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return int(float(side["rotation"])) % 360
    rotate = (stream.get("tags") or {}).get("rotate")
    return int(float(rotate)) % 360 if rotate else 0


def frame_at(path: Path, *, seconds: float, timeout: float, max_bytes: int) -> bytes:
    """One decoded frame as BMP bytes (fast to write and read; turned upright by ffmpeg)."""
    return run_tool(
        [
            _binary("ffmpeg"),
            "-nostdin",
            "-v",
            "error",
            *SAFE_INPUT,
            "-ss",
            f"{max(seconds, 0.0):.3f}",
            "-i",
            _input(path),
            "-map",
            "0:v:0",
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-c:v",
            "bmp",
            "-",
        ],
        timeout=timeout,
        max_output=max_bytes,
    )


def transcode_mp4(
    source: Path, target: Path, *, timeout: float, has_audio: bool, copy: bool, max_bytes: int
) -> None:
    """H.264/AAC MP4 for browsers, at most 1920 px on the long side, never upscaled; with
    `copy` the streams (already H.264 and AAC/MP3) are only moved into an MP4 container."""
    scale = (
        "scale='if(gte(iw,ih),min(1920,iw),-2)':'if(gte(iw,ih),-2,min(1920,ih))',"
        "scale=trunc(iw/2)*2:trunc(ih/2)*2"
    )
    if copy:
        audio = ["-map", "0:a:0?", "-c:a", "copy"] if has_audio else ["-an"]
        video = ["-c:v", "copy"]
    else:
        audio = ["-map", "0:a:0?", "-c:a", "aac", "-b:a", "128k"] if has_audio else ["-an"]
        video = [
            "-vf", scale, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
            "-pix_fmt", "yuv420p",
        ]  # fmt: skip
    run_tool(
        [
            _binary("ffmpeg"),
            "-nostdin",
            "-v",
            "error",
            "-y",
            *SAFE_INPUT,
            "-i",
            _input(source),
            "-map",
            "0:v:0",
            *audio,
            *video,
            "-movflags",
            "+faststart",
            "-fs",
            str(max_bytes),
            "-f",
            "mp4",
            _output(target),
        ],
        timeout=timeout,
    )


def _output(path: Path) -> bytes:
    return b"file:" + os.fsencode(path.absolute())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number >= 0 else None


def _rate(value: Any) -> float | None:
    if not isinstance(value, str) or "/" not in value:
        return None
    num, _, den = value.partition("/")
    try:
        n, d = float(num), float(den)
    except ValueError:
        return None
    return round(n / d, 3) if d else None
