"""Relations in words, for people: "In folder", "Made from", "Looks like", never `contains`.

The words come from the relation registry (each relation's label and inverse label, as its
plugin registered them), read from the side of the node the user is looking at.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trove.domain.enums import AssetType
from trove.domain.relations import Direction, RelationSpec

# What impact counts are called, by the kind of node reached (an asset's type or an entity's).
NOUNS: dict[str, tuple[str, str]] = {
    AssetType.PROXY: ("proxy", "proxies"),
    AssetType.COLLECTION: ("album", "albums"),
    AssetType.REGION: ("region", "regions"),
    AssetType.IMAGE: ("image", "images"),
    AssetType.VIDEO: ("video", "videos"),
    AssetType.DOCUMENT: ("document", "documents"),
}


def phrase(spec: RelationSpec, direction: str) -> str:
    """What the other node is to this one: `direction` "out" when this node is the link's
    source ("Contains", "Transformed to"), "in" when it is the target ("In folder", "Made
    from")."""
    words = spec.label if direction == Direction.OUT else spec.inverse_label
    words = words.removeprefix("is ")
    return words[:1].upper() + words[1:]


def edge_words(specs: Iterable[RelationSpec]) -> dict[str, dict[str, str]]:
    """relation -> {"out": label on an arrow, "in": inverse label}, for the graph explorer."""
    return {s.name: {"out": s.label, "in": s.inverse_label} for s in specs}


def filter_options(specs: Iterable[RelationSpec]) -> dict[str, str]:
    """relation -> a readable name for the relation filter."""
    return {s.name: s.label[:1].upper() + s.label[1:] for s in specs}


def impact_sentence(name: str, impact: dict[str, Any]) -> str:
    """ "Deleting IMG_1.jpg affects 3 proxies and 2 albums" from impact_analysis's counts."""
    kinds = impact.get("types") or impact.get("counts") or {}
    parts = []
    for kind, n in sorted(kinds.items(), key=lambda item: -item[1]):
        one, many = NOUNS.get(kind, (kind, kind))
        parts.append(f"{n:,} {one if n == 1 else many}")
    if not parts:
        return f"Nothing depends on {name}: deleting it affects nothing else"
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Deleting {name} affects {listed}"
