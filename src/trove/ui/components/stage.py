"""Building blocks of the lightbox's stage, which drivers compose in `render_ui_component`:
a preview image, a player, the placeholder with an icon. Text from files is set as element
properties and labels, never as HTML.

A browser cannot show every original (AVI, MKV, WMV, HEVC or ProRes MOV, TIFF, HEIC, RAW):
for those the pipeline made a web copy (a proxy, `web_copy` in the asset's detail), and the
stage plays or shows that instead.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from trove.domain.enums import AssetType
from trove.ui.format import human_size

# Originals a browser shows as an image; used only when no preview exists yet.
BROWSER_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"})
# Containers and codecs every current browser plays (checked per stream for MOV/MP4).
BROWSER_VIDEO = frozenset({"video/mp4", "video/webm", "video/ogg"})
BROWSER_VIDEO_CODECS = frozenset({"h264", "vp8", "vp9", "av1", "theora"})
MAX_ORIGINAL_PREVIEW = 40_000_000


def file_url(asset_id: str) -> str:
    return f"/api/dam/assets/{asset_id}/file"


def preview_url(asset: dict[str, Any]) -> str | None:
    thumbnails = asset.get("thumbnails") or {}
    return thumbnails.get("large") or thumbnails.get("medium") or thumbnails.get("small")


def browser_plays(asset: dict[str, Any]) -> bool:
    """Whether a browser can play or show the original itself (else its web copy is used)."""
    mime = asset.get("mime_type") or ""
    if asset.get("asset_type") == "image":
        return mime in BROWSER_IMAGES or mime == "image/svg+xml"
    if asset.get("asset_type") != "video":
        return True
    if mime not in BROWSER_VIDEO and mime != "video/quicktime":
        return False
    streams = ((asset.get("metadata") or {}).get("probe") or {}).get("streams") or []
    codecs = {s.get("codec") for s in streams if s.get("type") == "video"}
    return not codecs or codecs <= BROWSER_VIDEO_CODECS


def playable_url(asset: dict[str, Any]) -> str:
    """The original's URL, or its web copy's when the browser cannot play the original."""
    copy = asset.get("web_copy")
    if copy and not browser_plays(asset):
        return file_url(copy["id"])
    return file_url(asset["id"])


def full_size(asset: dict[str, Any]) -> dict[str, Any]:
    """What the lightbox loads once a picture is zoomed past its large preview: the render of
    its edits when it has some, else the original when browsers show it, else its web copy;
    `full` None (the preview stays) otherwise."""
    copy, edited = asset.get("web_copy"), asset.get("edited")
    if asset.get("asset_type") != AssetType.IMAGE:
        return {"full": None, "width": None}
    if edited:
        return {"full": edited["url"], "width": edited.get("width")}
    if browser_plays(asset):
        return {"full": file_url(asset["id"]), "width": asset.get("width")}
    if copy:
        return {"full": file_url(copy["id"]), "width": copy.get("width")}
    return {"full": None, "width": None}


def video(asset: dict[str, Any]) -> None:
    player = ui.video(playable_url(asset), autoplay=False).classes("trove-viewer-video")
    preview = preview_url(asset)
    if preview:
        player.props["poster"] = preview


def audio(asset: dict[str, Any], *, icon: str) -> None:
    with ui.column().classes("items-center gap-4 trove-viewer-audio"):
        preview = preview_url(asset)
        if preview:
            image(preview, asset)
        else:
            ui.icon(icon, size="120px", color="grey-5")
        ui.audio(playable_url(asset)).classes("w-full")


def preview_or_placeholder(asset: dict[str, Any], *, icon: str) -> None:
    """The largest preview; an image the browser shows when there is none yet; else the
    icon with what is known."""
    preview = preview_url(asset)
    if preview:
        image(preview, asset)
    elif (
        asset.get("asset_type") == "image"
        and (asset.get("size") or 0) <= MAX_ORIGINAL_PREVIEW
        and (browser_plays(asset) or asset.get("web_copy"))
    ):
        image(playable_url(asset), asset)  # no preview made yet: the original or its copy
    else:
        placeholder(asset, icon=icon)


def image(src: str, asset: dict[str, Any]) -> None:
    element = ui.element("img").classes("trove-viewer-img")
    element.props["src"] = src
    element.props["alt"] = asset.get("title") or asset.get("filename") or ""


def placeholder(asset: dict[str, Any], *, icon: str, with_file: bool = True) -> None:
    with ui.column().classes("items-center gap-2 trove-viewer-placeholder"):
        ui.icon(icon, size="120px")
        ui.label(asset.get("title") or asset.get("filename") or "").classes("text-h6 text-center")
        ui.label(
            " · ".join(x for x in (asset.get("mime_type"), human_size(asset.get("size"))) if x)
        ).classes("text-grey-5")
        if with_file:
            button = ui.button("Open original", icon="open_in_new")
            button.props("outline color=white target=_blank")
            button.props["href"] = file_url(asset["id"])
