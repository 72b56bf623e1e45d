"""A read-only FUSE file system over a folder that ignores letter case when it looks a name up
and keeps it as written when it lists a folder: what a vfat or exFAT disk or an SMB share is to
Linux. Inode numbers are the folder's own (`use_ino`), as on those disks: two spellings of a
name are one file. For the tests: `python tests/case_blind_fs.py BACKING MOUNT_POINT` serves
until unmounted.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import mfusepy as fuse

STAT_FIELDS = (
    "st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_size",
    "st_atime_ns", "st_mtime_ns", "st_ctime_ns",
)  # fmt: skip
STATVFS_FIELDS = (
    "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag",
    "f_frsize", "f_namemax",
)  # fmt: skip


class CaseBlind(fuse.Operations):  # type: ignore[misc]
    use_ns = True

    def __init__(self, backing: str) -> None:
        self.backing = backing

    def _real(self, path: str) -> str:
        real = self.backing
        for part in filter(None, path.split("/")):
            try:
                names = os.listdir(real)
            except OSError as exc:
                raise fuse.FuseOSError(exc.errno or errno.EIO) from None
            if part not in names:
                part = next((n for n in names if n.casefold() == part.casefold()), "")
                if not part:
                    raise fuse.FuseOSError(errno.ENOENT)
            real = os.path.join(real, part)
        return real

    @staticmethod
    def _attributes(st: os.stat_result) -> dict[str, Any]:
        return {name: getattr(st, name) for name in STAT_FIELDS}

    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        return self._attributes(os.lstat(self._real(path)))

    def readdir(self, path: str, fh: int) -> list[tuple[str, dict[str, Any], int]]:
        real = self._real(path)
        return [
            (name, self._attributes(os.lstat(os.path.join(real, name))), 0)
            for name in os.listdir(real)
        ]

    def readlink(self, path: str) -> str:
        return os.readlink(self._real(path))

    def open(self, path: str, flags: int) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise fuse.FuseOSError(errno.EROFS)
        return os.open(self._real(path), os.O_RDONLY)

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        return os.pread(fh, size, offset)

    def release(self, path: str, fh: int) -> int:
        os.close(fh)
        return 0

    def statfs(self, path: str) -> dict[str, Any]:
        st = os.statvfs(self._real(path))
        return {name: getattr(st, name) for name in STATVFS_FIELDS}


if __name__ == "__main__":
    fuse.FUSE(
        CaseBlind(sys.argv[1]), sys.argv[2], foreground=True, ro=True, use_ino=True,
        allow_other=True,
    )  # fmt: skip
