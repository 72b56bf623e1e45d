"""A library on a disk that is away: its mount point is a folder on another file system, and
an app may have written into it. Real mounts: a tmpfs in a mount namespace of its own stands
for the disk, `trove scan` runs there, and the index is checked from here.

What the index decides from the files (gone, found again by the files it still has) runs on
SQLite and PostgreSQL; what the disk and its mounts do, on SQLite.
"""

from __future__ import annotations

import io
import json
import select
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import trove_env
from tests.media import fingerprint_tree, make_library
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.repositories import fast_index
from trove.services.errors import Unavailable
from trove.services.health import HealthService
from trove.services.library import LibraryService
from trove.services.scanner import UNMOUNTED_WHILE_SCANNED, ScanService
from trove.services.uploads import UploadService
from trove.sync.path_sync import PathSync

ANOTHER_DISK = (
    "the folder is on another disk than before and none of its files are there"
    " (the disk is not mounted?)"
)
ANSWER_WITHIN_S = 120
# Runs each line it reads as a command, its output in "$1.out" and "$1.err", and answers with
# the command's exit status.
COMMANDS = 'while IFS= read -r line; do sh -c "$line" >"$1.out" 2>"$1.err"; echo $?; done'


class MountNamespace:
    """A shell in a mount namespace of its own: what it mounts, only the commands it runs
    see (this process sees the folders beneath), and it is all gone when the shell ends."""

    def __init__(self, settings: Any, folder: Path) -> None:
        self.output = folder / "command"
        self.shell = subprocess.Popen(
            ["unshare", "--mount", "sh", "-c", COMMANDS, "sh", str(self.output)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=trove_env(settings),
        )

    def run(self, command: str) -> str:
        assert self.shell.stdin is not None and self.shell.stdout is not None
        self.shell.stdin.write(command + "\n")
        self.shell.stdin.flush()
        ready, _, _ = select.select([self.shell.stdout], [], [], ANSWER_WITHIN_S)
        assert ready, f"no answer within {ANSWER_WITHIN_S} s: {command}"
        status = self.shell.stdout.readline()
        if not status:  # the shell is gone: unshare could not make a namespace
            raise ChildProcessError(self.shell.communicate()[1])
        errors = Path(f"{self.output}.err").read_text()
        assert status == "0\n", f"{command}: exit {status.strip()}: {errors}"
        return Path(f"{self.output}.out").read_text()

    def scan(self, library: Path) -> dict[str, Any]:
        trove = f"{shlex.quote(sys.executable)} -m trove scan --no-wait --json"
        (summary,) = json.loads(self.run(f"{trove} {shlex.quote(str(library))}"))["scans"]
        return summary

    def device(self, folder: Path) -> int:
        return int(self.run(f"stat -c %d {shlex.quote(str(folder))}"))

    def close(self) -> None:
        if self.shell.returncode is None:
            self.shell.communicate(timeout=ANSWER_WITHIN_S)  # its input closed: it ends


@pytest.fixture
def namespace(settings, tmp_path):
    ns = MountNamespace(settings, tmp_path)
    try:
        ns.run("true")
    except ChildProcessError as exc:
        pytest.skip(f"no mount namespace here: {exc}")
    yield ns
    ns.close()


@pytest.fixture
def source(tmp_path) -> Path:
    """The disk's files, copied onto each tmpfs that stands for the disk."""
    return make_library(tmp_path / "source", photos=2)


def q(path: Path) -> str:
    return shlex.quote(str(path))


def indexed(settings) -> dict[str, dict[str, Any]]:
    """Every asset by relative path ('' is the root folder), as `trove ls` lists them."""
    page = LibraryService(settings).list_assets(AssetFilters(limit=1000))
    assert page.next_cursor is None
    return {item["path"]: item for item in page.items}


def statuses(settings) -> dict[str, str]:
    with fast_index.connect(settings.resolved_database_url) as conn:
        return dict(conn.execute("SELECT rel_path, status FROM assets").fetchall())


def recorded_device(settings) -> int | None:
    with fast_index.connect(settings.resolved_database_url) as conn:
        (root,) = fast_index.all_roots(conn)
    return root.device


def library_status(settings) -> tuple[str, str | None]:
    (root,) = LibraryService(settings).status(viewer=Viewer.system())["roots"]
    return root["status"], root["status_message"]


def disk_mounted(ns: MountNamespace, *, disk: Path, source: Path, library: Path) -> None:
    """A new tmpfs at `disk` holding a copy of `source`, shown at `library`."""
    ns.run(
        f"mkdir -p {q(disk)} && mount -t tmpfs none {q(disk)} && cp -a {q(source)}/. {q(disk)}/"
        f" && mount --bind {q(disk)} {q(library)}"
    )


def fingerprints_on(ns: MountNamespace, disk: Path, kept: Path) -> dict[str, Any]:
    """The files of a disk only the namespace sees, fingerprinted from a copy made there."""
    ns.run(f"mkdir {q(kept)} && cp -a {q(disk)}/. {q(kept)}/")
    return fingerprint_tree(kept)


@pytest.mark.databases("sqlite")
def test_a_mount_point_written_to_while_its_disk_is_away_is_offline_and_nothing_goes_missing(
    settings, namespace, source, tmp_path
):
    """An app wrote into the empty mount point of a NAS that is away: the library is offline
    (not a library of missing files plus the app's file), and comes back whole with it."""
    library, disk = tmp_path / "library", tmp_path / "disk"
    library.mkdir()
    disk_mounted(namespace, disk=disk, source=source, library=library)
    first = namespace.scan(library)
    before = indexed(settings)

    namespace.run(f"umount {q(library)} && echo stray > {q(library / 'stray.txt')}")
    away = namespace.scan(library)
    while_away, status_while_away = indexed(settings), library_status(settings)

    namespace.run(f"mount --bind {q(disk)} {q(library)}")
    back = namespace.scan(library)
    on_disk = fingerprints_on(namespace, disk, tmp_path / "kept")

    assert first["status"] == "online" and first["new"] > 0
    assert (away["status"], away["status_message"]) == ("offline", ANOTHER_DISK)
    assert status_while_away == ("offline", ANOTHER_DISK)
    assert while_away == before  # nothing missing, the stray file not indexed
    assert (back["status"], back["gone"], back["new"]) == ("online", 0, 0)
    assert back["unchanged"] == back["seen"]
    assert indexed(settings) == before  # same ids, all present
    assert library_status(settings) == ("online", None)
    assert on_disk == fingerprint_tree(source)  # the originals untouched
    assert (library / "stray.txt").read_text() == "stray\n"


@pytest.mark.databases("sqlite")
def test_a_folder_on_another_disk_that_holds_the_librarys_files_is_scanned_and_its_disk_kept(
    settings, namespace, source, tmp_path
):
    """A disk replaced by a copy of itself (or an NFS share mounted again under a new device
    number) is the same library: scanned as usual, its new file system recorded."""
    library = tmp_path / "library"
    library.mkdir()
    disk_mounted(namespace, disk=tmp_path / "disk", source=source, library=library)
    namespace.scan(library)
    before = indexed(settings)
    first_device = recorded_device(settings)

    namespace.run(f"umount {q(library)}")
    disk_mounted(namespace, disk=tmp_path / "copy", source=source, library=library)
    copy_device = namespace.device(library)
    summary = namespace.scan(library)
    on_disk = fingerprints_on(namespace, tmp_path / "copy", tmp_path / "kept")

    after = indexed(settings)
    assert first_device == namespace.device(tmp_path / "disk") != copy_device
    assert (summary["status"], summary["gone"], summary["new"]) == ("online", 0, 0)
    assert {path: item["id"] for path, item in after.items()} == {
        path: item["id"] for path, item in before.items()
    }
    assert "missing" not in {item["status"] for item in after.values()}
    assert recorded_device(settings) == copy_device
    assert on_disk == fingerprint_tree(source)


def test_files_deleted_from_a_library_on_the_same_disk_go_missing(
    settings, namespace, source, tmp_path
):
    """A mass deletion is no unmounted disk: the folder is on the file system it was."""
    library, disk = tmp_path / "library", tmp_path / "disk"
    library.mkdir()
    disk_mounted(namespace, disk=disk, source=source, library=library)
    namespace.scan(library)
    before = indexed(settings)

    namespace.run(f"rm -r {q(library)}/* && echo new > {q(library / 'new.txt')}")
    summary = namespace.scan(library)

    after = indexed(settings)
    files = [path for path, item in before.items() if item["asset_type"] != "collection"]
    assert (summary["status"], summary["gone"], summary["new"]) == ("online", len(files), 1)
    assert {path: after[path]["status"] for path in files} == dict.fromkeys(files, "missing")
    assert after["new.txt"]["status"] != "missing"
    assert recorded_device(settings) == namespace.device(disk)


@pytest.mark.databases("sqlite")
def test_the_health_check_and_the_watcher_see_a_disk_gone_from_under_a_written_mount_point(
    settings, namespace, source, tmp_path
):
    """Before any scan has looked: health says the library is offline and why, and the
    watcher's sync of a file that vanished takes the library offline, not the file missing."""
    library = tmp_path / "library"
    library.mkdir()
    disk_mounted(namespace, disk=tmp_path / "disk", source=source, library=library)
    namespace.scan(library)
    before = indexed(settings)
    namespace.close()  # the disk is gone with the namespace
    (library / "stray.txt").write_text("stray\n")

    health = HealthService(settings, LibraryService(settings).database).check(with_roots=True)
    synced = PathSync(ScanService(settings)).sync([str(library / "notes/readme.txt")])

    (root,) = health["roots"]
    assert (root["online"], root["reason"]) == (False, f"OSError: {ANOTHER_DISK}")
    assert synced.offline_roots == [str(library)] and synced.missing == 0
    assert library_status(settings) == ("offline", ANOTHER_DISK)
    assert indexed(settings) == before


def test_a_library_marked_missing_before_its_disk_was_known_comes_back_with_its_disk(
    settings, namespace, source, tmp_path
):
    """Indexed before Trove recorded devices, a library over an empty mount point written to
    had every file marked missing; the next scan found the app's file and kept the mount
    point's device. Its files count in the sample though missing, so it returns whole."""
    library, disk = tmp_path / "library", tmp_path / "disk"
    library.mkdir()
    disk_mounted(namespace, disk=disk, source=source, library=library)
    namespace.scan(library)
    before = indexed(settings)
    with fast_index.connect(settings.resolved_database_url) as conn:
        conn.execute("UPDATE roots SET device = NULL")  # as an index of before 0022

    namespace.run(f"umount {q(library)} && echo stray > {q(library / 'stray.txt')}")
    emptied = namespace.scan(library)
    namespace.scan(library)  # found the stray file: the mount point's device is kept
    kept_while_away = recorded_device(settings)
    namespace.run(f"mount --bind {q(disk)} {q(library)}")
    back = namespace.scan(library)

    after = indexed(settings)
    assert emptied["gone"] > 0 and kept_while_away == library.stat().st_dev
    assert (back["status"], back["returned"]) == ("online", emptied["gone"])
    assert {path: after[path] for path in before} == before
    assert after["stray.txt"]["status"] == "missing"
    assert recorded_device(settings) == namespace.device(disk)


# --- the sample of files looked for -------------------------------------------------------
# The disk's own device number is simulated here: the index's record of the library's device
# and of its files' devices is moved to another number, so that the folder is "on another
# disk than before", as after an unmount (or a remount under a new number).


def _record_another_device(settings: Any) -> fast_index.RootRow:
    with fast_index.connect(settings.resolved_database_url) as conn:
        (root,) = fast_index.all_roots(conn)
        conn.execute("UPDATE roots SET device = device + 1 WHERE id = ?", (root.id,))
        conn.execute(
            "UPDATE assets SET device = device + 1 WHERE root_id = ? AND device IS NOT NULL",
            (root.id,),
        )
        return root


def _notes(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(count):
        (folder / f"note-{n:03d}.txt").write_text(f"note {n} " * 10)


def test_a_file_indexed_while_the_disk_was_away_does_not_pass_for_the_library(
    settings: Any, tmp_path: Path
) -> None:
    """An upload into the empty mount point registered its file before any scan (before
    uploads and the watcher looked at the disk): the newest file of the library, and there.
    Found in the sample, it made the scan mark every file missing and record the mount
    point's device as the library's."""
    library = tmp_path / "library"
    _notes(library, 30)
    scans = ScanService(settings)
    scans.scan(library)
    for note in library.iterdir():
        note.unlink()  # the disk is away
    (library / "stray.txt").write_text("written into the empty mount point")
    PathSync(scans).register_path(library / "stray.txt")  # as Trove's own uploads once did
    root = _record_another_device(settings)
    with fast_index.connect(settings.resolved_database_url) as conn:  # on the mount point's
        conn.execute("UPDATE assets SET device = device - 1 WHERE rel_path = 'stray.txt'")

    summary = scans.scan(library)

    assert (summary.status, summary.status_message, summary.gone) == ("offline", ANOTHER_DISK, 0)
    with fast_index.connect(settings.resolved_database_url) as conn:
        (after,) = fast_index.all_roots(conn)
    assert after.device == root.device + 1  # still the disk's


def test_a_library_under_a_new_device_number_is_found_by_the_files_it_still_has(
    settings: Any, tmp_path: Path
) -> None:
    """Long-missing files stay in the index: a sample that could be all of them said a
    remounted library (a new device number) was not there, for good."""
    library = tmp_path / "library"
    _notes(library, 60)
    scans = ScanService(settings)
    scans.scan(library)
    with fast_index.connect(settings.resolved_database_url) as conn:
        (root,) = fast_index.all_roots(conn)
        by_id = [
            rel
            for (rel,) in conn.execute(
                "SELECT rel_path FROM assets WHERE root_id = ? AND asset_type <> 'collection'"
                " AND rel_path <> '' ORDER BY id",
                (root.id,),
            ).fetchall()
        ]
    for position in fast_index.spread(len(by_id), 20):  # the files a sample of all would take
        (library / by_id[position - 1]).unlink()
    assert scans.scan(library).gone == 20
    _record_another_device(settings)

    summary = scans.scan(library)

    assert (summary.status, summary.gone) == ("online", 0)
    with fast_index.connect(settings.resolved_database_url) as conn:
        (after,) = fast_index.all_roots(conn)
    assert after.device == library.stat().st_dev  # the new number, recorded


@pytest.mark.databases("sqlite")
def test_an_upload_into_a_library_whose_disk_is_away_is_refused_and_nothing_written(
    settings: Any, tmp_path: Path
) -> None:
    """The upload would land in the empty mount point, and its file would be the library's
    only one there: refused before a byte is placed, whether or not a scan has looked yet."""
    library = tmp_path / "library"
    _notes(library, 5)
    scans = ScanService(settings)
    root = scans.ensure_root(library, is_upload_target=True)
    scans.scan(library)
    before = indexed(settings)
    for note in library.iterdir():
        note.unlink()  # the disk is away
    _record_another_device(settings)
    uploads = UploadService(settings, LibraryService(settings).database)

    refusals = []
    for _look in ("before a scan", "after a scan"):
        with pytest.raises(Unavailable) as refused:
            uploads.store(Viewer.local_owner(), "in.txt", io.BytesIO(b"x"), root_id=root.id)
        refusals.append(str(refused.value))
        scans.scan(library)

    assert refusals == [f"that library is offline: {ANOTHER_DISK}"] * 2
    assert list(library.iterdir()) == []
    assert indexed(settings) == before


@pytest.mark.databases("sqlite")
def test_a_file_the_watcher_sees_written_into_the_mount_point_of_a_disk_away_is_not_indexed(
    settings: Any, tmp_path: Path
) -> None:
    """Only a vanished file made the watcher's sync look at the disk: an app's new file in
    the empty mount point was indexed and processed as the library's."""
    library = tmp_path / "library"
    _notes(library, 5)
    scans = ScanService(settings)
    scans.scan(library)
    before = indexed(settings)
    for note in library.iterdir():
        note.unlink()  # the disk is away, no event for its files
    _record_another_device(settings)
    (library / "stray.txt").write_text("written into the empty mount point")

    synced = PathSync(scans).sync([library / "stray.txt"])

    assert synced.offline_roots == [str(library)] and not synced.ids
    assert library_status(settings) == ("offline", ANOTHER_DISK)
    assert indexed(settings) == before


# Scans the library given and unmounts it once the walk has seen its first thousand files
# (run inside the namespace, where the mount is).
SCAN_UNMOUNTING_MIDWAY = """
import json, subprocess, sys
from trove.config import load_settings
from trove.services.scanner import UNMOUNTED_WHILE_SCANNED, ScanService

library = sys.argv[1]
unmounted = []

def unmount_once(summary):
    if not unmounted:
        subprocess.run(["umount", "--lazy", library], check=True)
        unmounted.append(summary.seen)

summary = ScanService(load_settings()).scan(library, progress=unmount_once)
print(json.dumps({**summary.as_dict(), "unmounted_at": unmounted}))
"""


@pytest.mark.databases("sqlite")
def test_a_disk_unmounted_while_it_is_scanned_loses_no_file_and_keeps_its_device(
    settings, namespace, tmp_path
):
    """The walk found the empty mount point under the folders it had not listed yet, and
    the scan took their files for deleted, then recorded the mount point's device."""
    source = tmp_path / "source"
    for folder in range(6):
        _notes(source / f"folder-{folder}", 400)
    library, disk = tmp_path / "library", tmp_path / "disk"
    library.mkdir()
    disk_mounted(namespace, disk=disk, source=source, library=library)
    namespace.scan(library)
    before = statuses(settings)
    disk_device = recorded_device(settings)
    script = tmp_path / "scan_unmounting_midway.py"
    script.write_text(SCAN_UNMOUNTING_MIDWAY)
    namespace.run(f"touch {q(disk)}/folder-*/*")  # every file changed: each is looked at

    summary = json.loads(namespace.run(f"{shlex.quote(sys.executable)} {q(script)} {q(library)}"))

    assert summary["unmounted_at"] == [1000]
    assert (summary["status"], summary["gone"]) == ("offline", 0), json.dumps(summary)
    assert summary["status_message"] == UNMOUNTED_WHILE_SCANNED
    assert statuses(settings) == before
    assert recorded_device(settings) == disk_device
    assert library_status(settings) == ("offline", UNMOUNTED_WHILE_SCANNED)


@pytest.mark.databases("sqlite")
def test_an_upload_finished_before_a_restart_waits_for_its_librarys_disk_to_come_back(
    settings: Any, tmp_path: Path
) -> None:
    """At start-up, uploads whose last byte had arrived are placed. With the upload library's
    disk not mounted yet, their bytes were deleted with the refusal; now they wait, and the
    server's upkeep places them once the disk is back."""
    uploads = UploadService(settings, LibraryService(settings).database)
    uploads.store(Viewer.local_owner(), "first.txt", io.BytesIO(b"an earlier upload"))
    upload_id = uploads.begin(Viewer.local_owner(), filename="late.txt", size=5)
    uploads.tus_dir.mkdir(parents=True)
    (uploads.tus_dir / upload_id).write_bytes(b"12345")  # every byte arrived, then a stop
    (uploads.tus_dir / f"{upload_id}.info").write_text(
        json.dumps({"size": 5, "offset": 5, "metadata": {"filename": "late.txt"}})
    )
    folder, away = settings.resolved_upload_dir, tmp_path / "away"
    folder.rename(away)  # the disk is not mounted yet: an empty mount point
    folder.mkdir()
    _record_another_device(settings)

    while_away = uploads.recover()
    kept = (uploads.tus_dir / upload_id).read_bytes()
    folder.rmdir()
    away.rename(folder)  # mounted: the disk and the device it was recorded on
    with fast_index.connect(settings.resolved_database_url) as conn:
        conn.execute("UPDATE roots SET device = device - 1")
        conn.execute("UPDATE assets SET device = device - 1 WHERE device IS NOT NULL")
    back = uploads.place_waiting()  # the server's upkeep, every minute

    assert (while_away, kept, back, uploads.place_waiting()) == (0, b"12345", 1, 0)
    files = {item["filename"]: item for item in indexed(settings).values()}
    assert files["late.txt"]["id"] == upload_id
    assert (folder / "owner" / "late.txt").read_bytes() == b"12345"


@pytest.mark.databases("sqlite")
def test_a_disk_unmounted_while_moved_files_are_matched_after_the_walk_keeps_its_device(
    settings, namespace, tmp_path
):
    """After the walk, moved files are matched (hashed, for minutes in a large library): a
    disk unmounted then had the mount point's device recorded as the library's, and the next
    scan, an app's file in the mount point, marked every file missing."""
    source = tmp_path / "source"
    _notes(source / "folder", 20)
    library, disk = tmp_path / "library", tmp_path / "disk"
    library.mkdir()
    disk_mounted(namespace, disk=disk, source=source, library=library)
    namespace.scan(library)
    before, disk_device = statuses(settings), recorded_device(settings)
    namespace.run(f"mv {q(disk)}/folder/note-00[0-4].txt {q(disk)}/")  # 5 moves to match
    script = tmp_path / "scan_unmounting_midway.py"
    script.write_text(SCAN_UNMOUNTING_MIDWAY)  # with 20 files: at the first moved file

    # Batches of one: each file the matching could not read (the disk gone) would be
    # committed as new before the scan looked at the disk again.
    scan = f"TROVE_SCAN_BATCH_SIZE=1 {shlex.quote(sys.executable)} {q(script)} {q(library)}"
    summary = json.loads(namespace.run(scan))
    namespace.run(f"echo stray > {q(library / 'stray.txt')}")  # an app writes into it
    again = namespace.scan(library)

    assert summary["unmounted_at"] == [20]
    assert (summary["status"], summary["status_message"]) == ("offline", UNMOUNTED_WHILE_SCANNED)
    assert recorded_device(settings) == disk_device
    assert (again["status"], again["status_message"]) == ("offline", ANOTHER_DISK)
    assert statuses(settings) == before


@pytest.mark.databases("sqlite")
def test_an_upload_library_emptied_on_its_own_disk_takes_uploads_again(
    settings: Any, tmp_path: Path
) -> None:
    """Emptied by hand (or its last file sorted into another library), a library is offline
    ("the folder is empty but the index holds its files"), but its folder is on its own disk:
    an upload is what brings it back, not a refusal."""
    uploads = UploadService(settings, LibraryService(settings).database)
    uploads.store(Viewer.local_owner(), "first.txt", io.BytesIO(b"first upload"))
    folder = settings.resolved_upload_dir
    for child in folder.iterdir():
        shutil.rmtree(child)
    ScanService(settings).scan(folder)
    emptied = library_status(settings)

    stored = uploads.store(Viewer.local_owner(), "next.txt", io.BytesIO(b"again"))

    assert emptied == ("offline", "the folder is empty but the index holds its files")
    assert library_status(settings) == ("online", None)
    assert indexed(settings)["owner/next.txt"]["id"] == stored


@pytest.mark.databases("sqlite")
def test_an_upload_finished_before_a_restart_and_refused_for_another_reason_is_dropped(
    settings: Any, tmp_path: Path
) -> None:
    """Only an offline library keeps an upload waiting: one its library's rules leave out
    would fail at every start, hold its name and never expire."""
    uploads = UploadService(settings, LibraryService(settings).database)
    uploads.store(Viewer.local_owner(), "first.txt", io.BytesIO(b"an earlier upload"))
    upload_id = uploads.begin(Viewer.local_owner(), filename="late.txt", size=5)
    uploads.tus_dir.mkdir(parents=True)
    (uploads.tus_dir / upload_id).write_bytes(b"12345")
    (uploads.tus_dir / f"{upload_id}.info").write_text(
        json.dumps({"size": 5, "offset": 5, "metadata": {"filename": "late.txt"}})
    )
    with fast_index.connect(settings.resolved_database_url) as conn:
        conn.execute("UPDATE roots SET include_globs = ?", (json.dumps(["*.jpg"]),))

    placed = uploads.recover()

    assert (placed, uploads.place_waiting()) == (0, 0)
    assert sorted(path.name for path in uploads.tus_dir.iterdir()) == []
    assert "late.txt" not in {item["filename"] for item in indexed(settings).values()}
