"""A library on a disk that ignores letter case (a vfat or exFAT stick, an SMB share): there
`/media/Photos` and `/media/PHOTOS` are one folder, and must be one library. A FUSE file
system stands for the disk (tests/case_blind_fs.py), mounted read-only over a folder of this
test's; `trove` runs as users run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.media import fingerprint_tree, make_library

pytestmark = pytest.mark.databases("sqlite")  # the subject is the disk


@pytest.fixture
def case_blind_disk(tmp_path: Path) -> Iterator[Path]:
    """The mount point of a disk holding `Photos/` (with `2020/` below it)."""
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        pytest.skip("mounting a FUSE file system needs root and /dev/fuse")
    backing, mount_point = tmp_path / "backing", tmp_path / "disk"
    make_library(backing / "Photos")
    (backing / "Photos" / "2020").mkdir()
    mount_point.mkdir()
    served = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("case_blind_fs.py")), backing, mount_point],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not os.path.ismount(mount_point):
            if served.poll() is not None:
                raise RuntimeError(f"the FUSE file system did not start: {served.communicate()[1]}")
            assert time.monotonic() < deadline, "the FUSE file system was not mounted in 30 s"
            time.sleep(0.05)
        assert os.path.samefile(mount_point / "Photos", mount_point / "PHOTOS")
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False, capture_output=True)
        served.wait(30)


def _roots(run_trove) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(run_trove("status", "--json").stdout)["roots"]


def test_a_library_scanned_by_another_spelling_is_the_same_library(
    case_blind_disk: Path, run_trove
) -> None:
    before = fingerprint_tree(case_blind_disk)
    first = json.loads(run_trove("scan", str(case_blind_disk / "Photos"), "--json").stdout)
    again = json.loads(run_trove("scan", str(case_blind_disk / "PHOTOS"), "--json").stdout)
    (library,) = _roots(run_trove)
    assert library["path"] == str(case_blind_disk / "Photos")
    assert again["roots"][0]["root_id"] == first["roots"][0]["root_id"]
    assert again["summary"]["new"] == 0
    assert again["summary"]["unchanged"] == first["summary"]["new"] > 0
    assert fingerprint_tree(case_blind_disk) == before


def test_a_folder_inside_a_library_or_holding_one_is_refused_by_any_spelling(
    case_blind_disk: Path, run_trove
) -> None:
    run_trove("scan", str(case_blind_disk / "Photos" / "2020"), "--json")
    holding = run_trove("scan", str(case_blind_disk / "PHOTOS"), check=False)
    assert holding.returncode != 0
    assert "holds the library" in holding.stderr
    assert "Traceback" not in holding.stderr
    run_trove("scan", str(case_blind_disk), "--json", check=False)  # refused too, by name
    assert [root["path"] for root in _roots(run_trove)] == [
        str(case_blind_disk / "Photos" / "2020")
    ]


def test_a_folder_inside_a_library_spelled_otherwise_is_refused(
    case_blind_disk: Path, run_trove
) -> None:
    run_trove("scan", str(case_blind_disk / "Photos"), "--json")
    inside = run_trove("scan", str(case_blind_disk / "photos" / "2020"), check=False)
    assert inside.returncode != 0
    assert "is inside the library" in inside.stderr
    assert [root["path"] for root in _roots(run_trove)] == [str(case_blind_disk / "Photos")]
