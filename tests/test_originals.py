"""Resolver (the batch form of storage.originals.resolve) and AssetView.suffix, both written
with strings instead of pathlib for the pipeline's sake, agree with the pathlib forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from trove.pipeline.processor import AssetView
from trove.storage.originals import PathOutsideRoot, Resolver


def test_the_resolver_answers_paths_inside_the_root_also_through_a_symlinked_root(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real"
    (real / "a" / "b").mkdir(parents=True)
    (real / "a" / "b" / "note.txt").write_text("x")
    (real / "top.txt").write_text("x")
    alias = tmp_path / "alias"
    alias.symlink_to(real)
    resolve = Resolver()
    for root in (real, alias):
        assert resolve(str(root), "a/b/note.txt", escaped=False) == root / "a" / "b" / "note.txt"
        assert resolve(str(root), "top.txt", escaped=False) == root / "top.txt"


def test_the_resolver_refuses_a_folder_that_leads_out_even_to_a_sibling_sharing_its_prefix(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    neighbour = tmp_path / "lib2"  # "lib2" starts with "lib": a string prefix is not enough
    neighbour.mkdir()
    (neighbour / "secret.txt").write_text("x")
    (root / "way-out").symlink_to(neighbour)
    with pytest.raises(PathOutsideRoot):
        Resolver()(str(root), "way-out/secret.txt", escaped=False)


@pytest.mark.parametrize(
    "name",
    ["a.TXT", "a.", ".a", "..a", "a..b", "a.tar.gz", "x", "...", "é.Jpg", "a. b", ".bashrc"],
)
def test_an_asset_views_suffix_is_its_names_path_suffix_in_lower_case(name: str) -> None:
    view = AssetView(
        id="1",
        path=Path("/library/other.BIN"),
        size=1,
        mtime_ns=1,
        mime_type=None,
        asset_type="other",
        hash=None,
        filename=name,
    )
    assert view.suffix == Path(name).suffix.lower()
