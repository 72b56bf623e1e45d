"""The frame every page shares: a slim header (brand, search, upload, navigation, who is
signed in) and styles; `plain_frame` for the sign-in and set-up pages.

Pages fill the content area; the gallery also puts its filters in the left drawer. Nothing
here shows a string that came from a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from nicegui import ui

from trove.ui.components.search_box import SearchBox
from trove.ui.components.shortcuts_dialog import show_shortcuts
from trove.ui.context import current_viewer, services
from trove.ui.static_files import STATIC_URL


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str
    icon: str


def nav_entries() -> list[NavEntry]:
    """The pages to link in the header."""
    return [
        NavEntry("/", "Photos", "photo_library"),
        NavEntry("/albums", "Albums", "photo_album"),
        NavEntry("/map", "Map", "map"),
        NavEntry("/people", "People", "face"),
        NavEntry("/graph", "Graph", "hub"),
        NavEntry("/libraries", "Libraries", "folder_special"),
        NavEntry("/duplicates", "Duplicates", "content_copy"),
        NavEntry("/trash", "Trash", "delete"),
    ]


@dataclass
class Frame:
    """Handles a page may fill: the search box and the drawer (None where a page has none)."""

    search: ui.input | None
    drawer: ui.left_drawer | None
    actions: ui.row


@contextmanager
def frame(
    *,
    active: str,
    title: str,
    with_search: bool = False,
    with_drawer: bool = False,
    on_search: Callable[[str], object] | None = None,
) -> Iterator[Frame]:
    """Build the header (and drawer) and yield; the page's content goes in the main column."""
    _head(title)
    ui.query(".nicegui-content").classes("trove-content")
    drawer = None
    if with_drawer:
        drawer = ui.left_drawer(value=None, bordered=True).classes("trove-drawer")
        drawer.props("width=264 breakpoint=1000")
    header = ui.header(elevated=False).classes("trove-header")
    with header, ui.row().classes("items-center no-wrap w-full gap-2"):
        if drawer is not None:
            ui.button(icon="tune", on_click=drawer.toggle).props(
                "flat round dense aria-label=Filters"
            ).classes("trove-drawer-toggle")
        with ui.link(target="/").classes("trove-brand no-underline"):
            ui.image(f"{STATIC_URL}/favicon.svg").classes("w-7 h-7").props(
                "no-spinner no-transition"
            )
            ui.label("Trove").classes("trove-brand-name")
        search = None
        if with_search:
            search = SearchBox(on_search=on_search).input
        else:
            ui.space()
        actions = ui.row().classes("items-center no-wrap gap-1")
        with ui.row().classes("items-center no-wrap gap-0 trove-nav"):
            for entry in nav_entries():
                link = ui.link(target=entry.path).classes("trove-nav-link no-underline")
                link.props(f'title="{entry.label}" aria-label="{entry.label}"')
                if entry.path == active:
                    link.classes("trove-nav-active")
                with link:
                    ui.icon(entry.icon).classes("text-xl")
                    ui.label(entry.label).classes("trove-nav-label")
            with ui.link(target="/docs", new_tab=True).classes("trove-nav-link no-underline"):
                ui.icon("api").classes("text-xl")
                ui.label("API").classes("trove-nav-label")
        theme_toggle()
        _account_menu()
    ui.on("trove_shortcuts", show_shortcuts)
    yield Frame(search=search, drawer=drawer, actions=actions)


def theme_toggle() -> None:
    """Light, dark, or the system's theme (static/trove.js keeps the choice in this browser);
    its icon is the one for the theme chosen (CSS reads it from <html data-trove-theme>)."""
    button = ui.button().props("flat round dense aria-label=Theme").classes("trove-theme-toggle")
    with button.tooltip("Theme"):
        for theme, icon in (
            ("auto", "brightness_auto"),
            ("light", "light_mode"),
            ("dark", "dark_mode"),
        ):
            ui.icon(icon).classes(f"text-xl trove-theme-icon trove-theme-{theme}")
        with ui.menu():
            for theme, label in (
                ("auto", "Same as the system"),
                ("light", "Light"),
                ("dark", "Dark"),
            ):
                item = ui.menu_item(label, on_click=lambda t=theme: _set_theme(t))
                item.props(f"data-theme={theme}")


def _set_theme(theme: str) -> None:
    ui.run_javascript(f"troveSetTheme({theme!r})")


def _head(title: str) -> None:
    ui.page_title(f"{title} · Trove")
    ui.add_head_html(f'<link rel="stylesheet" href="{STATIC_URL}/trove.css">')
    ui.add_head_html(f'<link rel="stylesheet" href="{STATIC_URL}/theme.css">')
    ui.add_head_html(f'<script src="{STATIC_URL}/trove.js"></script>')
    ui.colors(primary="#1a73e8", secondary="#5f6368", accent="#1a73e8")


def _account_menu() -> None:
    """Who is signed in, their API tokens and sign-out; without sign-in (TROVE_AUTH=off), a
    badge that says so."""
    if not services().settings.auth:
        ui.badge("no sign-in (TROVE_AUTH=off)", color="orange").classes("trove-auth-off").props(
            "outline"
        ).tooltip("Anyone who can reach this address uses Trove as its owner: loopback only.")
        return
    viewer = current_viewer()
    with (
        ui.button(icon="account_circle")
        .props("flat round dense aria-label=Account")
        .classes("trove-account"),
        ui.menu(),
    ):
        ui.label(f"Signed in as {viewer.name}").classes("q-px-md q-py-sm trove-signed-in").style(
            "white-space: nowrap"
        )
        ui.separator()
        ui.menu_item("API tokens", on_click=lambda: ui.navigate.to("/tokens"))
        if viewer.is_admin:
            ui.menu_item("Users", on_click=lambda: ui.navigate.to("/users"))
        ui.menu_item("Sign out", on_click=sign_out).classes("trove-sign-out")


async def sign_out() -> None:
    # A round trip through the browser to the API: NiceGUI's 1 s is too short for a busy server,
    # and a timeout here would leave the browser signed in on this page.
    await ui.run_javascript('return await troveAuthPost("/api/dam/auth/logout", null)', timeout=30)
    ui.navigate.to("/login")


@contextmanager
def embedded_frame(*, title: str) -> Iterator[None]:
    """A page made to live in another application's window or frame (the asset picker): a
    slim bar with the brand, the title and the theme, and no navigation away."""
    _head(title)
    ui.query(".nicegui-content").classes("trove-content trove-embedded")
    with ui.row().classes("trove-embedded-bar items-center no-wrap w-full gap-2"):
        ui.image(f"{STATIC_URL}/favicon.svg").classes("w-7 h-7").props("no-spinner no-transition")
        ui.label(title).classes("trove-brand-name")
        ui.space()
        theme_toggle()
    ui.on("trove_shortcuts", show_shortcuts)
    yield


@contextmanager
def plain_frame(*, title: str) -> Iterator[None]:
    """A centred card under the brand, for pages shown while signed out."""
    _head(title)
    column = ui.column().classes("w-full q-pt-xl gap-4").style("align-items: center")
    with column:
        with ui.row().classes("items-center no-wrap gap-2"):
            ui.image(f"{STATIC_URL}/favicon.svg").style("width: 32px; height: 32px").props(
                "no-spinner no-transition"
            )
            ui.label("Trove").classes("text-h5")
        with ui.card().classes("trove-login-card q-pa-lg gap-3").style("width: min(360px, 92vw)"):
            ui.label(title).classes("text-h6")
            yield
