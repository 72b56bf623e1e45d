"""The tests' `trove` commands run as forks of a preloaded process (tests/command_launcher.py):
each must end exactly as the `trove` executable does, or every CLI test checks something else.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.command_launcher import Launcher
from tests.conftest import TROVE, trove_env
from trove.config import Settings

pytestmark = [
    pytest.mark.databases("sqlite"),
    pytest.mark.skipif(not TROVE.exists(), reason="needs the installed `trove` executable"),
]


@pytest.fixture
def launcher(command_launcher: Launcher | None) -> Launcher:
    if command_launcher is None:
        pytest.skip("TROVE_TEST_FRESH_COMMANDS=1: every command runs in a fresh interpreter")
    return command_launcher


def _fresh(args: list[str], env: dict[str, str], input: str | None = None) -> tuple:
    done = subprocess.run(
        [str(TROVE), *args], env=env, capture_output=True, text=True, timeout=60, input=input
    )
    return done.returncode, done.stdout, done.stderr


def _forked(
    launcher: Launcher, args: list[str], env: dict[str, str], input: str | None = None
) -> tuple:
    done = launcher.run(args, env=env, timeout=60, input=input)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["no-such-command"],  # Typer's usage error: exit 2, the box on stderr
        ["scan", "/no/such/folder", "--json"],  # Trove's own error
        ["status", "--json"],
    ],
    ids=["version", "usage-error", "scan-error", "status"],
)
def test_a_forked_command_ends_as_the_executable_does(
    launcher: Launcher, settings: Settings, args: list[str]
) -> None:
    env = trove_env(settings)
    _fresh(["status"], env)  # the index exists before either run, as it would for a user
    assert _forked(launcher, args, env) == _fresh(args, env)


def test_a_forked_command_reads_its_input_and_the_environment_it_was_given(
    launcher: Launcher, settings: Settings, tmp_path: Path
) -> None:
    """The launcher started with the test session's environment: a command must see the one
    it was given (here: another database), and what it is fed on stdin."""
    other = tmp_path / "elsewhere.db"
    env = trove_env(settings, TROVE_DATABASE_URL=f"sqlite:///{other}")
    code, _, err = _forked(launcher, ["users", "add", "ana"], env, "pa55word-long\n")
    assert (code, err) == (0, "")
    assert other.exists()
    assert not (settings.data_dir / "trove.db").exists()
    listed = _forked(launcher, ["users", "list"], env)
    assert "ana" in listed[1]


def test_a_command_past_its_timeout_is_killed(launcher: Launcher, settings: Settings) -> None:
    """`trove serve` runs until stopped; a test's timeout ends it as subprocess.run would."""
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        launcher.run(["serve", "--port", port], env=trove_env(settings), timeout=3, input=None)
    assert time.monotonic() - started < 15
    with socket.socket() as again:  # the server is gone: its port is free once more
        again.bind(("127.0.0.1", int(port)))
