"""One module per page; `register_pages` binds them to their paths (once per process)."""

from __future__ import annotations


def register_pages() -> None:
    from nicegui import ui

    from trove.ui.pages import albums, duplicates, gallery, graph, libraries, map

    ui.page("/", title="Photos · Trove")(gallery.gallery_page)
    ui.page("/albums", title="Albums · Trove")(albums.albums_page)
    ui.page("/albums/{album_id}", title="Album · Trove")(albums.album_page)
    ui.page("/graph", title="Graph · Trove")(graph.graph_page)
    ui.page(map.MAP_PATH, title="Map · Trove")(map.map_page)
    ui.page("/libraries", title="Libraries · Trove")(libraries.libraries_page)
    ui.page("/duplicates", title="Duplicates · Trove")(duplicates.duplicates_page)
