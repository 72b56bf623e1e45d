"""Running a command-line tool with a time limit and an output cap."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence


class ToolError(Exception):
    """A tool failed, timed out or produced unusable output; the message is for the user."""


def run_tool(
    argv: Sequence[str | bytes],
    *,
    timeout: float,
    max_output: int = 64 * 1024**2,
    stdin_fd: int | None = None,
    env: dict[str, str] | None = None,
) -> bytes:
    """stdout of `argv`, or ToolError. The whole process group is killed on timeout, so a
    tool that forks helpers cannot outlive its time limit. `stdin_fd` hands the tool an
    already opened file (an original, opened read-only inside its root) instead of a path.
    `env`: the tool's whole environment (a password it reads from there), else this one's."""
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL if stdin_fd is None else stdin_fd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
            env=env,
        )
    except OSError as exc:
        raise ToolError(f"cannot run {_name(argv)}: {exc.strerror or exc}") from exc
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        raise ToolError(f"{_name(argv)} timed out after {timeout:g} s") from None
    except BaseException:
        _kill_group(process)
        process.communicate()
        raise
    if process.returncode != 0:
        raise ToolError(f"{_name(argv)} failed: {_reason(process.returncode, err)}")
    if len(out) > max_output:
        raise ToolError(f"{_name(argv)} produced more than {max_output} bytes")
    return out


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _name(argv: Sequence[str | bytes]) -> str:
    first = argv[0]
    return os.path.basename(first.decode() if isinstance(first, bytes) else first)


def _reason(returncode: int, stderr: bytes) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    detail = lines[-1].strip()[:300] if lines else "no message"
    return f"exit status {returncode}: {detail}"
