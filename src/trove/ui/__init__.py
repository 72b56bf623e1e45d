"""The web UI (seed section 5): NiceGUI pages over the same services the API uses.

`install_ui(app)` is called once per process by `trove.app` with NiceGUI's root app; nothing
here runs at import time.
"""

from __future__ import annotations

from typing import Any

from trove.ui.static_files import STATIC_DIR, STATIC_URL


def install_ui(app: Any) -> None:
    """Configure NiceGUI as `ui.run` would, serve our static files and register the pages."""
    from trove.ui import speedups
    from trove.ui.cache_control import ImmutableAssetsMiddleware
    from trove.ui.pages import register_pages

    speedups.install()  # before any page is built

    app.config.add_run_config(
        reload=False,
        title="Trove",
        viewport="width=device-width, initial-scale=1",
        favicon=STATIC_DIR / "favicon.svg",
        dark=None,  # Quasar follows prefers-color-scheme; static/trove.js applies a choice
        language=None,
        binding_refresh_interval=0.1,
        reconnect_timeout=5.0,
        message_history_length=1000,
        # Tailwind's in-browser compiler costs ~250 ms per page load and watches every DOM
        # change (the grid changes on each scroll); trove.css has the few utilities we use.
        tailwind=False,
        unocss=None,
        prod_js=True,
        show_welcome_message=False,
        markdown=False,
    )
    app.add_middleware(ImmutableAssetsMiddleware)  # NiceGUI's versioned assets are immutable
    app.add_static_files(STATIC_URL, STATIC_DIR)
    register_pages()
