"""The plugin manager: built-in plugins first, then those installed under the entry-point group
`trove`, exactly the way a third party's would load."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import pluggy

from trove.plugins import hookspecs

if TYPE_CHECKING:
    from trove.config import Settings

BUILTIN_PLUGINS = (
    "trove.pipeline.builtin",
    "trove.pipeline.ai.plugin",
    "trove.plugins.relations",
    "trove.drivers.builtin",
)


def make_plugin_manager(
    *, load_entry_points: bool = True, extra_modules: tuple[str, ...] = ()
) -> pluggy.PluginManager:
    """`extra_modules` (the `plugins` setting) load plugins by import path: handy for a plugin
    that is not packaged, and the way every worker process of a deployment gets the same."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for module_name in (*BUILTIN_PLUGINS, *extra_modules):
        if manager.get_plugin(module_name) is None:
            manager.register(importlib.import_module(module_name), name=module_name)
    if load_entry_points:
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    return manager


def plugin_modules(settings: Settings) -> tuple[str, ...]:
    """The plugin modules the `plugins` setting names (comma-separated import paths)."""
    return tuple(m.strip() for m in settings.plugins.split(",") if m.strip())
