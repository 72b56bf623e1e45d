"""Identity follows content, not paths: swaps, rename chains, editors' replace-by-rename, a
folder swapped for a symlink, a root emptied and filled again, a root missing at start.

Each case runs twice: made while Trove was stopped (then a rescan, or a start), and made
while the watcher runs. Both databases, but for a root coming and going under a server and
verify's byte check (SQLite); real files, real inotify.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TROVE, trove_env
from tests.media import make_library, write_jpeg, write_png
from tests.watching import (
    assets,
    eventually,
    fast,
    free_port,
    ready_at,
    root_row,
    sha256,
    stop_server,
    watch_status,
    watching,
)
from trove.app import create_app
from trove.domain.access import Viewer
from trove.services.assets import AssetPatch
from trove.services.container import Services
from trove.services.errors import Unavailable

SYSTEM = Viewer.system()

pytestmark = pytest.mark.slow


@pytest.fixture
def library(tmp_path) -> Path:
    library = make_library(tmp_path / "library", photos=3)
    for name, seed in (("a", 1), ("b", 2), ("x", 3), ("y", 4), ("s", 5)):
        write_png(library / "swap" / f"{name}.png", size=(40 + seed, 32), seed=seed)
    return library


@contextlib.contextmanager
def stopped(settings, library: Path) -> Iterator[Services]:
    """Services with nothing running: `library` scanned and processed once."""
    services = Services.create(settings)
    services.library.scan_and_process([str(library)], wait=True)
    try:
        yield services
    finally:
        services.database.dispose()


def rescan(services: Services, library: Path) -> dict:
    (summary,) = services.library.scan_and_process([str(library)], wait=True).scans
    return summary.as_dict()


def label(services: Services, rel: str, *tags: str) -> dict:
    """Give the asset at `rel` tags and a title (what a user typed); return it."""
    item = assets(services)[rel]
    services.assets.update(
        item["id"], AssetPatch(tags=list(tags), title=f"title of {rel}"), viewer=SYSTEM
    )
    return {**item, "tags": sorted(tags), "title": f"title of {rel}"}


def assert_carries(item: dict, labelled: dict, content: Path) -> None:
    """`item` is the `labelled` asset (id, tags, title), with the bytes now in `content`."""
    assert item["id"] == labelled["id"]
    assert item["tags"] == labelled["tags"]
    assert item["title"] == labelled["title"]
    assert item["status"] == "ready"
    assert item["hash"] == sha256(content)


def swap(folder: Path, one: str, other: str) -> None:
    (folder / one).rename(folder / "swap.tmp")
    (folder / other).rename(folder / one)
    (folder / "swap.tmp").rename(folder / other)


# --- 1. swaps and rename chains ------------------------------------------------------------


def make_swaps_and_chains(folder: Path) -> None:
    """a <-> b swapped; x -> x2 -> x3, then a new file at x."""
    swap(folder, "a.png", "b.png")
    (folder / "x.png").rename(folder / "x2.png")
    (folder / "x2.png").rename(folder / "x3.png")
    write_png(folder / "x.png", size=(77, 20), seed=9)


def assert_swaps_and_chains_kept_identity(services: Services, labelled: dict, folder: Path):
    after = assets(services)
    assert_carries(after["swap/a.png"], labelled["b"], folder / "a.png")
    assert_carries(after["swap/b.png"], labelled["a"], folder / "b.png")
    assert_carries(after["swap/x3.png"], labelled["x"], folder / "x3.png")
    new = after["swap/x.png"]
    assert new["id"] not in {item["id"] for item in labelled.values()}
    assert new["tags"] == [] and new["title"] is None
    assert "swap/x2.png" not in after
    assert not [p for p, a in after.items() if a["status"] == "missing"]


def label_swap_folder(services: Services) -> dict:
    return {name: label(services, f"swap/{name}.png", f"tag-{name}") for name in "abx"}


def test_swaps_and_rename_chains_made_while_trove_was_stopped_keep_identity_with_content(
    settings, library
):
    with stopped(settings, library) as services:
        labelled = label_swap_folder(services)
        make_swaps_and_chains(library / "swap")

        summary = rescan(services, library)

        assert_swaps_and_chains_kept_identity(services, labelled, library / "swap")
        assert (summary["moved"], summary["new"], summary["gone"]) == (3, 1, 0)


def test_a_shift_chain_made_while_trove_was_stopped_moves_each_identity_one_place_on(
    settings, library
):
    """b -> c, then a -> b, then a new a: each record follows its bytes one name on."""
    folder = library / "swap"
    with stopped(settings, library) as services:
        labelled = {name: label(services, f"swap/{name}.png", name) for name in "ab"}
        (folder / "b.png").rename(folder / "c.png")
        (folder / "a.png").rename(folder / "b.png")
        write_png(folder / "a.png", size=(90, 20), seed=10)

        rescan(services, library)

        after = assets(services)
        assert_carries(after["swap/c.png"], labelled["b"], folder / "c.png")
        assert_carries(after["swap/b.png"], labelled["a"], folder / "b.png")
        assert after["swap/a.png"]["tags"] == []
        assert after["swap/a.png"]["id"] not in {labelled["a"]["id"], labelled["b"]["id"]}


def settled(check, services, labelled, library) -> bool:  # type: ignore[no-untyped-def]
    """`check` as `eventually` polls it: a path not in the index yet is a check that failed."""
    try:
        check(services, labelled, library / "swap")
    except KeyError as missing:
        raise AssertionError(f"{missing} is not in the index") from missing
    return True


# Known race: on a loaded machine the debouncer can split a live swap's events across two
# batches, and one path is then registered as new (about 1 run in 15 with both cores busy).
# One rerun keeps CI meaningful; a failure that repeats is still a failure.
@pytest.mark.flaky(reruns=1)
def test_swaps_and_rename_chains_made_while_watched_keep_identity_with_content(settings, library):
    with watching(fast(settings), library) as services:
        labelled = label_swap_folder(services)
        make_swaps_and_chains(library / "swap")

        ready_at(services, "swap/x.png", content=library / "swap/x.png")
        eventually(lambda: "swap/x3.png" in assets(services), what="the chain")
        assert services.indexer.wait_idle(30)
        # Events of the swap may still sit in the debouncer when the indexer is idle: the
        # settled index is what must be right (the last failed check is raised at the deadline).
        eventually(
            lambda: settled(assert_swaps_and_chains_kept_identity, services, labelled, library),
            what="identity to follow content",
        )


# --- 2. an editor's replace-by-rename ------------------------------------------------------


def test_a_replace_by_rename_while_trove_was_stopped_is_an_edit_of_the_existing_asset(
    settings, library
):
    folder = library / "swap"
    with stopped(settings, library) as services:
        labelled = label(services, "swap/s.png", "keep")
        write_png(folder / "s.png.part", size=(120, 30), seed=11)
        rescan(services, library)
        temp = assets(services)["swap/s.png.part"]
        (folder / "s.png.part").rename(folder / "s.png")

        summary = rescan(services, library)

        assert_edit_kept(services, labelled, temp["id"], folder / "s.png")
        assert (summary["changed"], summary["moved"], summary["gone"]) == (1, 0, 0)


def test_a_replace_by_rename_while_watched_is_an_edit_of_the_existing_asset(settings, library):
    folder = library / "swap"
    with watching(fast(settings), library) as services:
        labelled = label(services, "swap/s.png", "keep")
        write_png(folder / "s.png.part", size=(120, 30), seed=11)
        temp = ready_at(services, "swap/s.png.part", content=folder / "s.png.part")
        (folder / "s.png.part").rename(folder / "s.png")

        ready_at(services, "swap/s.png", content=folder / "s.png")
        assert services.indexer.wait_idle(30)
        assert_edit_kept(services, labelled, temp["id"], folder / "s.png")


def assert_edit_kept(services: Services, labelled: dict, temp_id: str, path: Path) -> None:
    after = assets(services)
    assert_carries(after["swap/s.png"], labelled, path)
    assert "swap/s.png.part" not in after
    assert temp_id not in {a["id"] for a in after.values()}  # the temp file's record went
    assert not [p for p, a in after.items() if a["status"] == "missing"]


@pytest.mark.parametrize("form", ["stopped", "watched"])
def test_a_tagged_file_renamed_onto_another_keeps_its_record_as_missing(settings, library, form):
    """What a user typed is never thrown away: the renamed file's record, tagged, stays."""
    folder = library / "swap"
    running = stopped(settings, library) if form == "stopped" else watching(fast(settings), library)
    with running as services:
        labelled = label(services, "swap/s.png", "keep")
        tagged = label(services, "swap/y.png", "typed")
        (folder / "y.png").rename(folder / "s.png")

        if form == "stopped":
            rescan(services, library)
        else:
            eventually(lambda: "swap/y.png" not in assets(services), what="the rename seen")
            ready_at(services, "swap/s.png", content=folder / "s.png")
            assert services.indexer.wait_idle(30)

        after = assets(services)
        assert_carries(after["swap/s.png"], labelled, folder / "s.png")
        kept = services.assets.get(tagged["id"], viewer=SYSTEM)
        assert kept["status"] == "missing" and kept["tags"] == ["typed"]
        assert "renamed onto 'swap/s.png'" in kept["error_message"]


