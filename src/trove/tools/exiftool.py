"""ExifTool in one persistent `-stay_open` process, read in batches.

A new exiftool process per file costs ~150 ms of Perl start-up; one process kept open costs
~10 ms per file. Trove speaks the `-stay_open` protocol itself rather than through pyexiftool:
pyexiftool's reader loops forever once exiftool dies (select() keeps reporting EOF as
readable), so a request could be neither timed out nor recovered. Here every request has a
deadline; a hung or dead exiftool is killed and the next request starts a fresh one. A batch
that fails as a whole is retried file by file, so one hostile file costs only its own result.

A session answers one request at a time: a pool lends each to one thread at a time.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trove.tools.run import ToolError, run_tool

# -n: numbers, not prose ("1/200" stays 0.005); -G: "EXIF:Make" style group prefixes.
COMMON_ARGS = ("-G", "-n")
READ_ARGS = ("-json", "-fast", "-charset", "filename=utf8", "-api", "LargeFileSupport=1")
MAX_OUTPUT = 64 * 1024**2


class ExifToolSession:
    """One exiftool process, started on first use and restarted after any failure."""

    def __init__(self, *, timeout: float, executable: str | None = None) -> None:
        self.timeout = timeout
        self.executable = executable or shutil.which("exiftool") or "exiftool"
        self._process: subprocess.Popen[bytes] | None = None
        self._counter = itertools.count(1)

    def read(
        self, paths: Sequence[Path], *, options: Sequence[str] = ()
    ) -> dict[Path, dict[str, Any] | ToolError]:
        """Tags of each file (grouped keys, numeric values), or the error for that file.
        `options`: more of ExifTool's reading options (`-struct`: structures kept whole)."""
        results: dict[Path, dict[str, Any] | ToolError] = {}
        batchable = [p for p in paths if _safe_for_argfile(p)]
        for path in paths:
            if not _safe_for_argfile(path):
                results[path] = self._read_one_shot(path, options)
        if not batchable:
            return results
        try:
            results.update(self._read_batch(batchable, options))
        except ToolError as exc:
            if len(batchable) == 1:
                results[batchable[0]] = exc
                return results
            for path in batchable:  # isolate the file that broke the batch
                try:
                    results.update(self._read_batch([path], options))
                except ToolError as single:
                    results[path] = single
        return results

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            assert process.stdin is not None
            process.stdin.write(b"-stay_open\nFalse\n")
            process.stdin.flush()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired, AssertionError):
            process.kill()
            process.wait()

    def _read_batch(
        self, paths: Sequence[Path], options: Sequence[str] = ()
    ) -> dict[Path, dict[str, Any] | ToolError]:
        raw = self._execute([*READ_ARGS, *options, *(str(p) for p in paths)])
        return _by_path(paths, raw)

    def _execute(self, args: Sequence[str]) -> str:
        process = self._started()
        number = next(self._counter)
        request = "\n".join([*args, f"-execute{number}", ""]).encode("utf-8")
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(request)
            process.stdin.flush()
            return self._answer(process.stdout.fileno(), f"{{ready{number}}}".encode())
        except (OSError, ToolError, AssertionError) as exc:
            self._kill()
            if isinstance(exc, ToolError):
                raise
            raise ToolError(f"exiftool exited unexpectedly ({exc})") from exc

    def _answer(self, fd: int, sentinel: bytes) -> str:
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        tail = b""
        while not tail.rstrip().endswith(sentinel):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ToolError(f"exiftool timed out after {self.timeout:g} s")
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ToolError("exiftool exited unexpectedly")
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise ToolError("exiftool output exceeds the size limit")
            tail = (tail + chunk)[-64:]
        text = b"".join(chunks).rstrip()
        return text[: -len(sentinel)].decode("utf-8", "replace")

    def _read_one_shot(self, path: Path, options: Sequence[str] = ()) -> dict[str, Any] | ToolError:
        """A name exiftool's argument file cannot carry (line break, undecodable bytes) goes
        on a command line of its own: an absolute path is never mistaken for an option."""
        if not path.is_absolute():
            return ToolError("exiftool needs an absolute path")
        try:
            raw = run_tool(
                [self.executable, *COMMON_ARGS, *READ_ARGS[:2], *options, os.fsencode(path)],
                timeout=self.timeout,
                max_output=MAX_OUTPUT,
            )
        except ToolError as exc:
            return exc
        return _by_path([path], raw.decode("utf-8", "replace"), match_by_order=True)[path]

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [
                    *_die_with_parent(),
                    self.executable,
                    "-stay_open",
                    "True",
                    "-@",
                    "-",
                    "-common_args",
                    *COMMON_ARGS,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        return self._process

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def _die_with_parent() -> list[str]:
    """With `-stay_open`, exiftool keeps waiting at the end of its input instead of exiting,
    so a worker that is killed would leave it behind for ever: `setpriv --pdeathsig` (Linux)
    has the kernel kill it when the thread that started it goes."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def _safe_for_argfile(path: Path) -> bool:
    text = str(path)
    if "\n" in text or "\r" in text or not path.is_absolute():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _by_path(
    paths: Sequence[Path], raw: str, *, match_by_order: bool = False
) -> dict[Path, dict[str, Any] | ToolError]:
    try:
        records = json.loads(raw) if raw.strip() else []
    except json.JSONDecodeError as exc:
        raise ToolError("exiftool returned malformed JSON") from exc
    found: dict[Path, dict[str, Any] | ToolError] = {}
    wanted = {str(p): p for p in paths}
    for index, record in enumerate(records if isinstance(records, list) else []):
        if not isinstance(record, dict):
            continue
        path = paths[index] if match_by_order else wanted.get(str(record.get("SourceFile")))
        if path is None or path in found:
            continue
        error = record.get("ExifTool:Error")
        found[path] = ToolError(f"exiftool: {error}") if error else record
    for path in paths:
        found.setdefault(path, ToolError("exiftool returned nothing for this file"))
    return found


# A request meeting every session busy with at most SMALL_REQUESTS files in all waits for one
# up to GROW_AFTER_S, about what a start costs (~0.1-0.15 s of Perl), instead of starting
# another exiftool: a run of a handful of files (a watcher event, an upload) keeps one. Busy
# with more, a session will stay busy, and the second process is started at once.
SMALL_REQUESTS = 16
GROW_AFTER_S = 0.2


class SessionPool:
    """ExifToolSessions lent one request at a time (a session answers one request at a time)
    to whichever thread asks: a process is started only when every one started so far is
    busy, with many files or for GROW_AFTER_S, so batches taken in turns by a run's threads,
    or a run of a few files, keep one exiftool. `close` closes the idle sessions at once and
    a lent one when it comes back, never one in use.

    A process started with `--pdeathsig` ends with the thread that started it: a run's
    threads all end together, after their last request, and the next request starts
    another."""

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout
        self._idle: list[ExifToolSession] = []
        self._lent: dict[ExifToolSession, int] = {}  # files of the request in hand
        self._returned = threading.Condition()

    def read(
        self, paths: Sequence[Path], *, options: Sequence[str] = ()
    ) -> dict[Path, dict[str, Any] | ToolError]:
        """ExifToolSession.read through an idle session (a new one when every session is
        busy with many files, or for GROW_AFTER_S)."""
        with self._returned:
            if self._lent and not self._idle and sum(self._lent.values()) <= SMALL_REQUESTS:
                self._returned.wait_for(lambda: self._idle, timeout=GROW_AFTER_S)
            session = self._idle.pop() if self._idle else ExifToolSession(timeout=self.timeout)
            self._lent[session] = len(paths)
        try:
            return session.read(paths, options=options)
        finally:
            with self._returned:
                kept = self._lent.pop(session, None) is not None
                if kept:
                    self._idle.append(session)
                    self._returned.notify()
            if not kept:  # the pool was closed while it was lent
                session.close()

    def close(self) -> None:
        with self._returned:
            idle, self._idle = self._idle, []
            self._lent = {}
        for session in idle:
            session.close()
