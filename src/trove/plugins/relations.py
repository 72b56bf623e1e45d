"""Trove's own relations (the seed's, section 3.3), registered through the hook a plugin uses."""

from __future__ import annotations

from trove.domain.enums import Relation
from trove.domain.relations import Dependent, RelationSpec
from trove.plugins.hookspecs import hookimpl

BUILTIN_RELATIONS = (
    # Hierarchical: tags flow from the source down to the target.
    RelationSpec(
        name=Relation.CONTAINS,
        label="contains",
        inverse_label="is in folder",
        hierarchical=True,
        dependent=Dependent.TARGET,
    ),
    RelationSpec(
        name=Relation.INCLUDES,
        label="includes",
        inverse_label="is in album",
        hierarchical=True,
        dependent=Dependent.SOURCE,
    ),
    RelationSpec(
        name=Relation.OWNS,
        label="owns",
        inverse_label="is owned by",
        hierarchical=True,
        dependent=Dependent.SOURCE,
    ),
    # Derivative: the made thing depends on what it was made from.
    RelationSpec(
        name=Relation.TRANSFORMED_TO,
        label="transformed to",
        inverse_label="made from",
        dependent=Dependent.TARGET,
    ),
    RelationSpec(
        name=Relation.EXTRACTED_FROM,
        label="extracted from",
        inverse_label="source of",
        dependent=Dependent.SOURCE,
    ),
    RelationSpec(
        name=Relation.DOWNLOADED_BY,
        label="downloaded by",
        inverse_label="downloaded",
        dependent=Dependent.SOURCE,
    ),
    # Associative: neither end depends on the other.
    RelationSpec(
        name=Relation.VISUALLY_SIMILAR_TO,
        label="looks like",
        inverse_label="looks like",
        symmetric=True,
    ),
    RelationSpec(name=Relation.DEPICTS, label="depicts", inverse_label="is depicted in"),
    RelationSpec(
        name=Relation.RELATED_TO, label="related to", inverse_label="related to", symmetric=True
    ),
    RelationSpec(
        name=Relation.DUPLICATE_OF,
        label="identical copy of",
        inverse_label="identical copy of",
        symmetric=True,
    ),
    RelationSpec(name=Relation.VERSION_OF, label="version of", inverse_label="revised by"),
    RelationSpec(name=Relation.SIGNED_BY, label="signed by", inverse_label="signed"),
)


@hookimpl
def register_relations() -> list[RelationSpec]:
    return list(BUILTIN_RELATIONS)
