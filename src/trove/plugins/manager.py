"""The plugin manager: built-in plugins first, then those installed under the entry-point group
`trove`, exactly the way a third party's would load."""

from __future__ import annotations

import importlib

import pluggy

from trove.plugins import hookspecs

BUILTIN_PLUGINS = ("trove.pipeline.builtin",)


def make_plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
    if load_entry_points:
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    return manager
