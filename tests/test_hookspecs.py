"""Every hook specification is documented and exercised (as Datasette checks its own): a test
plugin in tests/ implements it, and some test loads that plugin. Generic over
`plugins/hookspecs.py`, so a new hook without a docstring or a test fails here."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.graph_helpers import make_assets
from tests.relation_plugin import INSPIRED_BY
from trove.config import Settings
from trove.domain.access import Viewer
from trove.plugins import hookspecs
from trove.services.container import Services
from trove.services.errors import Invalid

SYSTEM = Viewer.system()

TESTS = Path(__file__).parent
HOOKS = sorted(
    name
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(function, f"{hookspecs.PROJECT}_spec")
)


def implementations() -> dict[str, set[str]]:
    """Hook name -> the test modules (dotted) that implement it with @hookimpl."""
    found: dict[str, set[str]] = {}
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef) and any(
                (d.id if isinstance(d, ast.Name) else getattr(d, "attr", "")) == "hookimpl"
                for d in node.decorator_list
            ):
                module = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
                found.setdefault(node.name, set()).add(module)
    return found


def test_the_hook_specifications_are_found():
    assert {"register_media_processors", "register_relations"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring_that_explains_it(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc.split()) >= 15, f"hookspec {hook} needs a docstring saying what to return"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_implemented_by_a_test_plugin_that_a_test_loads(hook):
    plugins = implementations().get(hook, set())
    assert plugins, f"no test plugin implements {hook} (@hookimpl def {hook} under tests/)"
    loaded_by = {m for m in plugins for path in TESTS.rglob("test_*.py") if m in path.read_text()}
    assert loaded_by, f"no test loads a plugin implementing {hook}: {sorted(plugins)}"


@pytest.fixture
def services_with(settings: Settings) -> Iterator[Services]:
    services = Services.create(replace(settings, plugins="tests.relation_plugin"))
    yield services
    services.database.dispose()


def test_a_plugin_relation_is_usable_for_links_and_unknown_without_the_plugin(
    settings, services_with
):
    ids = make_assets(services_with.database, ["sketch.png", "painting.png"])
    linked = services_with.links.link(
        ids["painting.png"], ids["sketch.png"], INSPIRED_BY.name, viewer=SYSTEM
    )
    assert linked.created and linked.link["relation"] == "inspired_by"
    plain = Services.create(settings)
    try:
        with pytest.raises(Invalid, match="inspired_by"):
            plain.links.link(
                ids["sketch.png"], ids["painting.png"], INSPIRED_BY.name, viewer=SYSTEM
            )
    finally:
        plain.database.dispose()
