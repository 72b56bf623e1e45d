"""A Windows executable or installer as an app package (seed 4.8, AppPackageDriver).

pefile reads it in a child process under a time and memory limit (tools/pe.py): product
name, versions, company, description, signature presence, machine, into
`metadata["app_package"]`. The icon becomes the package's preview pyramid and a component
asset in the cache linked `contains`; a licence is taken from the file's resources or from a
LICENSE / EULA / COPYING file beside it (that file, when indexed, is linked `contains` too).
An MSI database is not a PE file: it is recorded as a package without version info.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from typing import Any

from trove.config import Settings
from trove.domain.enums import AssetCategory, AssetType, Relation, StepStatus
from trove.pipeline import imaging
from trove.pipeline.processor import AssetView, Derivative, SiblingLink, StepResult
from trove.pipeline.processors.thumbnails import store_pyramid
from trove.storage import cache
from trove.storage.originals import OriginalUnavailable, open_original
from trove.tools.pe import PeInfo, inspect_pe
from trove.tools.run import ToolError

NAMESPACE = "app_package"
MAX_LICENCE_BYTES = 256 * 1024
LICENCE_TEXT = 4000  # kept in the metadata; the whole file is its own asset
MAX_FOLDER_ENTRIES = 10_000  # a licence is looked for among this many names beside the file
_LICENCE_NAME = re.compile(r"^(licen[cs]e|eula|copying)([._-].*)?$", re.IGNORECASE)
_MSI_MIMES = frozenset({"application/x-msi", "application/x-ole-storage"})


class AppPackageProcessor:
    name = "app_package"
    version = 1
    requires: tuple[str, ...] = ("hash", "mime")
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        imaging.configure(settings)

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.APP_PACKAGE

    def process(self, asset: AssetView) -> StepResult:
        licence, siblings = _adjacent_licence(asset)
        if asset.mime_type in _MSI_MIMES or asset.suffix == ".msi":
            found: dict[str, Any] = {"format": "msi"}
            if licence:
                found["licence"] = licence
            return StepResult(
                status=StepStatus.OK,
                metadata={NAMESPACE: found},
                siblings=siblings,
                updates={"category": AssetCategory.COMPOSITE},
            )
        try:
            info = inspect_pe(
                asset.path, timeout=self.settings.pe_timeout_s, memory_mb=self.settings.pe_memory_mb
            )
        except (ToolError, OriginalUnavailable) as exc:
            return StepResult.failed(f"pefile: {_reason(exc)}")
        found = {"format": "pe", **info.fields, "icon": info.icon is not None}
        if "licence" in found:
            found["licence"]["text"] = found["licence"]["text"][:LICENCE_TEXT]
        elif licence:
            found["licence"] = licence
        updates, derivatives = self._icon(asset, info)
        found["icon"] = bool(derivatives)
        return StepResult(
            status=StepStatus.OK,
            metadata={NAMESPACE: found},
            derivatives=derivatives,
            siblings=siblings,
            updates={"category": AssetCategory.COMPOSITE, **updates},
        )

    def _icon(
        self, asset: AssetView, info: PeInfo
    ) -> tuple[dict[str, Any], tuple[Derivative, ...]]:
        """The icon as the package's previews and as a PNG component in the cache."""
        if info.icon is None or not asset.hash:
            return {}, ()
        try:
            image = imaging.decode_bytes(info.icon, self.settings)
        except imaging.CannotDecode:
            return {}, ()  # a broken icon costs the preview, not the version info
        updates = store_pyramid(asset, image, self.settings)
        png = io.BytesIO()
        image.save(png, "PNG")
        path = cache.derivative_path(self.settings.resolved_cache_dir, asset.hash, "icon.png")
        cache.write_atomic(path, png.getvalue())
        component = Derivative(
            path=path,
            mime_type="image/png",
            asset_type=AssetType.IMAGE,
            relation=Relation.CONTAINS,
            width=image.width,
            height=image.height,
        )
        return updates, (component,)


def _adjacent_licence(asset: AssetView) -> tuple[dict[str, Any] | None, tuple[SiblingLink, ...]]:
    """A licence file in the installer's folder: its text (capped) and a `contains` link."""
    try:
        with os.scandir(asset.path.parent) as entries:
            names = sorted(
                e.name
                for e in itertools.islice(entries, MAX_FOLDER_ENTRIES)
                if _LICENCE_NAME.match(e.name)
            )
    except OSError:
        return None, ()
    for name in names:
        try:
            with open_original(asset.path.parent / name) as fd:
                raw = os.read(fd, MAX_LICENCE_BYTES)
        except (OriginalUnavailable, OSError):
            continue
        text = raw.decode("utf-8", "replace").replace("\x00", "")[:LICENCE_TEXT]
        licence = {"source": "adjacent", "name": name, "text": text}
        return licence, (SiblingLink(relation=Relation.CONTAINS, filename=name),)
    return None, ()


def _reason(exc: Exception) -> str:
    # run_tool names the interpreter ("python failed: ..."): the reason is what follows.
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("python") and ": " in text else text
