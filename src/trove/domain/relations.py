"""What a relation means: its words both ways, its shape, and which end depends on the other.

Relations come from plugins (`register_relations`, plugins/hookspecs.py); Trove's own are
registered the same way (plugins/relations.py). No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    """Which edges of a node to follow: stored source -> target (`out`), the reverse, or both."""

    OUT = "out"
    IN = "in"
    BOTH = "both"


class Dependent(StrEnum):
    """The end of an edge that is affected when the other end is deleted or changed."""

    SOURCE = "source"
    TARGET = "target"


@dataclass(frozen=True, kw_only=True)
class RelationSpec:
    """`label` reads source -> target ("contains"), `inverse_label` target -> source ("is in").

    `symmetric` relations read the same both ways (a link a->b also answers b->a and forbids a
    second link b->a). `hierarchical` relations carry tags down from source to target. `dependent`
    says which end impact analysis reaches from the other (None: neither depends on the other).
    """

    name: str
    label: str
    inverse_label: str
    symmetric: bool = False
    hierarchical: bool = False
    dependent: Dependent | None = None


class UnknownRelation(ValueError):
    """A relation no plugin registered; the message lists the known ones."""


class RelationRegistry:
    def __init__(self, specs: Iterable[RelationSpec]) -> None:
        self._specs: dict[str, RelationSpec] = {}
        for spec in specs:
            if spec.name in self._specs and self._specs[spec.name] != spec:
                raise ValueError(f"relation {spec.name!r} is registered twice, differently")
            self._specs[spec.name] = spec

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[RelationSpec]:
        return iter(self._specs.values())

    def names(self) -> list[str]:
        return sorted(self._specs)

    def get(self, name: str) -> RelationSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownRelation(
                f"unknown relation {name!r}; known relations: {', '.join(self.names())}"
            ) from None

    def checked(self, names: Iterable[str] | None) -> tuple[str, ...] | None:
        """The names, each known (else UnknownRelation); None or empty means every relation."""
        if not names:
            return None
        return tuple(self.get(name).name for name in dict.fromkeys(names))

    def hierarchical(self) -> tuple[str, ...]:
        return tuple(sorted(s.name for s in self if s.hierarchical))

    def symmetric(self) -> tuple[str, ...]:
        return tuple(sorted(s.name for s in self if s.symmetric))

    def dependent_on(self, end: Dependent) -> tuple[str, ...]:
        return tuple(sorted(s.name for s in self if s.dependent == end))
