"""Keeping the index in step with the disk while Trove runs (the disk is the truth).

- `watcher`: the FileWatcher (seed 4.5), watchdog/inotify events per root, supervised.
- `events`: watchdog's events mapped onto the watcher.
- `debounce`: paths synced once quiet, moves in order.
- `path_sync`: a few paths of the index brought in line with the disk as it is now.
- `locks`: one watching process per root.
- `mounts`: what the kernel says about a root (identity, network file systems, inotify).
- `scavenger`: the periodic rescans and bitrot checks.
"""
