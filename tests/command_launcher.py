"""Starts `trove` commands for the tests by forking a process that has imported Trove already.

A `trove` command spends 0.7-2 s of a core importing its libraries (SQLAlchemy, TaskIQ and
FastAPI, Trove's models) before it does anything, and the suite runs some two hundred of them:
a quarter of its CPU went into starting interpreters. This process imports them once; each
command is a fork of it that takes the test's environment, working directory and standard
streams, and then runs the very `main` the `trove` executable runs, in a process of its own
that exits through the interpreter's normal shutdown (threads joined, atexit run), with its
own exit status. What a command imports is still checked in a fresh interpreter
(`conftest.imported_by`); the commands that test a signal's handling run as `trove` itself.

Nothing that starts a thread is imported here (NumPy's BLAS does): a fork copies only the
thread that calls it. Trove does no I/O and reads no environment at import (DESIGN.md), so
a forked command is the command a fresh interpreter would run.

Protocol, one command per connection to the Unix socket given as argv[1]: the test sends a
JSON line {args, env, cwd, umask, stdin, stdout, stderr} (the last three: file paths, stdin
may be null); the launcher answers {"pid": N} once the command runs and {"returncode": N} when it
has ended (negative: killed by that signal, as `subprocess` reports it). The launcher ends when
its standard input closes (the test session is over). `Launcher` is the tests' side of it.
"""

from __future__ import annotations

import json
import os
import select
import selectors
import signal
import socket
import subprocess
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
    "trove.server",
    "trove.app",
    "nicegui",
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
    os.umask(request["umask"])
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


# --- the tests' side -------------------------------------------------------------------------


# The session's launcher while it runs (conftest's `command_launcher`); none when every
# command runs in a fresh interpreter.
SESSION: list[Launcher] = []


def session_launcher() -> Launcher | None:
    """The session's launcher, for the test process that started it only: a child forked
    from that process (tests/netns.py runs one in a network namespace of its own) starts its
    commands fresh, where the launcher's would run outside its namespace."""
    if SESSION and SESSION[0].owner == os.getpid():
        return SESSION[0]
    return None


def start_in_background(
    args: list[str], *, env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes] | LaunchedCommand:
    """`trove ARGS` left running (a server), its output in `log`: forked by the session's
    launcher, or a fresh interpreter when there is none."""
    launcher = session_launcher()
    if launcher is not None:
        log.write_bytes(b"")
        return launcher.start(args, env=env, cwd=cwd, stdout=log, stderr=log)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "trove", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
        )


class Launcher:
    """The launcher process of one test session (one per xdist worker), and the commands it
    starts for it."""

    def __init__(self, workdir: Path) -> None:
        self.owner = os.getpid()
        self.workdir = workdir
        self.socket_path = str(workdir / "launcher.sock")
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.socket_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the command launcher did not start")
        self.count = 0

    def start(
        self,
        args: list[str],
        *,
        env: dict[str, str],
        cwd: str | os.PathLike[str] | None = None,
        stdin: Path | None = None,
        stdout: Path,
        stderr: Path,
    ) -> LaunchedCommand:
        """A command started, as `subprocess.Popen` would; its streams go to these files."""
        request = {
            "args": args,
            "env": env,
            "cwd": os.fspath(cwd or os.getcwd()),
            "umask": _umask(),
            "stdin": stdin and str(stdin),
            "stdout": str(stdout),
            "stderr": str(stderr),
        }
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(self.socket_path)
        connection.sendall(json.dumps(request).encode() + b"\n")
        return LaunchedCommand(["trove", *args], connection)

    def run(
        self, args: list[str], *, env: dict[str, str], timeout: float, input: str | None
    ) -> subprocess.CompletedProcess[str]:
        """A command run to its end, as `subprocess.run(capture_output=True, text=True)`."""
        self.count += 1
        streams = {name: self.workdir / f"{self.count}.{name}" for name in ("stdout", "stderr")}
        for stream in streams.values():
            stream.write_bytes(b"")
        stdin = None
        if input is not None:
            stdin = self.workdir / f"{self.count}.stdin"
            stdin.write_text(input)
        command = self.start(args, env=env, stdin=stdin, **streams)
        try:
            returncode = command.wait(timeout)
        except subprocess.TimeoutExpired:
            command.kill()
            command.wait()  # as subprocess.run does, waits for the kill to land
            raise
        output = {name: path.read_text() for name, path in streams.items()}
        for path in (*streams.values(), *([stdin] if stdin else [])):
            path.unlink()
        return subprocess.CompletedProcess(command.args, returncode, **output)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class LaunchedCommand:
    """A command the launcher started: what the tests use of `subprocess.Popen`."""

    def __init__(self, args: list[str], connection: socket.socket) -> None:
        self.args = args
        self._connection = connection
        self._answers = connection.makefile("rb", buffering=0)  # no read-ahead past a line
        self.pid: int = json.loads(self._answers.readline())["pid"]
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode if self.returncode is not None else self._ended(timeout=0)

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and self._ended(timeout=timeout) is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _ended(self, *, timeout: float | None) -> int | None:
        ended, _, _ = select.select([self._connection], [], [], timeout)
        if ended:
            self.returncode = json.loads(self._answers.readline())["returncode"]
            self._answers.close()
            self._connection.close()
        return self.returncode


if __name__ == "__main__":
    main()
