"""Starts `trove` commands for the tests by forking a process that has imported Trove already.

A `trove` command spends 0.7-2 s of a core importing its libraries (SQLAlchemy, TaskIQ and
FastAPI, Trove's models) before it does anything, and the suite runs some two hundred of them:
a quarter of its CPU went into starting interpreters. This process imports them once; each
command is a fork of it that takes the test's environment, working directory and standard
streams, and then runs the very `main` the `trove` executable runs, in a process of its own
that exits through the interpreter's normal shutdown (threads joined, atexit run), with its
own exit status. What a command imports is still checked in a fresh interpreter
(`conftest.imported_by`), and the commands a test signals or serves run as `trove` itself.

Nothing that starts a thread is imported here (NumPy's BLAS does): a fork copies only the
thread that calls it. Trove does no I/O and reads no environment at import (DESIGN.md), so
a forked command is the command a fresh interpreter would run.

Protocol, one command per connection to the Unix socket given as argv[1]: the test sends a
JSON line {args, env, cwd, stdin, stdout, stderr} (the last three: file paths, stdin may be
null); the launcher answers {"pid": N} once the command runs and {"returncode": N} when it
has ended (negative: killed by that signal, as `subprocess` reports it). The launcher ends when
its standard input closes (the test session is over).
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import sys
import time
from pathlib import Path
from typing import Any

TROVE = Path(sys.executable).with_name("trove")
# What the commands import before they do anything; none of it starts a thread.
PRELOADED = (
    "trove.entry",
    "trove.cli",
    "trove.cli_support",
    "trove.db.database",
    "trove.db.models",
    "trove.services.library",
    "trove.services.relocation",
    "trove.pipeline.builtin",
    "trove.pipeline.tasks",
    "PIL.Image",
    "psycopg",
)


class _RunCommand(BaseException):
    """Raised in a forked child: it unwinds the serving loop, so the command runs at the top
    of the stack and ends the way a `trove` process does."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request


def serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    waiting: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, its connection)
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "stdin":
                if not sys.stdin.readline():
                    return
            elif key.data == "accept":
                connection, _ = listener.accept()
                request = json.loads(connection.makefile("r").readline())
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    for pidfd, (_pid, other) in waiting.items():
                        os.close(pidfd)
                        other.close()
                    connection.close()
                    raise _RunCommand(request)
                connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                pidfd = os.pidfd_open(pid)
                waiting[pidfd] = (pid, connection)
                selector.register(pidfd, selectors.EVENT_READ, "child")
            else:
                pidfd = key.fd
                selector.unregister(pidfd)
                pid, connection = waiting.pop(pidfd)
                os.close(pidfd)
                _, status = os.waitpid(pid, 0)
                returncode = os.waitstatus_to_exitcode(status)
                connection.sendall(json.dumps({"returncode": returncode}).encode() + b"\n")
                connection.close()


def become_command(request: dict[str, Any]) -> None:
    """This forked child turns into the requested `trove` process."""
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    os.chdir(request["cwd"])
    streams = (
        (request["stdin"] or os.devnull, os.O_RDONLY),
        (request["stdout"], os.O_WRONLY | os.O_APPEND),
        (request["stderr"], os.O_WRONLY | os.O_APPEND),
    )
    for target, (stream_path, flags) in enumerate(streams):
        fd = os.open(stream_path, flags)
        os.dup2(fd, target)
        os.close(fd)
    sys.argv = [str(TROVE), *request["args"]]


def main() -> None:
    # As for the `trove` executable: its own folder first on the path, not the tests'.
    sys.path[0] = str(TROVE.parent)
    for module in PRELOADED:
        __import__(module)
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        raise SystemExit(f"command launcher: {threads} threads after its imports; forks lose them")
    try:
        serve(sys.argv[1])
        return
    except _RunCommand as command:
        request = command.request
    # Outside the `except`: the command's own errors carry no trace of the launcher.
    become_command(request)
    from trove.entry import main as trove_main

    trove_main()


if __name__ == "__main__":
    main()
