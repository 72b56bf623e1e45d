"""Sidecars seen by a scan or the watcher: kept out of the assets, remembered by size and
mtime (`sidecar_files`), and a sidecar that changed, appeared or went has its picture read it
again (its `sidecar` step, and `places`, which may follow from it, run again).

Used by the scanner (a whole root: a remembered sidecar not seen is gone) and by the watcher
(a few paths). Reads go over the bare driver like the scan's, and the ORM is loaded only when
something is to be written, so an unchanged rescan pays one indexed query per root.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from trove.domain import sidecars
from trove.domain.paths import to_stored
from trove.repositories import fast_index

if TYPE_CHECKING:
    from trove.db.database import Database

# What a sidecar feeds: its own step, and the place named from a position it gives.
STEPS = ("sidecar", "places")
SKIP_REASON = "sidecar (read into its picture)"


class SidecarBook:
    def __init__(
        self, url: str, root_id: str, root_path: str, database: Callable[[], Database]
    ) -> None:
        self.url = url
        self.root_id = root_id
        self.root_path = root_path
        self._database = database
        self.seen: dict[str, tuple[int, int]] = {}  # stored rel_path -> size, mtime_ns
        self.vanished: list[str] = []
        self._folder: tuple[str, sidecars.Folder] | None = None  # the last folder listed
        self._known: dict[str, tuple[int, int]] | None = None

    def saw(self, rel_path: str, st: os.stat_result | None) -> bool:
        """Whether this file is a sidecar (its picture is beside it); if so it is noted."""
        folder, _, name = rel_path.rpartition("/")
        if st is None or sidecars.kind_of(name) is None:
            return False
        stored, escaped = to_stored(rel_path)
        signature = (st.st_size, st.st_mtime_ns)
        unchanged = self.known().get(stored) == signature  # its picture was there: no listing
        if escaped or not (unchanged or sidecars.images_of(name, self._names(folder))):
            return False
        self.seen[stored] = signature
        return True

    def gone(self, rel_path: str) -> bool:
        """A path that vanished (the watcher): noted when it has a sidecar's name."""
        if sidecars.kind_of(rel_path.rpartition("/")[2]) is None:
            return False
        self.vanished.append(to_stored(rel_path)[0])
        return True

    def settle(self, *, whole_root: bool, blocked: Sequence[str] = ()) -> int:
        """Remember what was seen; pictures whose sidecar changed, appeared or went are
        sent back to read it. `whole_root`: every sidecar of the root was walked past, so
        one remembered and not seen is gone (unless below `blocked`, unreadable, folders).
        Returns how many pictures were sent back."""
        known = self.known()
        if not (known or self.seen):
            return 0
        changed = {rel: sig for rel, sig in self.seen.items() if known.get(rel) != sig}
        candidates = known if whole_root else {rel: None for rel in self.vanished}
        prefixes = tuple(f"{b}/" for b in blocked)
        gone = [
            rel
            for rel in candidates
            if rel in known and rel not in self.seen and not (prefixes and rel.startswith(prefixes))
        ]
        if not (changed or gone):
            return 0
        images = sorted({image for rel in [*changed, *gone] for image in self._images(rel)})
        from trove.repositories.sidecars import SidecarRepository

        with self._database().session() as session:
            repo = SidecarRepository(session)
            repo.forget(self.root_id, gone)
            repo.save(self.root_id, changed)
            return repo.read_again(self.root_id, images, STEPS)

    def known(self) -> dict[str, tuple[int, int]]:
        """The sidecars remembered for this root (read once)."""
        if self._known is None:
            with fast_index.connect(self.url) as conn:
                self._known = fast_index.load_sidecars(conn, self.root_id)
        return self._known

    def _images(self, stored_rel: str) -> list[str]:
        folder, _, name = stored_rel.rpartition("/")
        prefix = f"{folder}/" if folder else ""
        return [prefix + image for image in sidecars.images_of(name, self._names(folder))]

    def _names(self, folder: str) -> sidecars.Folder:
        if self._folder is None or self._folder[0] != folder:
            try:
                names = os.listdir(os.path.join(self.root_path, folder))
            except OSError:
                names = []
            self._folder = (folder, sidecars.Folder(names))
        return self._folder[1]
