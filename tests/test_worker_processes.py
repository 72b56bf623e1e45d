"""How Trove's processes start: the CLI and the pipeline's worker processes collect cyclic
garbage every YOUNG_THRESHOLD allocations, not CPython's 700 (trove/collector.py: the
collector was a fifth of a scan's CPU); worker processes are forked from a fork server that
imported their modules once (pool.py `_worker_context`), each in the environment this process
had when it started them, as a spawned one was, and at a lower priority than this process."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trove import entry
from trove.collector import YOUNG_THRESHOLD
from trove.config import Settings
from trove.pipeline.pool import _Worker
from trove.pipeline.pool_process import NICENESS


def _thresholds(_: None) -> tuple[int, int, int]:
    return gc.get_threshold()


def _niceness(_: None) -> int:
    return os.nice(0)


def _probe(name: str) -> tuple[str | None, int]:
    """An environment variable as the worker sees it, and the worker's parent."""
    return os.environ.get(name), os.getppid()


@pytest.fixture
def default_collector() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[_Worker]]:
    workers: list[_Worker] = []
    yield workers
    for worker in workers:
        worker.close()


def _worker(started: list[_Worker], tmp_path: Path) -> _Worker:
    started.append(_Worker(Settings(data_dir=tmp_path / "data", auth=False)))
    return started[-1]


def test_the_cli_collects_less_often(
    default_collector: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["trove", "--help"])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == 0
    assert "scan" in capsys.readouterr().out
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)


def test_a_pipeline_worker_process_collects_less_often(
    started: list[_Worker], tmp_path: Path
) -> None:
    assert _worker(started, tmp_path).call(_thresholds, None) == (YOUNG_THRESHOLD, 10, 10)


def test_each_worker_process_has_the_environment_of_its_start_not_the_fork_servers(
    started: list[_Worker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TROVE_TEST_PROBE", "first")
    first = _worker(started, tmp_path)
    monkeypatch.setenv("TROVE_TEST_PROBE", "second")
    second = _worker(started, tmp_path)

    assert first.call(_probe, "TROVE_TEST_PROBE")[0] == "first"
    value, parent = second.call(_probe, "TROVE_TEST_PROBE")
    assert value == "second"
    # Forked from the fork server (started with the first worker), not from this process.
    assert parent != os.getpid()
    assert first.call(_probe, "TROVE_TEST_PROBE")[1] == parent


def test_a_worker_process_yields_the_cores_to_the_process_it_works_for(
    started: list[_Worker], tmp_path: Path
) -> None:
    worker = _worker(started, tmp_path)
    assert worker.call(_niceness, None) == os.nice(0) + NICENESS
