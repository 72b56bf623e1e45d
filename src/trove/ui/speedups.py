"""NiceGUI asks `inspect.signature` whether a change handler takes arguments each time an
element is made: three times per element (its props, classes and style observe changes
through the element's own bound methods). That was about a third of the server's CPU for a
gallery page, on the first paint's path. The answer depends only on the function under a
bound method (binding drops its first parameter, whatever the instance), so it is kept per
function; anything else (lambdas, made afresh each time) is asked as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def install() -> None:
    """Put the remembering `expects_arguments` where NiceGUI looks it up (`helpers.`)."""
    from nicegui import helpers

    if getattr(helpers.expects_arguments, "trove_remembers", False):
        return
    helpers.expects_arguments = remembering(helpers.expects_arguments)


def remembering(original: Callable[[Callable[..., Any]], bool]) -> Callable[..., bool]:
    known: dict[Any, bool] = {}

    def expects_arguments(func: Callable[..., Any]) -> bool:
        if not inspect.ismethod(func):
            return original(func)
        key = func.__func__
        answer = known.get(key)
        if answer is None:
            answer = known[key] = original(func)
        return answer

    expects_arguments.trove_remembers = True  # type: ignore[attr-defined]  # a marker attribute on a function
    return expects_arguments
