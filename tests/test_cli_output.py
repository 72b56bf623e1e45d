"""What a person sees in the terminal: `trove serve` says where it answers, then what it
scans and processes; imaging libraries' warnings go to the log file, not the terminal. Real
processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from PIL import Image

from tests.browser.server import start_server
from tests.conftest import trove_env
from tests.media import make_library
from trove.logs import LOG_FILE

# Its subject is what the terminal shows.
pytestmark = [pytest.mark.slow, pytest.mark.databases("sqlite")]

# Pillow warns (DecompressionBombWarning) between this many pixels and twice as many.
PIXEL_LIMIT = "1500"


def library_with_a_large_picture(root):
    make_library(root)
    Image.new("RGB", (50, 40), (10, 20, 30)).save(root / "large.png")  # 2,000 pixels
    return root


def test_serve_prints_one_ready_line_with_its_url_then_scan_and_pipeline_progress(
    settings, tmp_path
):
    library = library_with_a_large_picture(tmp_path / "library")
    server = start_server(
        data_dir=settings.data_dir,
        roots=[library],
        env={
            "TROVE_DATABASE_URL": settings.resolved_database_url,
            "TROVE_MAX_IMAGE_PIXELS": PIXEL_LIMIT,
        },
    )
    try:
        server.wait_idle()
        output = _wait_for(server.log, "processed ")
    finally:
        server.stop()
    lines = output.splitlines()
    assert [line for line in lines if line.startswith("Trove is serving")] == [
        f"Trove is serving {server.url} (1 library)"
    ]
    assert any(line.startswith(f"scanned {library}: 10 files (10 new,") for line in lines)
    assert any(line.startswith("processed 10 assets in ") for line in lines)
    assert "DecompressionBombWarning" not in output
    assert "DecompressionBombWarning" in (settings.data_dir / LOG_FILE).read_text()


def test_scan_keeps_imaging_warnings_off_the_terminal_and_in_the_log(settings, tmp_path):
    library = library_with_a_large_picture(tmp_path / "library")
    result = subprocess.run(
        [sys.executable, "-m", "trove", "scan", str(library)],
        env=trove_env(settings, TROVE_MAX_IMAGE_PIXELS=PIXEL_LIMIT),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "processed 10 assets" in result.stdout
    assert "Warning" not in result.stdout + result.stderr
    assert "DecompressionBombWarning" in (settings.data_dir / LOG_FILE).read_text()


def test_serve_given_a_folder_inside_its_library_says_so_and_serves_the_library(settings, tmp_path):
    library = make_library(tmp_path / "library")
    inside = next(p for p in sorted(library.rglob("*")) if p.is_dir())
    server = start_server(
        data_dir=settings.data_dir,
        roots=[library, inside],
        env={"TROVE_DATABASE_URL": settings.resolved_database_url},
    )
    try:
        server.wait_idle()
        output = _wait_for(server.log, "Trove is serving")
        roots = server.api("/api/dam/roots")["items"]
    finally:
        server.stop()
    assert f"not serving {inside} as a library: {inside} is inside the library" in output
    assert f"Trove is serving {server.url} (1 library)" in output
    assert "Traceback" not in output
    assert [r["path"] for r in roots] == [str(library)]


def _wait_for(log, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text()
        if text in output:
            return output
        time.sleep(0.2)
    raise TimeoutError(f"{text!r} never appeared:\n{log.read_text()}")


def test_help_wraps_a_commands_description_as_paragraphs_not_at_its_source_lines():
    """The docstring's own line ends broke the help mid-sentence ("checked on a sample" /
    "by SHA-256"), whatever the terminal's width."""
    result = subprocess.run(
        [sys.executable, "-m", "trove", "scan", "--help"],
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert any(
        line.startswith("A new folder that holds the files of a library whose folder is gone")
        and "on a sample by SHA-256) is that library moved" in line
        for line in lines
    ), result.stdout
