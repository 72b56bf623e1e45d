"""Resolver (the batch form of storage.originals.resolve) and AssetView.suffix, both written
with strings instead of pathlib for the pipeline's sake, agree with the pathlib forms; a small
original read whole leaves its descriptor where it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trove.pipeline.processor import AssetView
from trove.storage.originals import PathOutsideRoot, Resolver, open_original, read_whole


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


def test_reading_a_small_original_whole_leaves_its_descriptor_at_the_start(
    tmp_path: Path,
) -> None:
    """Whatever read_whole answers, the caller may read the file from its descriptor next
    (libmagic reads from the current offset)."""
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    small.write_bytes(b"a small note\n")
    large.write_bytes(b"x" * 100)
    with open_original(small) as fd:
        content = read_whole(fd, at_most=64)
        assert content is not None
        assert (content.data, content.size) == (b"a small note\n", 13)
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0
    with open_original(large) as fd:
        assert read_whole(fd, at_most=64) is None
        assert os.read(fd, 200) == b"x" * 100
