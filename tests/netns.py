"""Run a test body in a network namespace of its own, with only loopback up.

Tests that let the scraper or its browser connect run their body here, so that no packet can
leave the machine even when the code under test is wrong: the child process has no interface
but `lo`, so any address outside loopback is unreachable. The body, its servers and its
browser all live in the child; its return value (or its failure) comes back pickled.

Needs root (CAP_SYS_ADMIN) for `unshare(CLONE_NEWNET)`; without it the test is skipped rather
than run with the machine's network.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import socket
import subprocess
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

CLONE_NEWNET = 0x40000000
T = TypeVar("T")


class IsolatedFailure(AssertionError):
    """The body failed in the namespace; the message carries its traceback."""


def run_isolated(body: Callable[..., T], *args: Any, timeout: float = 120, **kwargs: Any) -> T:
    """body(*args, **kwargs) in a forked child inside a fresh network namespace."""
    if os.geteuid() != 0:
        pytest.skip("a network namespace needs root (unshare -n)")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_end)
        _child(write_end, body, args, kwargs)
    os.close(write_end)
    payload = _collect(read_end, pid, timeout)
    ok, value = pickle.loads(payload) if payload else (False, "the isolated child died silently")
    if not ok:
        raise IsolatedFailure(value)
    return value  # type: ignore[no-any-return]


def _child(write_end: int, body: Callable[..., Any], args: Any, kwargs: Any) -> None:
    code = 1
    try:
        _enter_namespace()
        result = (True, body(*args, **kwargs))
        code = 0
    except BaseException:
        result = (False, traceback.format_exc())
    try:
        data = pickle.dumps(result)
    except Exception:
        data = pickle.dumps((False, f"unpicklable result: {traceback.format_exc()}"))
    with os.fdopen(write_end, "wb") as out:
        out.write(data)
    os._exit(code)


def _enter_namespace() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    names = sorted(name for _, name in socket.if_nameindex())
    if names != ["lo"]:
        raise RuntimeError(f"the namespace has interfaces besides lo: {names}")


def _collect(read_end: int, pid: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise IsolatedFailure(f"the isolated body ran past {timeout} s")
            ready, _, _ = select.select([pipe], [], [], left)
            if ready:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def interfaces_inside() -> list[str]:
    """The interfaces the body sees (for the test that proves the isolation)."""
    return sorted(name for _, name in socket.if_nameindex())
