"""Trove's processes collect cyclic garbage every YOUNG_THRESHOLD allocations, not CPython's
700 (trove/collector.py: the collector was a fifth of a scan's CPU): the CLI and the
pipeline's worker processes, which are spawned fresh and set it again."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trove import entry
from trove.collector import YOUNG_THRESHOLD
from trove.config import Settings
from trove.pipeline.pool import _Worker


def _thresholds(_: None) -> tuple[int, int, int]:
    return gc.get_threshold()


@pytest.fixture
def default_collector() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_cli_collects_less_often(
    default_collector: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["trove", "--help"])
    with pytest.raises(SystemExit) as exited:
        entry.main()
    assert exited.value.code == 0
    assert "scan" in capsys.readouterr().out
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)


def test_a_pipeline_worker_process_collects_less_often(tmp_path: Path) -> None:
    worker = _Worker(Settings(data_dir=tmp_path / "data", auth=False))
    try:
        assert worker.call(_thresholds, None) == (YOUNG_THRESHOLD, 10, 10)
    finally:
        worker.close()
