"""Where the UI's own CSS, JS and icons live, and the URL they are served under."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/ui-static"
