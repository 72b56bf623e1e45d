"""The walker on real folders: what is indexed, what is skipped and why (no database)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from trove.storage.walk import MAX_REL_PATH_BYTES, Entry, Kind, WalkRules, walk

HIDDEN = "hidden or system file"
EXCLUDED = "excluded by rule"


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def walked(root: Path, rules: WalkRules | None = None) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for entry in walk(str(root), rules or WalkRules()):
        assert entry.rel_path not in found, f"{entry.rel_path!r} yielded twice"
        found[entry.rel_path] = entry
    return found


def files(found: dict[str, Entry]) -> set[str]:
    return {rel for rel, e in found.items() if e.kind is Kind.FILE}


def skipped(found: dict[str, Entry]) -> dict[str, str | None]:
    return {rel: e.reason for rel, e in found.items() if e.kind is Kind.SKIPPED}


def test_every_file_is_found_with_its_stat_and_folders_come_before_their_contents(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "2023" / "trip" / "b.jpg", b"12345")
    order = [e.rel_path for e in walk(str(tmp_path), WalkRules())]
    found = walked(tmp_path)

    assert files(found) == {"a.jpg", "2023/trip/b.jpg"}
    assert found["2023"].kind is Kind.DIR and found["2023/trip"].kind is Kind.DIR
    assert order.index("2023") < order.index("2023/trip") < order.index("2023/trip/b.jpg")
    assert found["2023/trip/b.jpg"].stat.st_size == 5


def test_hidden_files_and_system_folders_are_skipped_by_default_and_never_entered(tmp_path):
    touch(tmp_path / "photo.jpg")
    touch(tmp_path / ".hidden.jpg")
    touch(tmp_path / ".git" / "config")
    touch(tmp_path / "album" / "@eaDir" / "photo.jpg" / "SYNOPHOTO_THUMB_M.jpg")
    touch(tmp_path / "album" / "Thumbs.db")
    touch(tmp_path / "#recycle" / "old.jpg")

    found = walked(tmp_path)

    assert files(found) == {"photo.jpg"}
    assert skipped(found) == {
        ".hidden.jpg": HIDDEN,
        ".git": HIDDEN,
        "album/@eaDir": HIDDEN,
        "album/Thumbs.db": HIDDEN,
        "#recycle": HIDDEN,
    }


def test_include_hidden_indexes_hidden_files_and_system_folders(tmp_path):
    touch(tmp_path / ".hidden.jpg")
    touch(tmp_path / ".git" / "config")
    touch(tmp_path / "@eaDir" / "thumb.jpg")

    found = walked(tmp_path, WalkRules(include_hidden=True))

    assert files(found) == {".hidden.jpg", ".git/config", "@eaDir/thumb.jpg"}
    assert skipped(found) == {}


def test_an_exclude_glob_without_a_slash_matches_file_names_at_any_depth(tmp_path):
    touch(tmp_path / "keep.jpg")
    touch(tmp_path / "draft.tmp")
    touch(tmp_path / "deep" / "er" / "other.tmp")

    found = walked(tmp_path, WalkRules(exclude_globs=("*.tmp",)))

    assert files(found) == {"keep.jpg"}
    assert skipped(found) == {"draft.tmp": EXCLUDED, "deep/er/other.tmp": EXCLUDED}


def test_an_excluded_folder_is_skipped_and_not_entered(tmp_path):
    touch(tmp_path / "src" / "app.js")
    touch(tmp_path / "src" / "node_modules" / "lib" / "index.js")

    found = walked(tmp_path, WalkRules(exclude_globs=("node_modules",)))

    assert files(found) == {"src/app.js"}
    assert skipped(found) == {"src/node_modules": EXCLUDED}
    assert not any(rel.startswith("src/node_modules/") for rel in found)


def test_an_exclude_glob_with_a_slash_matches_the_relative_path_from_the_root(tmp_path):
    touch(tmp_path / "raw" / "a.cr2")
    touch(tmp_path / "edited" / "a.cr2")

    found = walked(tmp_path, WalkRules(exclude_globs=("/raw/*.cr2",)))

    assert files(found) == {"edited/a.cr2"}
    assert skipped(found) == {"raw/a.cr2": EXCLUDED}


def test_include_globs_keep_only_matching_files_but_every_folder_is_still_walked(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "2023" / "b.jpg")
    touch(tmp_path / "2023" / "c.png")

    found = walked(tmp_path, WalkRules(include_globs=("*.jpg", "2023/*.png")))

    assert files(found) == {"a.jpg", "2023/b.jpg", "2023/c.png"}
    assert skipped(found) == {"notes.txt": EXCLUDED}


def test_an_exclude_glob_wins_over_an_include_glob(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "a.small.jpg")

    found = walked(tmp_path, WalkRules(include_globs=("*.jpg",), exclude_globs=("*.small.*",)))

    assert files(found) == {"a.jpg"}
    assert skipped(found) == {"a.small.jpg": EXCLUDED}


def test_pruned_folders_such_as_troves_own_data_dir_are_not_entered(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "trove-data" / "trove.db")

    found = walked(tmp_path, WalkRules(prune_dirs=frozenset({str(tmp_path / "trove-data")})))

    assert files(found) == {"a.jpg"}
    assert skipped(found) == {"trove-data": EXCLUDED}


def test_symlinks_are_never_followed_and_each_is_skipped_with_its_reason(tmp_path):
    root = tmp_path / "root"
    touch(root / "real" / "a.jpg")
    touch(tmp_path / "outside" / "secret.jpg")
    (root / "broken").symlink_to(root / "nowhere")
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    (root / "out-dir").symlink_to(tmp_path / "outside")
    (root / "out-file.jpg").symlink_to(tmp_path / "outside" / "secret.jpg")
    (root / "alias").symlink_to(root / "real")

    found = walked(root)

    assert files(found) == {"real/a.jpg"}
    assert skipped(found) == {
        "broken": "broken symlink",
        "loop1": "symlink loop",
        "loop2": "symlink loop",
        "out-dir": "symlink leading out of the root (not followed)",
        "out-file.jpg": "symlink leading out of the root (not followed)",
        "alias": "symlink within the root (target indexed at its own path)",
    }


def test_fifos_sockets_and_devices_are_skipped_without_being_opened(tmp_path):
    touch(tmp_path / "a.jpg")
    os.mkfifo(tmp_path / "pipe")  # opening it for reading would block forever
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        try:
            os.mknod(tmp_path / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
            device = {"null": "not a regular file (device)"}
        except PermissionError:  # not root: no device node, the rest still counts
            device = {}

        found = walked(tmp_path)

    assert files(found) == {"a.jpg"}
    assert skipped(found) == {
        "pipe": "not a regular file (FIFO)",
        "sock": "not a regular file (socket)",
        **device,
    }


def test_hostile_names_are_found_exactly_as_they_are_on_disk(tmp_path):
    names = [
        "new\nline.jpg",
        "tab\tand space .jpg",
        "x" * 251 + ".jpg",  # 255 bytes, the longest name Linux allows
        "ünïcödé 写真.jpg",
        os.fsdecode(b"caf\xe9.jpg"),  # Latin-1 bytes: not valid UTF-8
    ]
    for name in names:
        touch(tmp_path / name)
    touch(tmp_path / "empty.dat", b"")

    found = walked(tmp_path)

    assert files(found) == {*names, "empty.dat"}
    assert found["empty.dat"].stat.st_size == 0
    assert os.fsencode(found[os.fsdecode(b"caf\xe9.jpg")].rel_path) == b"caf\xe9.jpg"


def test_a_path_too_long_to_index_is_skipped_with_its_reason(tmp_path):
    folder = tmp_path
    for i in range(MAX_REL_PATH_BYTES // 200 + 1):
        folder = folder / (f"{i:02d}" + "d" * 200)
    os.makedirs(folder)

    found = walked(tmp_path)

    too_long = [rel for rel, reason in skipped(found).items() if reason == "path too long to index"]
    assert len(too_long) == 1
    assert len(os.fsencode(too_long[0])) > MAX_REL_PATH_BYTES
    assert all(len(os.fsencode(rel)) <= MAX_REL_PATH_BYTES for rel in found if rel != too_long[0])


def test_the_length_limit_counts_undecodable_bytes_as_the_database_stores_them(tmp_path):
    # Each undecodable byte is stored as a 4-byte character: 3 levels of 200 such bytes are
    # 600 bytes on disk but 2400+ in the index, past what a PostgreSQL index entry can hold.
    level = b"\xe9" * 200
    os.makedirs(os.fsencode(tmp_path) + b"/" + b"/".join([level] * 4))
    touch(Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + level + b"/" + level + b"/ok.jpg")))

    found = walked(tmp_path)

    two_deep = os.fsdecode(level + b"/" + level)
    assert files(found) == {two_deep + "/ok.jpg"}
    assert skipped(found) == {two_deep + "/" + os.fsdecode(level): "path too long to index"}


def test_a_file_that_vanishes_during_the_walk_is_skipped_as_vanished(tmp_path):
    for name in ("a", "b", "c", "d"):
        touch(tmp_path / f"{name}.jpg")

    found: dict[str, Entry] = {}
    for entry in walk(str(tmp_path), WalkRules()):
        if not found:  # the listing is read; delete the others before they are stat-ed
            for other in tmp_path.iterdir():
                if other.name != entry.rel_path:
                    other.unlink()
        found[entry.rel_path] = entry

    assert len(files(found)) == 1
    assert set(skipped(found).values()) == {"vanished during scan"}
    assert len(found) == 4


def test_a_root_that_cannot_be_listed_is_reported_not_raised(tmp_path):
    found = list(walk(str(tmp_path / "does-not-exist"), WalkRules()))

    assert [(e.rel_path, e.kind) for e in found] == [("", Kind.UNREADABLE_DIR)]
    assert found[0].reason and "cannot list folder" in found[0].reason


@pytest.mark.parametrize(
    ("name", "hidden"),
    [
        (".DS_Store", True),
        ("@eaDir", True),
        ("$RECYCLE.BIN", True),
        ("photo.jpg", False),
        ("my.hidden.jpg", False),
    ],
)
def test_is_hidden_names(name, hidden):
    assert WalkRules().is_hidden(name) is hidden
    assert WalkRules(include_hidden=True).is_hidden(name) is False


def test_globs_ignore_case_and_a_trailing_slash_names_a_folder(tmp_path):
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "x.jpg").write_bytes(b"x")
    (tmp_path / "IMG_0001.JPG").write_bytes(b"x")
    (tmp_path / "notes.txt").write_bytes(b"x")

    only_photos = WalkRules(include_globs=("*.jpg",), exclude_globs=("build/",))
    files = {e.rel_path for e in walk(str(tmp_path), only_photos) if e.kind is Kind.FILE}

    assert files == {"IMG_0001.JPG"}
