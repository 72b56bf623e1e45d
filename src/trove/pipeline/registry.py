"""The pipeline, declared in one place: which processors run, in what order."""

from __future__ import annotations

import pluggy

from trove.config import Settings
from trove.drivers.manager import AssetDriverManager
from trove.pipeline.processor import MediaProcessor
from trove.plugins.manager import plugin_modules

__all__ = ["PipelineDefinitionError", "collect_processors", "plugin_modules"]


class PipelineDefinitionError(Exception):
    """Two processors share a name, or one requires a step nobody provides, or a cycle."""


def collect_processors(
    plugins: pluggy.PluginManager, *, settings: Settings
) -> list[MediaProcessor]:
    """All registered processors, each after the steps it requires."""
    processors: dict[str, MediaProcessor] = {}
    drivers = AssetDriverManager.from_plugins(plugins, settings=settings)
    for contributed in plugins.hook.register_media_processors(settings=settings, drivers=drivers):
        for processor in contributed:
            if processor.name in processors:
                raise PipelineDefinitionError(f"two processors are named {processor.name!r}")
            processors[processor.name] = processor
    return _in_dependency_order(processors)


def _in_dependency_order(processors: dict[str, MediaProcessor]) -> list[MediaProcessor]:
    ordered: list[MediaProcessor] = []
    state: dict[str, str] = {}

    def visit(name: str, needed_by: str) -> None:
        if name not in processors:
            raise PipelineDefinitionError(f"{needed_by!r} requires unknown step {name!r}")
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise PipelineDefinitionError(f"steps {needed_by!r} and {name!r} require each other")
        state[name] = "visiting"
        for requirement in processors[name].requires:
            visit(requirement, name)
        state[name] = "done"
        ordered.append(processors[name])

    for name in processors:  # registration order, then requirements first
        visit(name, name)
    return ordered
