"""A third-party style plugin for the tests: adds one relation through `register_relations`
(loaded with `plugins="tests.relation_plugin"`, as TROVE_PLUGINS would)."""

from __future__ import annotations

from trove.domain.relations import Dependent, RelationSpec
from trove.plugins.hookspecs import hookimpl

INSPIRED_BY = RelationSpec(
    name="inspired_by",
    label="was inspired by",
    inverse_label="inspired",
    dependent=Dependent.SOURCE,
)


@hookimpl
def register_relations() -> list[RelationSpec]:
    return [INSPIRED_BY]
