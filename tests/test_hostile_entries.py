"""Hostile entries: the scan never hangs or crashes, and says what it did with each entry.

Every entry is either indexed (with status `error` and a message when it cannot be read) or
skipped with its reason counted in the summary. Real files, no mocks; the names on both
databases (PostgreSQL refuses some text SQLite stores), unreadable and vanishing entries on
SQLite.

The tests run as root here, and root reads everything regardless of permissions. Tests about
unreadable files therefore run the real CLI with the two capabilities that bypass permission
checks (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) dropped — as root the files are then checked
against their owner bits like anyone's. As a normal user they run as that user.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import trove_env
from tests.media import write_jpeg
from trove.db.database import Database
from trove.db.models import Asset
from trove.domain.paths import from_stored
from trove.drivers.manager import AssetDriverManager
from trove.repositories import fast_index
from trove.services.library import LibraryService
from trove.services.scan_writer import ScanWriter
from trove.services.scanner import canonical_root
from trove.storage.originals import MimeDetector, OriginalUnavailable
from trove.storage.walk import Entry, Kind

pytestmark = pytest.mark.slow

DROP_ROOT_BYPASS = ["--bounding-set=-dac_override,-dac_read_search"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def indexed(settings) -> dict[bytes, Asset]:
    """Every asset by its relative path exactly as on disk (bytes); b'' is the root folder."""
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            assets = session.scalars(select(Asset)).all()
    finally:
        database.dispose()
    return {os.fsencode(from_stored(a.rel_path, escaped=a.path_escaped)): a for a in assets}


def status_of(settings) -> dict[bytes, tuple[str, str, str | None]]:
    return {p: (a.id, a.status, a.error_message) for p, a in indexed(settings).items()}


def scan(settings, path: Path):  # type: ignore[no-untyped-def]
    return LibraryService(settings).scan_and_process([str(path)], wait=True).scans[0]


# --- a tree with one of everything ----------------------------------------------------------


def put(root: Path, rel: bytes, data: bytes) -> bytes:
    path = os.fsencode(root) + b"/" + rel
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return data


def hostile_tree(tmp_path: Path) -> tuple[Path, dict[bytes, bytes], dict[str, int]]:
    """(root, the files that must be indexed -> their bytes, skip reasons -> counts)."""
    root = tmp_path / "library"
    outside = tmp_path / "outside"
    write_jpeg(outside / "secret.jpg", seed=66)
    write_jpeg(outside / "folder" / "also-secret.jpg", seed=67)
    write_jpeg(root / "photo.jpg", seed=1)

    wanted = {b"photo.jpg": (root / "photo.jpg").read_bytes()}
    for rel, data in [
        (b"new\nline.txt", b"a name with a newline"),
        (b"caf\xe9.jpg", b"latin-1 name, not UTF-8"),
        (b"\xff\xfe folder/inner \x80.txt", b"undecodable folder and file names"),
        (b"x" * 251 + b".jpg", b"a 255-byte name"),
        (b"empty.dat", b""),
    ]:
        wanted[rel] = put(root, rel, data)
    # A folder tree named in a legacy 8-bit encoding, deeper than PostgreSQL can index once
    # each undecodable byte is stored as 4: the shallow file is indexed, the deep part skipped.
    rng = random.Random(3)
    levels = [bytes(rng.randrange(0x80, 0x100) for _ in range(200)) for _ in range(11)]
    wanted[levels[0] + b"/shallow.txt"] = put(root, levels[0] + b"/shallow.txt", b"shallow")
    put(root, b"/".join(levels) + b"/deep.txt", b"too deep to index")

    put(root, b".hidden.jpg", b"hidden")
    put(root, b".git/config", b"[core]")
    put(root, b"@eaDir/photo.jpg/SYNOPHOTO_THUMB_M.jpg", b"nas thumbnail")
    (root / "broken").symlink_to(root / "no-such-file")
    (root / "loop-a").symlink_to(root / "loop-b")
    (root / "loop-b").symlink_to(root / "loop-a")
    (root / "out-file.jpg").symlink_to(outside / "secret.jpg")
    (root / "out-dir").symlink_to(outside / "folder")
    os.mkfifo(root / "fifo")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "socket"))
    skipped = {
        "hidden or system file": 3,
        "broken symlink": 1,
        "symlink loop": 2,
        "symlink leading out of the root (not followed)": 2,
        "not a regular file (FIFO)": 1,
        "not a regular file (socket)": 1,
        "path too long to index": 1,
    }
    try:
        os.mknod(root / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        skipped["not a regular file (device)"] = 1
    except PermissionError:  # only root may make device nodes
        pass
    return root, wanted, skipped


def test_a_hostile_tree_is_scanned_to_the_end_and_every_entry_is_accounted_for(
    settings, tmp_path, run_trove
):
    root, wanted, skipped = hostile_tree(tmp_path)

    # A FIFO opened for reading would block forever: the timeout turns a hang into a failure.
    result = json.loads(run_trove("scan", str(root), "--json", timeout=60).stdout)

    summary = result["summary"]
    assert summary["skipped"] == skipped
    assert (summary["new"], summary["errors"]) == (len(wanted), 0)
    assets = indexed(settings)
    files = {path: a for path, a in assets.items() if a.asset_type != "collection"}
    assert set(files) == set(wanted)  # nothing behind a symlink, nothing hidden, no deep.txt
    for path, data in wanted.items():
        assert files[path].status == "ready", path
        assert files[path].hash == sha256(data), path  # the stored name leads to these bytes
        assert files[path].size == len(data)
    assert not any(b"secret" in path for path in assets)


def test_a_rescan_of_a_hostile_tree_finds_it_unchanged(settings, tmp_path, run_trove):
    root, wanted, skipped = hostile_tree(tmp_path)
    run_trove("scan", str(root), "--json", timeout=60)

    result = json.loads(run_trove("scan", str(root), "--json", timeout=60).stdout)

    assert result["summary"]["unchanged"] == len(wanted)
    assert result["summary"]["skipped"] == skipped
    assert result["pipeline"] is None


def test_an_undecodable_name_is_listed_with_its_bytes_escaped(settings, tmp_path, run_trove):
    put(tmp_path / "library", b"caf\xe9.jpg", b"latin-1")
    run_trove("scan", str(tmp_path / "library"))

    listing = json.loads(run_trove("ls", "--json").stdout)

    assert "caf\\xe9.jpg" in [item["path"] for item in listing["items"]]


# --- unreadable files and folders -----------------------------------------------------------


@pytest.fixture(scope="session")
def without_root_bypass(tmp_path_factory) -> list[str]:
    """A command prefix under which permission bits apply, checked on a real locked file."""
    locked = tmp_path_factory.mktemp("probe") / "locked"
    locked.write_bytes(b"x")
    locked.chmod(0)
    if os.geteuid() != 0:
        candidates = [[]]
    else:
        setpriv = shutil.which("setpriv")
        candidates = [[setpriv, *DROP_ROOT_BYPASS]] if setpriv else []
    for prefix in candidates:
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", f"open({str(locked)!r}, 'rb')"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if "PermissionError" in probe.stderr:
            return prefix
    pytest.skip("cannot run a process that permission bits apply to (root without setpriv?)")


@pytest.fixture
def scan_without_root_bypass(settings, without_root_bypass):  # type: ignore[no-untyped-def]
    def run(path: Path) -> dict[str, Any]:
        result = subprocess.run(
            [*without_root_bypass, sys.executable, "-m", "trove", "scan", str(path), "--json"],
            env=trove_env(settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return json.loads(result.stdout)

    return run


@contextmanager
def chmod(path: Path, mode: int) -> Iterator[None]:
    old = stat.S_IMODE(path.stat().st_mode)
    path.chmod(mode)
    try:
        yield
    finally:
        path.chmod(old)


@pytest.mark.databases("sqlite")
def test_an_unreadable_file_is_indexed_as_an_error_that_says_why(
    settings, tmp_path, scan_without_root_bypass
):
    library = tmp_path / "library"
    write_jpeg(library / "fine.jpg")
    write_jpeg(library / "locked.jpg", seed=2)

    with chmod(library / "locked.jpg", 0):
        result = scan_without_root_bypass(library)
        while_locked = status_of(settings)
    readable_again = scan(settings, library)

    assert (result["summary"]["new"], result["summary"]["errors"]) == (2, 1)
    locked_id, status, message = while_locked[b"locked.jpg"]
    assert (status, message) == ("error", "cannot read file: permission denied")
    assert while_locked[b"fine.jpg"][1] == "ready"
    assert readable_again.errors == 0
    after = indexed(settings)[b"locked.jpg"]
    assert (after.id, after.status) == (locked_id, "ready")
    assert after.hash == sha256((library / "locked.jpg").read_bytes())


@pytest.mark.parametrize(
    ("mode", "meaning"), [(0o000, "no access at all"), (0o644, "listable, not enterable")]
)
@pytest.mark.databases("sqlite")
def test_an_unreadable_folder_is_an_error_and_what_it_holds_does_not_go_missing(
    settings, tmp_path, scan_without_root_bypass, mode, meaning
):
    library = tmp_path / "library"
    write_jpeg(library / "fine.jpg")
    write_jpeg(library / "private" / "a.jpg", seed=2)
    write_jpeg(library / "private" / "deeper" / "b.jpg", seed=3)
    scan(settings, library)
    before = status_of(settings)

    with chmod(library / "private", mode):
        result = scan_without_root_bypass(library)
        during = status_of(settings)
    readable_again = scan(settings, library)

    assert result["summary"]["gone"] == 0
    assert result["summary"]["errors"] >= 1
    folder_id, status, message = during[b"private"]
    assert (folder_id, status) == (before[b"private"][0], "error")
    assert message.endswith("permission denied")
    for child in (b"private/a.jpg", b"private/deeper/b.jpg"):
        assert during[child] == before[child]  # same id, still ready, no message
    assert (readable_again.gone, readable_again.errors, readable_again.new) == (0, 0, 0)
    assert status_of(settings) == before


# The watcher's sync (sync/path_sync.py) of the paths given as arguments; its answer as JSON.
SYNC_PATHS = """
import json, sys
from trove.config import load_settings
from trove.db.database import Database
from trove.services.scanner import ScanService
from trove.sync.path_sync import PathSync
settings = load_settings()
scanner = ScanService(settings, database=Database(settings.resolved_database_url))
result = PathSync(scanner).sync(sys.argv[1:])
print(json.dumps({"missing": result.missing, "rescanned": result.rescanned_roots}))
"""


@pytest.fixture
def sync_without_root_bypass(settings, without_root_bypass):  # type: ignore[no-untyped-def]
    def sync(*paths: Path) -> dict[str, Any]:
        result = subprocess.run(
            [*without_root_bypass, sys.executable, "-c", SYNC_PATHS, *map(str, paths)],
            env=trove_env(settings),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return sync


@pytest.mark.databases("sqlite")
def test_files_the_watcher_cannot_see_for_their_folders_permissions_do_not_go_missing(
    settings, tmp_path, sync_without_root_bypass
):
    """Events for files in a folder that lost its search permission (a NAS agent writing as
    another user): the watcher's sync records the folder's error, as a scan does, instead of
    taking the files for deleted; once it can be listed again, the library is rescanned."""
    library = tmp_path / "library"
    write_jpeg(library / "fine.jpg")
    write_jpeg(library / "private" / "a.jpg", seed=2)
    write_jpeg(library / "private" / "b.jpg", seed=3)
    scan(settings, library)
    before = status_of(settings)

    sync = sync_without_root_bypass
    with chmod(library / "private", 0):
        (library / "private" / "b.jpg").touch()  # changed while hidden: an event for it
        blind = sync(library / "private" / "a.jpg", library / "private" / "b.jpg")
        during = status_of(settings)
    seen_again = sync(library / "private")

    assert blind == {"missing": 0, "rescanned": []}
    folder_id, status, message = during[b"private"]
    assert (folder_id, status, message) == (
        before[b"private"][0],
        "error",
        "cannot list folder: permission denied",
    )
    for child in (b"private/a.jpg", b"private/b.jpg"):
        assert during[child] == before[child]  # same id, still ready: not missing
    assert seen_again == {"missing": 0, "rescanned": [str(library)]}
    after = status_of(settings)
    assert after[b"private"] == before[b"private"]  # ready again
    changed = {k: v[:2] for k, v in after.items() if v != before[k]}
    # The touch made while it was hidden is seen by the rescan: b.jpg is processed again.
    assert changed == {b"private/b.jpg": (before[b"private/b.jpg"][0], "processing")}


@pytest.mark.parametrize(
    ("mode", "meaning"), [(0o000, "no access at all"), (0o444, "listable, not searchable")]
)
@pytest.mark.databases("sqlite")
def test_a_folder_that_cannot_be_listed_inside_a_moved_folder_is_an_error(
    settings, tmp_path, sync_without_root_bypass, mode, meaning
):
    """A folder moved (its old path vanished, its new one appeared) is looked at below: a
    folder in it whose entries cannot be listed is recorded as an error, as a scan does,
    instead of passing for ready while what it holds stays missing without a word."""
    library = tmp_path / "library"
    write_jpeg(library / "trip" / "a.jpg")
    write_jpeg(library / "trip" / "private" / "b.jpg", seed=2)
    scan(settings, library)
    before = status_of(settings)
    (library / "trip").rename(library / "trip-2024")

    with chmod(library / "trip-2024" / "private", mode):
        sync_without_root_bypass(library / "trip", library / "trip-2024")
        during = status_of(settings)
    seen_again = sync_without_root_bypass(library / "trip-2024" / "private")

    assert during[b"trip-2024"][:2] == (before[b"trip"][0], "ready")
    assert during[b"trip-2024/a.jpg"] == before[b"trip/a.jpg"]  # moved with its id
    assert during[b"trip-2024/private"] == (
        before[b"trip/private"][0],
        "error",
        "cannot list folder: permission denied",
    )
    assert during[b"trip-2024/private/b.jpg"][0] == before[b"trip/private/b.jpg"][0]
    assert seen_again["rescanned"] == [str(library)]
    after = status_of(settings)
    assert after[b"trip-2024/private"] == before[b"trip/private"]  # ready again
    assert after[b"trip-2024/private/b.jpg"] == before[b"trip/private/b.jpg"]


def test_entries_still_unreadable_are_not_rewritten_by_a_rescan(
    settings, tmp_path, scan_without_root_bypass
):
    from tests.test_rescan import install_write_log, write_log

    library = tmp_path / "library"
    write_jpeg(library / "fine.jpg")
    write_jpeg(library / "locked.jpg", seed=2)
    write_jpeg(library / "private" / "a.jpg", seed=3)

    with chmod(library / "locked.jpg", 0), chmod(library / "private", 0):
        first = scan_without_root_bypass(library)
        install_write_log(settings.resolved_database_url)
        again = scan_without_root_bypass(library)
        rewrites = write_log(settings.resolved_database_url)
    readable = scan(settings, library)

    assert first["summary"]["errors"] == again["summary"]["errors"] == 2
    assert rewrites == []
    assert (readable.errors, readable.changed) == (0, 1)  # the chmod is noticed
    assert {status for _id, status, _msg in status_of(settings).values()} == {"ready"}


@pytest.mark.databases("sqlite")
def test_an_unreadable_root_is_offline_and_nothing_goes_missing(
    settings, tmp_path, scan_without_root_bypass
):
    library = tmp_path / "library"
    write_jpeg(library / "a.jpg")
    write_jpeg(library / "sub" / "b.jpg", seed=2)
    scan(settings, library)
    before = status_of(settings)

    with chmod(library, 0):
        result = scan_without_root_bypass(library)

    assert result["roots"][0]["status"] == "offline"
    assert result["roots"][0]["status_message"] == "folder is not readable"
    assert status_of(settings) == before


# --- files that vanish or change kind while Trove looks at them -----------------------------


@pytest.mark.databases("sqlite")
def test_a_file_that_vanishes_between_the_walk_and_reading_it_is_an_error_saying_so(
    settings, tmp_path
):
    library = tmp_path / "library"
    write_jpeg(library / "a.jpg")
    scan(settings, library)
    doomed = write_jpeg(library / "doomed.jpg", seed=4)
    entry = Entry("doomed.jpg", Kind.FILE, doomed.stat())  # as the walk yielded it
    doomed.unlink()
    url = settings.resolved_database_url
    with fast_index.connect(url) as conn:
        root = fast_index.find_root(conn, canonical_root(library))
        folders = {rel: row.id for rel, row in fast_index.load_root_index(conn, root.id).items()}

    database = Database(url)
    classify = AssetDriverManager.load(settings).classify
    writer = ScanWriter(database, root, {"": folders[""]}, batch_size=10, classify=classify)
    writer.register_file(entry)
    writer.close()
    database.dispose()

    asset = indexed(settings)[b"doomed.jpg"]
    assert (asset.status, asset.error_message) == ("error", "cannot read file: file vanished")
    assert scan(settings, library).gone == 1  # and the next scan says it is gone
    assert indexed(settings)[b"doomed.jpg"].status == "missing"


@pytest.mark.databases("sqlite")
def test_a_file_that_vanishes_before_it_is_fingerprinted_fails_its_step_not_the_run(
    settings, tmp_path
):
    library = tmp_path / "library"
    write_jpeg(library / "a.jpg")
    write_jpeg(library / "b.jpg", seed=2)
    LibraryService(settings).scan_and_process([str(library)], wait=False)

    (library / "b.jpg").unlink()
    pipeline = LibraryService(settings).pipeline().run_pending()
    assets = indexed(settings)
    rescan = scan(settings, library)

    assert (pipeline.ready, pipeline.errors) == (1, 1)
    assert pipeline.steps["hash"] == {"ok": 1, "failed": 1}
    assert assets[b"a.jpg"].status == "ready"
    assert assets[b"b.jpg"].status == "error"
    assert "vanished" in assets[b"b.jpg"].error_message
    assert rescan.gone == 1
    assert indexed(settings)[b"b.jpg"].status == "missing"


def finishes_within(seconds: float, call) -> Any:  # type: ignore[no-untyped-def]
    """Run `call` in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    return outcome


def test_a_file_swapped_for_a_fifo_after_the_walk_is_refused_without_blocking(tmp_path):
    from trove.storage.hashing import sha256_file

    fifo = tmp_path / "was-a-photo.jpg"
    os.mkfifo(fifo)

    for read in (lambda: MimeDetector().from_path(fifo), lambda: sha256_file(fifo)):
        outcome = finishes_within(5, read)
        assert isinstance(outcome.get("error"), OriginalUnavailable)
        assert str(outcome["error"]) == "no longer a regular file"
