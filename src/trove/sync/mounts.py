"""What the kernel says about a root: is it there (and the same folder), is it on a network
file system (inotify does not see other machines' changes there), how many inotify watches
this process holds and why adding more failed."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator

# inotify cannot see changes made by other machines on these.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "davfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.glusterfs",
        "fuse.davfs2",
        "fuse.gcsfuse",
        "fuse.smbnetfs",
    }
)


def root_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of a root folder that is there and readable, else None (also when
    the folder, stored as its real path, was replaced by a link: the library is elsewhere)."""
    if os.path.realpath(path) != path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.access(path, os.R_OK | os.X_OK):
        return None
    return st.st_dev, st.st_ino


def folder_device(path: str) -> int | None:
    """The file system (st_dev) holding the folder at `path`, None when it is not there."""
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


def folders_on_disk(path: str, *, up_to: int) -> int:
    """How many folders (the root included, symlinks not followed) are at `path`, counted up
    to `up_to`: what a recursive inotify watch of it needs, as the disk is now. The index's
    count can be ahead of the disk, say when a root returns and is being copied back."""
    count, pending = 0, [path]
    while pending and count < up_to:
        folder = pending.pop()
        count += 1
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            pending += [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    return count


def inotify_watch_count() -> int | None:
    """inotify watches this process holds (from /proc/self/fdinfo), or None if unknown."""
    total = 0
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify":
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    total += sum(1 for line in info if line.startswith("inotify wd:"))
    return total


def network_filesystem(path: str) -> str | None:
    """The type of the file system holding `path` when it is a network one."""
    best, fstype = "", ""
    for mount_point, kind in _mounts():
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, fstype = mount_point, kind
    return fstype if fstype in NETWORK_FILESYSTEMS else None


def _mounts() -> Iterator[tuple[str, str]]:
    try:
        with open("/proc/self/mounts") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) >= 3:
                    yield parts[1].replace("\\040", " "), parts[2]
    except OSError:
        return


def watch_limit_hint() -> str:
    try:
        with open("/proc/sys/fs/inotify/max_user_watches") as fh:
            limit = fh.read().strip()
    except OSError:
        limit = "?"
    return f"fs.inotify.max_user_watches = {limit}; raise it with sysctl to watch this root"


def describe_watch_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"inotify watch limit reached ({watch_limit_hint()})"
    if exc.errno == errno.EMFILE:
        return "inotify instance limit reached (fs.inotify.max_user_instances)"
    return f"the folder cannot be watched: {exc.strerror or exc}"
