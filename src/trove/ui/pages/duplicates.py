"""Duplicates: files with the same SHA-256, each group with every path it lives at.

The grouping is issue 4's IntegrityService; until that service exists this page says so and
the navigation hides it (checked at runtime, so nothing here imports it at load time).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from nicegui import ui

from trove.ui.context import call, services
from trove.ui.format import human_size
from trove.ui.layout import frame

SERVICE_MODULES = ("trove.services.integrity", "trove.services.duplicates")
MAX_GROUPS = 200


def duplicates_service_module() -> str | None:
    for name in SERVICE_MODULES:
        try:
            if importlib.util.find_spec(name) is not None:
                return name
        except ModuleNotFoundError:
            continue
    return None


def duplicate_groups() -> list[dict[str, Any]] | None:
    """Groups as [{hash, size, copies: [{id, path, root}]}], or None without the service."""
    provider = _provider()
    if provider is None:
        return None
    result = provider(limit=MAX_GROUPS)
    return [normalise_group(g) for g in _items(result)]


def _provider() -> Any:
    svc = services()
    for attr in ("integrity", "duplicates"):
        holder = getattr(svc, attr, None)
        for method in ("duplicates", "duplicate_groups", "groups", "list"):
            function = getattr(holder, method, None)
            if callable(function):
                return function
    return None


def _items(result: Any) -> list[Any]:
    if isinstance(result, dict):
        return list(result.get("items") or result.get("groups") or [])
    return list(getattr(result, "items", result) or [])


def normalise_group(group: Any) -> dict[str, Any]:
    data = group if isinstance(group, dict) else getattr(group, "__dict__", {}) or {}
    if not data and hasattr(group, "_asdict"):
        data = group._asdict()
    copies = data.get("copies") or data.get("assets") or data.get("items") or []
    return {
        "hash": data.get("hash") or data.get("sha256") or "",
        "size": data.get("size"),
        "copies": [_copy(c) for c in copies],
    }


def _copy(copy: Any) -> dict[str, Any]:
    data = copy if isinstance(copy, dict) else getattr(copy, "__dict__", {})
    root = data.get("root") or data.get("root_path") or data.get("root_name") or ""
    return {
        "id": data.get("id") or data.get("asset_id"),
        "path": data.get("path") or data.get("rel_path") or data.get("filename") or "",
        "root": root if isinstance(root, str) else (root or {}).get("path", ""),
        "thumbnails": data.get("thumbnails") or {},
    }


async def duplicates_page() -> None:
    with frame(active="/duplicates", title="Duplicates"):
        pass
    with ui.column().classes("trove-page w-full gap-4"):
        ui.label("Duplicates").classes("text-h5 trove-page-title")
        groups = await call(duplicate_groups)
        if groups is None:
            ui.label("Duplicate detection is not available in this version yet.").classes(
                "text-grey-7"
            )
            return
        if not groups:
            ui.label("No duplicates: every file's content is unique.").classes("text-grey-7")
            return
        for group in groups:
            duplicate_card(group)


def duplicate_card(group: dict[str, Any]) -> None:
    copies = group["copies"]
    with ui.card().classes("w-full trove-dup-card").props("flat bordered"):
        with ui.row().classes("items-center gap-3 no-wrap w-full"):
            preview = (copies[0]["thumbnails"] or {}).get("small") if copies else None
            if preview:
                image = ui.element("img").classes("trove-dup-thumb")
                image.props["src"] = preview
                image.props["alt"] = ""
            else:
                ui.icon("content_copy", size="40px", color="grey-6")
            with ui.column().classes("gap-0"):
                ui.label(f"{len(copies)} copies · {human_size(group['size']) or '?'} each")
                ui.label(f"SHA-256 {group['hash'][:16]}…").classes("text-caption text-grey-7")
        for copy in copies:
            with ui.row().classes("items-center gap-2 no-wrap trove-dup-path"):
                ui.icon("description", size="18px", color="grey-6")
                target = f"/?asset={copy['id']}" if copy["id"] else None
                text = (
                    f"{copy['root'].rstrip('/')}/{copy['path']}" if copy["root"] else copy["path"]
                )
                if target:
                    ui.link(text, target)
                else:
                    ui.label(text)
