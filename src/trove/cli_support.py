"""What the fast entry point (`entry.py`) and the Typer commands (`cli.py`) share: the scan
itself, settings or a one-line exit, and errors a user can act on as one line."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

from trove.config import Settings, SettingsError, load_settings


def run_scan(
    *,
    paths: list[Path],
    no_wait: bool,
    as_json: bool,
    data_dir: Path | None,
    relocate: bool = False,
    as_new: bool = False,
) -> None:
    from trove.cli_output import ScanReporter
    from trove.collector import collect_less_often
    from trove.services.errors import RelocationOffered
    from trove.services.library import LibraryService

    collect_less_often()
    settings = settings_or_exit(data_dir=data_dir)
    reporter = ScanReporter(as_json=as_json)
    service = LibraryService(settings)

    def scan(*, relocate: bool, as_new: bool) -> Any:
        with ctrl_c_stops() as stop:
            return service.scan_and_process(
                [str(p) for p in paths],
                wait=not no_wait,
                on_scan_progress=reporter.scan_progress,
                on_pipeline_progress=reporter.pipeline_progress,
                relocate=relocate,
                as_new=as_new,
                stop=stop,
            )

    with clear_errors():
        try:
            result = scan(relocate=relocate, as_new=as_new)
        except RelocationOffered as offered:
            if not sys.stdin.isatty() or not _confirm(f"{offered}\nRelocate it? [y/N] "):
                raise
            result = scan(relocate=True, as_new=False)
        finally:
            service.close()
    reporter.finish(result)


@contextlib.contextmanager
def ctrl_c_stops() -> Iterator[threading.Event]:
    """The first Ctrl-C sets the event the scan stops at, between files and batches (see
    LibraryService.scan_and_process); a second one interrupts at once, wherever it lands.

    The message goes out through os.write: a signal handler that prints through sys.stderr
    could land inside the progress line's own write and meet its buffer's reentrancy check."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signal handlers belong to the main thread
        return

    def on_ctrl_c(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        os.write(2, b"\ntrove: stopping once the files in hand are written (Ctrl-C again: now)\n")

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _confirm(question: str) -> bool:
    sys.stderr.write(question)
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def read_password(*, confirm: bool) -> str:
    """From the terminal (asked twice when `confirm`), or the first line of standard input
    when that is not a terminal (scripts: `echo "$PW" | trove users add NAME`)."""
    import getpass

    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            fail("no password on standard input")
        return line.rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Again: ") != password:
        fail("the passwords differ")
    return password


def settings_or_exit(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc))


def fail(message: str, *, code: int = 2) -> NoReturn:
    sys.stderr.write(f"trove: {message}\n")
    raise SystemExit(code)


class clear_errors:
    """Turn the errors a user can act on into one line and exit code 2, never a traceback."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> bool:
        if exc is None or isinstance(exc, KeyboardInterrupt | SystemExit):
            return False
        if type(exc).__name__ == "Exit":  # typer.Exit / click's, without importing them
            return False
        from trove.errors import user_message

        message = user_message(exc)
        if message is None:
            return False
        fail(message)
        return True


@contextlib.contextmanager
def atomic_text(path: Path) -> Iterator[IO[str]]:
    """A text file that appears whole or not at all: an export cut short (disk full, ^C)
    never replaces a good earlier one."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
