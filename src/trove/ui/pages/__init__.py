"""One module per page; `register_pages` binds them to their paths (once per process), each
with its access policy (api/deps.py: PublicPage, SignedInPage, AdminPage; a test fails for a
page without one)."""

from __future__ import annotations


def register_pages() -> None:
    from nicegui import ui

    from trove.api.deps import AdminPage, PublicPage, SignedInPage
    from trove.api.web_safety import PICKER_PATH
    from trove.ui.pages import (
        account,
        albums,
        duplicates,
        gallery,
        graph,
        libraries,
        map,
        people,
        picker,
        share,
        trash,
    )

    signed_in = [SignedInPage]
    ui.page("/", title="Photos · Trove", dependencies=signed_in)(gallery.gallery_page)
    ui.page("/albums", title="Albums · Trove", dependencies=signed_in)(albums.albums_page)
    ui.page("/albums/{album_id}", title="Album · Trove", dependencies=signed_in)(albums.album_page)
    ui.page("/graph", title="Graph · Trove", dependencies=signed_in)(graph.graph_page)
    ui.page("/people", title="People · Trove", dependencies=signed_in)(people.people_page)
    ui.page(map.MAP_PATH, title="Map · Trove", dependencies=signed_in)(map.map_page)
    ui.page("/libraries", title="Libraries · Trove", dependencies=signed_in)(
        libraries.libraries_page
    )
    ui.page("/duplicates", title="Duplicates · Trove", dependencies=signed_in)(
        duplicates.duplicates_page
    )
    ui.page(PICKER_PATH, title="Choose · Trove", dependencies=signed_in)(picker.picker_page)
    ui.page("/trash", title="Trash · Trove", dependencies=signed_in)(trash.trash_page)
    ui.page("/tokens", title="API tokens · Trove", dependencies=signed_in)(account.tokens_page)
    ui.page("/users", title="Users · Trove", dependencies=[AdminPage])(account.users_page)
    ui.page("/login", title="Sign in · Trove", dependencies=[PublicPage])(account.login_page)
    ui.page("/setup", title="Set up · Trove", dependencies=[PublicPage])(account.setup_page)
    ui.page("/s/{token}", title="Shared · Trove", dependencies=[PublicPage])(share.share_page)
