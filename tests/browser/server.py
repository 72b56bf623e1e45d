"""A real Trove (`trove serve`) in a subprocess on a free 127.0.0.1 port, and a browser for it.

A subprocess, not a thread: NiceGUI's app is one per process, and the rest of the suite builds
its own apps in this one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.command_launcher import LaunchedCommand, start_in_background

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class TroveServer:
    url: str
    process: subprocess.Popen[bytes] | LaunchedCommand
    log: Path
    token: str | None = None  # an API token `api` sends, for a server with sign-in on

    def api(self, path: str, *, method: str = "GET", body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return json.loads(raw) if raw else None

    def wait_idle(self, *, timeout: float = 60) -> None:
        """Until the background indexer has nothing running or queued."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            indexer = self.api("/api/dam/status")["indexer"]
            if not indexer["running"] and not indexer["queued"]:
                return
            time.sleep(0.2)
        raise TimeoutError("indexer still busy")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(
    *, data_dir: Path, roots: list[Path], env: dict[str, str] | None = None, timeout: float = 180
) -> TroveServer:
    port = free_port()
    log = data_dir.parent / f"serve-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    # This checkout's code, this test's data, nothing inherited from the caller's TROVE_*;
    # sign-in off (one local user) unless the test is about it (env={"TROVE_AUTH": "on"}).
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    environment.update(TROVE_DATA_DIR=str(data_dir), TROVE_AUTH="off", PYTHONPATH=str(REPO / "src"))
    environment.update(env or {})
    process = start_in_background(
        ["serve", "--host", "127.0.0.1", "--port", str(port), *map(str, roots)],
        env=environment,
        cwd=data_dir,
        log=log,
    )
    server = TroveServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trove serve exited:\n{log.read_text()}")
        try:
            server.api("/api/dam/status")
            return server
        except urllib.error.HTTPError:  # it answers (401: sign-in is on)
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise TimeoutError(f"trove serve did not answer:\n{log.read_text()}")


@contextmanager
def serving(library: Path, *, idle_timeout: float = 180) -> Iterator[TroveServer]:
    """`trove serve` over `library` (its data folder beside it), once its first scan and
    pipeline run are done; stopped on the way out (a module's `server`)."""
    trove = start_server(data_dir=library.parent / "data", roots=[library])
    try:
        trove.wait_idle(timeout=idle_timeout)
        yield trove
    finally:
        trove.stop()


def launch_browser(playwright: Any, *extra_args: str) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


@contextmanager
def running_browser(*extra_args: str) -> Iterator[Any]:
    """Debian's Chromium under Playwright, closed on the way out (a module's `browser`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright, *extra_args)
        try:
            yield chromium
        finally:
            chromium.close()
