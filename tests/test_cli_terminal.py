"""On a terminal the CLI shows live progress; it must finish cleanly with its summary."""

import os
import pty
import select
import subprocess

import pytest

from tests.conftest import TROVE
from tests.media import make_library

pytestmark = pytest.mark.slow


def run_in_terminal(args, env, timeout=60.0):
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(TROVE), *args], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        if not ready:
            process.kill()
            raise AssertionError(f"no output for {timeout} s: {output[-500:]!r}")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout), output.decode(errors="replace")


def test_scan_on_a_terminal_shows_progress_and_a_summary(tmp_path):
    library = make_library(tmp_path / "library", photos=30)
    for i in range(1200):  # more than one progress tick of the scan and of the pipeline
        (library / "notes" / f"note-{i}.txt").write_text(f"note {i}\n")
    env = {**os.environ, "TROVE_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"}
    code, output = run_in_terminal(["scan", str(library)], env)
    assert code == 0, output
    assert "Traceback" not in output
    assert "1233 files in" in output
    assert "processed 1233 assets" in output
