"""The lightbox stages and inspector rows of the composite types, which their drivers render:
a texture pack's virtual folder view, an app package's install card, a document's card
(amount and status for an invoice), and regions (the crop on its parent; boxes drawn on a
picture and listed in its inspector).

Names, versions, licences and document fields come from files: they are set as labels and
element properties, never as HTML; the only markup built here is SVG rectangles from numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from trove.ui.context import call, current_viewer, services
from trove.ui.format import human_size

MAX_ENTRIES_SHOWN = 2000
ARCHIVE_TILE = "width: 148px; text-align: center; text-decoration: none; color: inherit"
CARD = "min-width: 360px; max-width: 640px; background: #fff; color: #1f2328"


def entry_url(asset_id: str, index: int) -> str:
    return f"/api/dam/assets/{asset_id}/entries/{index}"


# --- texture packs -------------------------------------------------------------------------


def texture_pack_stage(asset: dict[str, Any]) -> None:
    """The archive as folders of files, images with a preview; a file downloads on click."""
    pack = (asset.get("metadata") or {}).get("texture_pack") or {}
    entries = pack.get("entries") or []
    area = ui.scroll_area().classes("trove-archive").style("width: 100%; height: 100%")
    with area, ui.column().classes("q-pa-md gap-2").style("color: #fff"):
        ui.label(asset.get("filename") or "").classes("text-h6")
        ui.label(
            f"{pack.get('files', 0)} files · {pack.get('images', 0)} images · "
            f"{human_size(pack.get('total_size'))} unpacked"
        ).classes("text-grey-5")
        for note in pack.get("notes") or []:
            ui.label(str(note)).classes("text-warning")
        for folder, files in folders(entries[:MAX_ENTRIES_SHOWN]).items():
            expansion = ui.expansion(folder or "(top level)", icon="folder", value=True)
            with expansion.classes("w-full"), ui.row().classes("gap-3"):
                for entry in files:
                    _archive_tile(asset["id"], entry)
        if len(entries) > MAX_ENTRIES_SHOWN:
            ui.label(f"… and {len(entries) - MAX_ENTRIES_SHOWN} more entries")


def folders(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Entries grouped by the folder part of their name, folders themselves left out."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if entry.get("is_dir"):
            continue
        name = str(entry.get("name") or "").replace("\\", "/")
        folder, _, _ = name.rpartition("/")
        grouped.setdefault(folder, []).append(entry)
    return dict(sorted(grouped.items()))


def _archive_tile(asset_id: str, entry: dict[str, Any]) -> None:
    name = str(entry.get("name") or "").replace("\\", "/").rsplit("/", 1)[-1]
    refused = entry.get("refused")
    link = ui.element("a").classes("trove-archive-entry column items-center gap-1")
    link.style(ARCHIVE_TILE)
    if not refused:
        link.props["href"] = entry_url(asset_id, int(entry["index"]))
        link.props["download"] = name
    with link:
        if entry.get("is_image") and not refused:
            image = ui.element("img").style("width: 128px; height: 128px; object-fit: contain")
            image.props["src"] = f"{entry_url(asset_id, int(entry['index']))}/preview"
            image.props["loading"] = "lazy"
            image.props["alt"] = name
        else:
            ui.icon("block" if refused else "insert_drive_file", size="64px")
        ui.label(name).classes("text-caption ellipsis").style("max-width: 148px")
        detail = str(refused) if refused else human_size(entry.get("size")) or ""
        ui.label(detail).classes("text-caption text-grey-5")


# --- app packages --------------------------------------------------------------------------


def install_card(asset: dict[str, Any]) -> None:
    """Version info, signature, licence, and Install when a command is configured."""
    metadata = asset.get("metadata") or {}
    package = metadata.get("app_package") or {}
    with ui.card().classes("trove-install-card q-pa-lg").style(CARD):
        with ui.row().classes("items-center no-wrap gap-4"):
            icon = (asset.get("thumbnails") or {}).get("small")
            if icon:
                picture = ui.element("img").style("width: 64px; height: 64px")
                picture.props["src"] = icon
                picture.props["alt"] = ""
            else:
                ui.icon("install_desktop", size="64px")
            with ui.column().classes("gap-0"):
                ui.label(package.get("product_name") or asset.get("filename") or "").classes(
                    "text-h6"
                )
                ui.label(package.get("company") or "").classes("text-grey-7")
        for label, value in install_rows(package):
            with ui.row().classes("no-wrap gap-2"):
                ui.label(label).classes("text-grey-7").style("min-width: 120px")
                ui.label(value)
        licence = package.get("licence")
        if licence:
            with ui.expansion(f"Licence ({licence.get('source')}: {licence.get('name')})"):
                ui.label(str(licence.get("text") or "")).style("white-space: pre-wrap")
        outcome = metadata.get("install") or {}
        status = ui.label(_install_status(outcome)).classes("text-grey-7")
        if services().installs.available and current_viewer().is_admin:
            button = ui.button("Install", icon="download_for_offline")
            button.on_click(lambda: _install(asset, status))


def install_rows(package: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("Version", package.get("product_version")),
        ("File version", package.get("file_version")),
        ("Description", package.get("description")),
        ("Copyright", package.get("copyright")),
        ("Machine", package.get("machine")),
    ]
    if package.get("signed") is not None:
        rows.append(("Signature", "present" if package["signed"] else "none"))
    if package.get("format") == "msi":
        rows.append(("Format", "Windows Installer database (no version resource)"))
    return [(label, str(value)) for label, value in rows if value]


async def _install(asset: dict[str, Any], status: Any) -> None:
    try:
        queued = await services().installs.queue(asset["id"], viewer=current_viewer())
    except Exception as exc:  # NotFound / Invalid: shown, not raised into the page
        ui.notify(str(exc), type="warning")
        return
    status.text = _install_status({"status": queued.status})
    ui.notify("Install queued")


def _install_status(outcome: dict[str, Any]) -> str:
    if not outcome:
        return ""
    message = f": {outcome['message']}" if outcome.get("message") else ""
    return f"Last install: {outcome.get('status')}{message}"


# --- documents -----------------------------------------------------------------------------


SUB_TYPES = {"invoice": "Invoice", "contract": "Contract", "tech_spec": "Technical spec"}


def document_card(asset: dict[str, Any]) -> None:
    """The subtype's card: an invoice's amount and status, a contract's parties, with the
    number and dates the rules read; whoever may edit sets the subtype by hand here."""
    fields = (asset.get("metadata") or {}).get("document") or {}
    sub_type = fields.get("sub_type")
    can_write = current_viewer().can_write
    if not sub_type and not can_write:
        return
    with ui.card().classes("trove-document-card q-pa-md").style(CARD):
        if can_write:
            choice = ui.select(SUB_TYPES, value=sub_type, label="Document type")
            choice.classes("trove-document-type w-full")
            choice.on_value_change(lambda event: _set_sub_type(asset, fields, event.value))
        else:
            ui.label(SUB_TYPES.get(str(sub_type), str(sub_type))).classes("text-overline")
        if sub_type == "invoice" and fields.get("total"):
            ui.label(money(fields.get("total"), fields.get("currency"))).classes("text-h4")
            status = str(fields.get("status") or "due")
            ui.badge(status, color="positive" if status == "paid" else "warning")
        for label, value in document_rows(fields):
            with ui.row().classes("no-wrap gap-2"):
                ui.label(label).classes("text-grey-7").style("min-width: 90px")
                ui.label(value)


async def _set_sub_type(asset: dict[str, Any], fields: dict[str, Any], value: str) -> None:
    """Keep a subtype chosen by hand (the rules then only read its fields)."""
    from trove.services.assets import AssetPatch

    chosen = {**fields, "sub_type": value, "sub_type_source": "hand"}
    try:
        patch = AssetPatch(metadata={"document": chosen})
        await call(services().assets.update, asset["id"], patch, viewer=current_viewer())
    except Exception as exc:  # Invalid / NotFound: shown, not raised into the page
        ui.notify(str(exc), type="warning")
        return
    ui.notify(f"Saved as {SUB_TYPES.get(value, value)}")


def document_rows(fields: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("Number", fields.get("number")),
        ("Due", fields.get("due_date")),
        ("Dates", ", ".join(fields.get("dates") or [])),
        ("Parties", ", ".join(fields.get("parties") or [])),
        ("Set by", "hand" if fields.get("sub_type_source") != "rules" else "rules"),
    ]
    return [(label, str(value)) for label, value in rows if value]


def money(total: Any, currency: Any) -> str:
    try:
        amount = f"{float(total):,.2f}"
    except (TypeError, ValueError):
        amount = str(total)
    return f"{amount} {currency}" if currency else amount


# --- regions -------------------------------------------------------------------------------


def region_svg(regions: list[dict[str, Any]], *, size: tuple[int, int], highlight: str = "") -> str:
    """SVG rectangles for regions on a picture drawn `size` pixels large (numbers only)."""
    width, height = size
    shapes = []
    for region in regions:
        x, y, w, h = (float(v) for v in region["bbox"])
        strong = region.get("id") == highlight
        colour, stroke = ("#ffd54f", 4) if strong else ("#4fc3f7", 2)
        shapes.append(
            f'<rect x="{x * width:.1f}" y="{y * height:.1f}" width="{w * width:.1f}" '
            f'height="{h * height:.1f}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
            f'vector-effect="non-scaling-stroke" />'
        )
    return "".join(shapes)


def preview_size(asset: dict[str, Any], box: int = 1920) -> tuple[int, int]:
    """The pixel size of an asset's large preview (its own size fitted in `box`)."""
    width, height = asset.get("width") or box, asset.get("height") or box
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class RegionLayer:
    """A picture with its regions drawn on it; dragging draws a new one (saved at once)."""

    def __init__(
        self,
        asset: dict[str, Any],
        src: str,
        *,
        highlight: str = "",
        editable: bool = True,
        on_created: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.asset = asset
        self.size = preview_size(asset)
        self.highlight = highlight
        self.on_created = on_created
        self.regions: list[dict[str, Any]] = []
        self._start: tuple[float, float] | None = None
        events = ["mousedown", "mouseup"] if editable else []
        self.image = ui.interactive_image(
            src, on_mouse=self._mouse, events=events, cross=editable
        ).classes("trove-region-layer")
        self.image.props["alt"] = asset.get("title") or asset.get("filename") or ""

    def show(self, regions: list[dict[str, Any]]) -> None:
        self.regions = regions
        self.image.content = region_svg(regions, size=self.size, highlight=self.highlight)

    async def _mouse(self, event: Any) -> None:
        point = (event.image_x / self.size[0], event.image_y / self.size[1])
        if event.type == "mousedown":
            self._start = point
            return
        if self._start is None:
            return
        bbox = drag_box(self._start, point)
        self._start = None
        if bbox is None:
            return
        try:
            region = await call(
                services().regions.create, self.asset["id"], bbox, viewer=current_viewer()
            )
        except Exception as exc:  # Invalid / NotFound: shown, not raised into the page
            ui.notify(str(exc), type="warning")
            return
        self.show([*self.regions, region])
        if self.on_created:
            self.on_created(region)


def drag_box(start: tuple[float, float], end: tuple[float, float]) -> list[float] | None:
    """The normalised [x, y, w, h] between two corners, clamped to the picture; None for a
    click (a box under 1% of a side)."""
    x0, x1 = sorted(min(1.0, max(0.0, v)) for v in (start[0], end[0]))
    y0, y1 = sorted(min(1.0, max(0.0, v)) for v in (start[1], end[1]))
    if x1 - x0 < 0.01 or y1 - y0 < 0.01:
        return None
    return [round(x0, 5), round(y0, 5), round(x1 - x0, 5), round(y1 - y0, 5)]


def region_list(regions: list[dict[str, Any]], *, on_open: Callable[[str], Any]) -> None:
    """The inspector's list of a picture's regions, each opening its region."""
    if not regions:
        return
    ui.label(f"Regions ({len(regions)})").classes("text-subtitle2 q-mt-sm")
    for region in regions:
        x, y, w, h = (round(float(v) * 100) for v in region["bbox"])
        label = region.get("title") or f"{w}x{h}% at {x}, {y}%"
        depicts = ", ".join(region.get("depicts") or [])
        with (
            ui.row()
            .classes("items-center no-wrap gap-2 cursor-pointer trove-region-row")
            .on("click", lambda _e, rid=region["id"]: on_open(rid))
        ):
            ui.icon("crop_free")
            ui.label(str(label))
            if depicts:
                ui.label(f"· {depicts}").classes("text-grey-7")


def region_stage(asset: dict[str, Any]) -> None:
    """A region's stage: its parent picture with this region highlighted among the others,
    and a link that opens the parent itself."""
    region = (asset.get("metadata") or {}).get("region") or {}
    parent_id, parent_hash = region.get("parent_id"), region.get("parent_hash")
    if not parent_id or not parent_hash:
        ui.label("This region has lost its picture.").classes("text-grey-5")
        return
    parent = {
        "id": parent_id,
        "width": region.get("parent_width"),
        "height": region.get("parent_height"),
        "filename": asset.get("filename"),
    }
    src = f"/api/dam/assets/{parent_id}/thumbnail/large?v={str(parent_hash)[:16]}"
    with ui.column().classes("items-center gap-2 trove-region-stage"):
        layer = RegionLayer(parent, src, highlight=asset["id"], editable=False)
        layer.show(services().regions.regions_of(parent_id, viewer=current_viewer()))
        link = ui.link("Open the picture", f"/?asset={parent_id}").classes("text-white")
        link.props["aria-label"] = "Open the picture this region is on"


def region_parent_row(asset: dict[str, Any]) -> None:
    region = (asset.get("metadata") or {}).get("region") or {}
    if region.get("parent_id"):
        with ui.row().classes("items-center gap-2"):
            ui.icon("crop_free")
            ui.link("Region of a picture", f"/?asset={region['parent_id']}")


def picture_with_regions(asset: dict[str, Any], *, icon: str) -> None:
    """A picture's stage: its preview with the regions drawn on it (drag to draw one more);
    without a preview yet, what the stage shows for any picture."""
    from trove.ui.components import stage

    src = stage.preview_url(asset)
    if not src:
        stage.preview_or_placeholder(asset, icon=icon)
        return
    if asset.get("edited"):  # regions are boxes on the original: shown with the original
        stage.image(src, asset)
        return
    viewer = current_viewer()
    layer = RegionLayer(
        asset,
        src,
        editable=viewer.can_write,  # a read-only credential or a share link only looks
        on_created=lambda _region: regions_section.refresh(),
    )
    layer.show(services().regions.regions_of(asset["id"], viewer=viewer))


@ui.refreshable
def regions_section(asset: dict[str, Any]) -> None:
    """The inspector's list of the regions on a picture; a click opens the region."""
    regions = services().regions.regions_of(asset["id"], viewer=current_viewer())
    region_list(regions, on_open=lambda region_id: ui.navigate.to(f"/?asset={region_id}"))