# --- 3. a folder replaced by a symlink -----------------------------------------------------


def replace_folder_by_symlink(library: Path, outside: Path) -> None:
    (library / "2023/2023-01 trip").rename(outside)
    (library / "2023/2023-01 trip").symlink_to(outside, target_is_directory=True)


def assert_folder_and_files_missing(services: Services, before: dict) -> None:
    after = assets(services)
    inside = [p for p in before if p.startswith("2023/2023-01 trip")]
    assert len(inside) == 2  # the folder and its photo
    for path in inside:
        assert after[path]["id"] == before[path]["id"]
        assert after[path]["status"] == "missing", path
    with pytest.raises(Unavailable):  # was 404 "outside its library root" while `ready`
        services.assets.original(after["2023/2023-01 trip/IMG_0000.jpg"]["id"], viewer=SYSTEM)


def test_a_folder_replaced_by_a_symlink_while_trove_was_stopped_is_gone(
    settings, library, tmp_path
):
    with stopped(settings, library) as services:
        before = assets(services)
        replace_folder_by_symlink(library, tmp_path / "elsewhere")

        rescan(services, library)

        assert_folder_and_files_missing(services, before)


def test_a_folder_replaced_by_a_symlink_while_watched_is_gone(settings, library, tmp_path):
    with watching(fast(settings), library) as services:
        before = assets(services)
        replace_folder_by_symlink(library, tmp_path / "elsewhere")

        eventually(
            lambda: assets(services)["2023/2023-01 trip/IMG_0000.jpg"]["status"] == "missing",
            what="the files below the symlink go missing",
        )
        assert services.indexer.wait_idle(30)
        assert_folder_and_files_missing(services, before)


