"""The core promise end to end: index a tree through the real CLI, both databases."""

import json

import pytest

from tests.media import fingerprint_tree, make_library

pytestmark = pytest.mark.slow


def test_scan_indexes_every_file_and_fingerprints_it(tmp_path, run_trove):
    library = make_library(tmp_path / "library")
    before = fingerprint_tree(library)

    result = json.loads(run_trove("scan", str(library), "--json").stdout)

    assert result["summary"]["new"] == len(before)
    assert result["pipeline"]["steps"]["hash"] == {"ok": len(before)}
    listing = json.loads(run_trove("ls", "--json", "--limit", "1000").stdout)
    files = {item["path"]: item for item in listing["items"] if item["asset_type"] != "collection"}
    assert set(files) == set(before)
    for rel, fp in before.items():
        assert files[rel]["hash"] == fp.sha256
        assert files[rel]["size"] == fp.size
        assert files[rel]["status"] == "ready"
    assert fingerprint_tree(library) == before
