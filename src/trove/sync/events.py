"""watchdog's events mapped onto the FileWatcher."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trove.sync.watcher import FileWatcher


class EventHandler:
    """watchdog's handler protocol (`dispatch`), mapping events onto the watcher."""

    def __init__(self, watcher: FileWatcher) -> None:
        self.watcher = watcher
        self.debounce = watcher.settings.watch_debounce
        self.settle = watcher.settings.watch_settle

    def dispatch(self, event: Any) -> None:
        kind = event.event_type
        src = os.fsdecode(event.src_path)
        if event.is_directory and kind in ("deleted", "moved") and self._is_root(src):
            self.watcher.on_root_event(src)  # a root renamed away is gone, not a subtree move
        elif kind == "moved":
            if not event.is_synthetic:  # a folder's subtree moves with it in one UPDATE
                self.watcher.on_move_event(src, os.fsdecode(event.dest_path))
        elif kind in ("closed", "deleted") or (kind == "created" and event.is_directory):
            # Written and closed, gone, or a new folder: nothing more is coming; be quick.
            self.watcher.on_path_event(src, delay=self.settle)
        elif kind == "attrib" or (kind in ("created", "modified") and not event.is_directory):
            # A folder's attributes too: one that could not be listed may be readable again.
            self.watcher.on_path_event(src, delay=self.debounce)

    def _is_root(self, path: str) -> bool:
        return any(path == s.root.path for s in list(self.watcher.roots.values()))