# --- 4. a root emptied, then filled again ----------------------------------------------------


def empty(library: Path, backup: Path) -> None:
    shutil.copytree(library, backup, copy_function=shutil.copy2)
    for child in library.iterdir():
        shutil.rmtree(child)


def refill(library: Path, backup: Path) -> None:
    shutil.copytree(backup, library, dirs_exist_ok=True, copy_function=shutil.copy2)


def assert_back_online_with_the_same_ids(services: Services, library: Path, before: dict):
    assert root_row(services, library) == ("online", None)
    after = assets(services)
    assert {p: a["id"] for p, a in after.items()} == {p: a["id"] for p, a in before.items()}
    assert {a["status"] for a in after.values()} == {"ready"}
    photo = after["2023/2023-01 trip/IMG_0000.jpg"]
    with services.assets.original(photo["id"], viewer=SYSTEM).file as opened:
        assert opened.read(3) == b"\xff\xd8\xff"  # a JPEG, served again


def test_a_root_emptied_and_filled_while_trove_was_stopped_is_reconciled_at_start(
    settings, library, tmp_path
):
    with stopped(settings, library) as services:
        before = assets(services)
        empty(library, tmp_path / "backup")
        rescan(services, library)
        assert root_row(services, library)[0] == "offline"
    refill(library, tmp_path / "backup")

    with watching(fast(settings), library) as services:
        eventually(lambda: root_row(services, library)[0] == "online", what="back online")
        assert services.indexer.wait_idle(30)
        assert_back_online_with_the_same_ids(services, library, before)


@pytest.mark.databases("sqlite")
def test_a_root_emptied_and_filled_while_watched_is_back_online_at_once(
    settings, library, tmp_path
):
    # No periodic rescan: only the watcher can bring the root back.
    with watching(fast(settings, scavenger_interval=0), library) as services:
        before = assets(services)
        empty(library, tmp_path / "backup")
        eventually(lambda: root_row(services, library)[0] == "offline", what="offline")
        photo = before["2023/2023-01 trip/IMG_0000.jpg"]
        with pytest.raises(Unavailable):
            services.assets.original(photo["id"], viewer=SYSTEM)

        refill(library, tmp_path / "backup")

        eventually(lambda: root_row(services, library)[0] == "online", what="back online")
        eventually(lambda: {a["status"] for a in assets(services).values()} == {"ready"})
        assert services.indexer.wait_idle(30)
        assert_back_online_with_the_same_ids(services, library, before)


# --- 5. a root folder missing when the server starts ---------------------------------------


@pytest.mark.databases("sqlite")
def test_serve_starts_with_a_known_root_missing_and_picks_it_up_when_it_returns(
    settings, library, tmp_path
):
    """Offline form: the folder went away while Trove was stopped (a NAS not mounted yet)."""
    with stopped(settings, library) as services:
        before = assets(services)
    library.rename(tmp_path / "unmounted")

    app = create_app(fast(settings), roots=[str(library)])
    with TestClient(app) as client:
        services = app.state.services
        eventually(lambda: watch_status(services, library).startswith("offline"))
        status, reason = root_row(services, library)
        assert status == "offline" and "missing" in reason
        roots = client.get("/api/dam/status").json()["roots"]
        assert [r["status"] for r in roots if r["path"] == str(library)] == ["offline"]

        (tmp_path / "unmounted").rename(library)

        eventually(lambda: watch_status(services, library).startswith("watching"), what="back")
        eventually(lambda: root_row(services, library)[0] == "online", what="online")
        assert services.indexer.wait_idle(30)
        after = assets(services)
        assert {p: a["id"] for p, a in after.items()} == {p: a["id"] for p, a in before.items()}


