"""NiceGUI's versioned assets are cached as immutable; nothing else gets that header."""

from __future__ import annotations

from fastapi.testclient import TestClient
from nicegui import __version__

from trove.config import Settings


def test_versioned_ui_assets_are_immutable_and_api_answers_are_not(settings: Settings) -> None:
    from trove.app import create_app

    with TestClient(create_app(settings)) as client:
        asset = client.get(f"/_nicegui/{__version__}/static/nicegui.css")
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]
        assert "immutable" not in client.get("/api/dam/status").headers.get("cache-control", "")
