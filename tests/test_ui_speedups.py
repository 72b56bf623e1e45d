"""NiceGUI's `expects_arguments`, remembered per function under a bound method, answers as
NiceGUI's own does (trove/ui/speedups.py)."""

from __future__ import annotations

from nicegui import helpers
from nicegui.helpers.functions import expects_arguments

from trove.ui import speedups


class Handlers:
    def takes(self, event) -> None: ...

    def takes_none(self) -> None: ...

    def optional(self, event=None) -> None: ...


def test_remembered_answers_are_nicegui_answers() -> None:
    remembered = speedups.remembering(expects_arguments)
    one, other = Handlers(), Handlers()
    for handler in (
        one.takes,
        other.takes,
        one.takes_none,
        other.takes_none,
        one.optional,
        lambda e: None,
        lambda: None,
        print,
    ):
        assert remembered(handler) == expects_arguments(handler), handler
    assert [remembered(one.takes), remembered(one.takes_none)] == [True, False]  # remembered


def test_installed_once_where_nicegui_looks() -> None:
    speedups.install()
    installed = helpers.expects_arguments
    speedups.install()
    assert helpers.expects_arguments is installed
    assert installed.trove_remembers