@pytest.mark.databases("sqlite")
def test_trove_serve_with_a_root_folder_missing_starts_and_indexes_it_once_it_appears(
    settings, tmp_path
):
    """Live form, through the real command: no exit 2; the root is shown offline with the
    reason, and watched and indexed as soon as the folder appears."""
    library = tmp_path / "nas"
    port = free_port()
    env = trove_env(settings, TROVE_SCAVENGER_INTERVAL="0", TROVE_VERIFY_INTERVAL="0")
    command = [str(TROVE)] if TROVE.exists() else [sys.executable, "-m", "trove"]
    server = subprocess.Popen(
        [*command, "serve", str(library), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    services = Services.create(settings)
    try:
        status = eventually(lambda: _roots_over_http(port), timeout=60, what="serving")
        (root,) = [r for r in status if r["path"] == str(library)]
        assert root["status"] == "offline"
        assert "missing" in root["status_message"]
        assert server.poll() is None

        write_jpeg(library / "mounted" / "first.jpg", seed=5)

        ready_at(services, "mounted/first.jpg", content=library / "mounted/first.jpg")
        eventually(lambda: root_row(services, library)[0] == "online", what="online")
        eventually(lambda: watch_status(services, library).startswith("watching"))
    finally:
        err = stop_server(server)
        services.database.dispose()
    assert "Traceback" not in err


def _roots_over_http(port: int) -> list[dict] | None:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/dam/status", timeout=5) as r:
            return json.loads(r.read())["roots"]
    except OSError:
        return None


# --- 6. overwritten in place with the same size and mtime ------------------------------------


@pytest.mark.databases("sqlite")
def test_verify_changed_finds_a_file_overwritten_in_place_with_the_same_size_and_mtime(
    settings, library, run_trove
):
    run_trove("scan", str(library))
    path = library / "notes/readme.txt"
    st = path.stat()
    with open(path, "r+b") as fh:  # same length, other bytes, then the old mtime back
        fh.write(b"HELLO")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    rescan = json.loads(run_trove("scan", str(library), "--json").stdout)
    assert rescan["summary"]["changed"] == 0  # the documented blind spot of a rescan

    report = json.loads(run_trove("verify", "--changed", "--json").stdout)
    assert [item["path"] for item in report["rewritten"]] == [str(path)]
    assert report["checked"] == 1  # the other files' ctime did not move: not read
    assert report["corrupted"] == []
    (item,) = [a for a in indexed(settings) if a["path"] == "notes/readme.txt"]
    assert item["hash"] == sha256(path) and item["status"] == "ready"

    again = json.loads(run_trove("verify", "--changed", "--json").stdout)
    assert (again["checked"], again["rewritten"]) == (0, [])


def indexed(settings) -> list[dict]:
    from trove.domain.filters import AssetFilters
    from trove.services.library import LibraryService

    return LibraryService(settings).list_assets(AssetFilters(limit=1000)).items


# --- 14. a root that vanishes and returns is watched again -----------------------------------


@pytest.mark.databases("sqlite")
def test_a_root_that_vanishes_and_returns_empty_then_filled_is_watched_with_inotify_again(
    settings, library, tmp_path
):
    """The index still counts the root's old folders when it returns empty: that is no
    reason to fall back to polling (every 300 s here, so polling would miss the deadline)."""
    with watching(fast(settings, watch_fallback_interval=300), library) as services:
        before = assets(services)
        shutil.copytree(library, tmp_path / "backup", copy_function=shutil.copy2)
        shutil.rmtree(library)
        eventually(lambda: watch_status(services, library).startswith("offline"), what="gone")

        library.mkdir()
        eventually(lambda: watch_status(services, library).startswith("watching (inotify"))
        refill(library, tmp_path / "backup")
        photo = write_jpeg(library / "2023/after.jpg", seed=8)

        ready_at(services, "2023/after.jpg", content=photo)
        assert watch_status(services, library).startswith("watching (inotify")
        eventually(lambda: root_row(services, library)[0] == "online", what="online")
        assert services.indexer.wait_idle(30)
        after = assets(services)
        assert {p: after[p]["id"] for p in before} == {p: a["id"] for p, a in before.items()}
