"""Sidecars: files other tools write beside a picture to describe it, read as that picture's
metadata and never indexed as assets of their own (no I/O here: the rules by name).

- XMP written by digiKam and darktable (`IMG_1.jpg.xmp`) or Lightroom (`IMG_1.xmp`, which
  serves every `IMG_1.*` beside it, a raw file and its JPEG alike);
- Google Takeout's JSON (`IMG_1.jpg.json`, `IMG_1.jpg.supplemental-metadata.json` and the
  forms Takeout cuts short, `IMG_1.jpg.supplemental-metad.json`, or at 46 characters inside
  a long picture name; a second `IMG_1(1).jpg` has `IMG_1.jpg(1).json`; `IMG_1-edited.jpg`
  shares its original's).

A name that looks like a sidecar is one only when the picture it describes is beside it: a
Lightroom preset `.xmp` or a `data.json` alone in a folder is an ordinary file.

What a sidecar says lives in the picture's `xmp_sidecar` namespace (the `sidecar` step), and
a person's edit in Trove wins over it at read time (`effective_*` below): a title typed in
Trove replaces the sidecar's, and one cleared in Trove ("") hides it; a rating set in Trove
replaces the sidecar's. Its keywords are
real tags (filters, counts and search see them); the step remembers which tags came from the
sidecar, so one removed in Trove stays removed when the sidecar is read again
(pipeline/found.py). Trove never writes a sidecar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

XMP = "xmp"
TAKEOUT = "takeout"
NAMESPACE = "xmp_sidecar"
TAKEOUT_NAMESPACE = "takeout"
_SUPPLEMENTAL = "supplemental-metadata"
_TAKEOUT_NAME = re.compile(
    r"(?P<image>.+?\.[A-Za-z0-9]{2,5})(?:\.(?P<supp>s[a-z-]*))?(?P<dup>\(\d+\))?"
)
# Takeout cuts `<picture>.supplemental-metadata` to this many characters before `.json`, even
# inside the picture's own name: `Screenshot_20230101-104435_Samsung Internet.jp.json`, or
# `IMG_..._45_characters.jpg..json`. Such a name says only how the picture's name begins.
_CUT_AT = 46
_DUP = re.compile(r"(?P<cut>.*?)(?P<dup>\(\d+\))?")


def kind_of(name: str) -> str | None:
    """`xmp` or `takeout` when the name has a sidecar's shape, else None."""
    tail = name[-5:].lower()
    if tail.endswith(".xmp"):
        return XMP if len(name) > 4 else None
    if tail == ".json" and (takeout_target(name) is not None or _cut_short(name) is not None):
        return TAKEOUT
    return None


def takeout_target(name: str) -> str | None:
    """The picture a Takeout JSON names: `IMG_1.jpg(1).json` -> `IMG_1(1).jpg`."""
    if not name.lower().endswith(".json"):
        return None
    found = _TAKEOUT_NAME.fullmatch(name[:-5])
    if found is None:
        return None
    supp = found.group("supp")
    if supp is not None and not _SUPPLEMENTAL.startswith(supp):
        return None
    image, dup = found.group("image"), found.group("dup") or ""
    stem, dot, ext = image.rpartition(".")
    return f"{stem}{dup}{dot}{ext}"


def _cut_short(name: str) -> tuple[str, str] | None:
    """(how the picture's `<name>.supplemental-metadata` begins, its `(n)`) when `name` has
    the length of a Takeout JSON name cut short, else None."""
    found = _DUP.fullmatch(name[:-5])
    if found is None or len(found.group("cut")) != _CUT_AT:
        return None
    return found.group("cut"), found.group("dup") or ""


def _with_dup(picture: str, dup: str) -> str:
    stem, dot, ext = picture.rpartition(".")
    return f"{stem}{dup}{dot}{ext}" if dot else f"{picture}{dup}"


class Folder:
    """One folder's names, indexed once for the lookups below (a folder of 100k files is
    listed and indexed once, not once per sidecar)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self._by_stem: dict[str, list[str]] | None = None
        self._by_cut: dict[str, list[str]] | None = None

    def with_stem(self, stem: str) -> list[str]:
        """The names that are `stem` plus one extension, sidecars excepted."""
        if self._by_stem is None:
            self._by_stem = {}
            for name in self.names:
                head, dot, ext = name.rpartition(".")
                if dot and ext.lower() not in ("xmp", "json"):  # no picture is either
                    self._by_stem.setdefault(head, []).append(name)
        return self._by_stem.get(stem, [])

    def cut_short_to(self, cut: str) -> list[str]:
        """The names whose Takeout JSON, cut short, begins `cut`."""
        if self._by_cut is None:
            self._by_cut = {}
            for name in self.names:
                if kind_of(name) is None:
                    key = f"{name}.{_SUPPLEMENTAL}"[:_CUT_AT]
                    self._by_cut.setdefault(key, []).append(name)
        return self._by_cut.get(cut, [])


def images_of(sidecar: str, names: Folder | Iterable[str]) -> list[str]:
    """The pictures among one folder's `names` that `sidecar` describes."""
    folder = names if isinstance(names, Folder) else Folder(names)
    kind = kind_of(sidecar)
    if kind == XMP:
        exact = sidecar[:-4]
        if exact in folder.names and kind_of(exact) is None:
            return [exact]
        return sorted(folder.with_stem(exact))
    if kind == TAKEOUT:
        target = takeout_target(sidecar)
        if target is not None:
            stem, dot, ext = target.rpartition(".")
            named = [n for n in (target, f"{stem}-edited{dot}{ext}") if n in folder.names]
            if named:
                return named
        cut = _cut_short(sidecar)
        if cut is not None:
            begins, dup = cut
            pictures = (_with_dup(n, dup) for n in folder.cut_short_to(begins))
            return sorted(n for n in pictures if n in folder.names)
    return []


def sidecar_map(names: Folder | Iterable[str]) -> dict[str, list[str]]:
    """picture name -> the sidecars beside it (by name), for one folder's listing."""
    folder = names if isinstance(names, Folder) else Folder(names)
    found: dict[str, list[str]] = {}
    for name in folder.names:
        if kind_of(name) is None:
            continue
        for image in images_of(name, folder):
            found.setdefault(image, []).append(name)
    return {image: sorted(sidecars) for image, sidecars in found.items()}


# --- read time: what Trove shows, a person's values first ------------------------------------


def sidecar_values(meta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    values = (meta or {}).get(NAMESPACE)
    return values if isinstance(values, Mapping) else {}


def effective_title(title: str | None, meta: Mapping[str, Any] | None) -> str | None:
    """The person's title, else the sidecar's; "" is a title the person cleared (none
    shown, whatever the sidecar says)."""
    if title is not None:
        return title or None
    return _text(sidecar_values(meta).get("title"))


def effective_description(description: str | None, meta: Mapping[str, Any] | None) -> str | None:
    if description is not None:
        return description or None
    return _text(sidecar_values(meta).get("description")) or _text(
        ((meta or {}).get(TAKEOUT_NAMESPACE) or {}).get("description")
    )


def effective_metadata(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """The namespaces as shown: `gallery` (rating, label) is the sidecar's under the
    person's own values."""
    shown = dict(meta or {})
    sidecar = sidecar_values(meta)
    rated = {k: sidecar[k] for k in ("rating", "label") if sidecar.get(k) is not None}
    if rated:
        own = shown.get("gallery")
        shown["gallery"] = {**rated, **(own if isinstance(own, Mapping) else {})}
    return shown


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
