"""One module per page; `register_pages` binds them to their paths (once per process), each
with its access policy (api/deps.py: PublicPage, SignedInPage, AdminPage; a test fails for a
page without one)."""

from __future__ import annotations

# How long a page's function may take to build it before NiceGUI answers 500 instead (its
# default is 3 s). The gallery reads its first tiles before it answers: on a busy machine that
# can take longer, and a slow page is better than an error page.
PAGE_BUILD_TIMEOUT_S = 30.0


def register_pages() -> None:
    from functools import partial

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

    page = partial(ui.page, response_timeout=PAGE_BUILD_TIMEOUT_S)
    signed_in = [SignedInPage]
    page("/", title="Photos · Trove", dependencies=signed_in)(gallery.gallery_page)
    page("/albums", title="Albums · Trove", dependencies=signed_in)(albums.albums_page)
    page("/albums/{album_id}", title="Album · Trove", dependencies=signed_in)(albums.album_page)
    page("/graph", title="Graph · Trove", dependencies=signed_in)(graph.graph_page)
    page("/people", title="People · Trove", dependencies=signed_in)(people.people_page)
    page(map.MAP_PATH, title="Map · Trove", dependencies=signed_in)(map.map_page)
    page("/libraries", title="Libraries · Trove", dependencies=signed_in)(libraries.libraries_page)
    page("/duplicates", title="Duplicates · Trove", dependencies=signed_in)(
        duplicates.duplicates_page
    )
    page(PICKER_PATH, title="Choose · Trove", dependencies=signed_in)(picker.picker_page)
    page("/trash", title="Trash · Trove", dependencies=signed_in)(trash.trash_page)
    page("/tokens", title="API tokens · Trove", dependencies=signed_in)(account.tokens_page)
    page("/users", title="Users · Trove", dependencies=[AdminPage])(account.users_page)
    page("/login", title="Sign in · Trove", dependencies=[PublicPage])(account.login_page)
    page("/setup", title="Set up · Trove", dependencies=[PublicPage])(account.setup_page)
    page("/s/{token}", title="Shared · Trove", dependencies=[PublicPage])(share.share_page)
