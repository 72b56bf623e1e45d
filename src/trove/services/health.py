"""Is this Trove able to work: the database answers, the broker answers, each library is
there. For load balancers, container health checks and people (GET /api/dam/health).

Every check is bounded in time: a NAS mount that hangs makes `stat` block forever, and a health
endpoint that hangs with it is worse than one that says "unresponsive".
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.enums import RootStatus
from trove.sync.mounts import root_identity

if TYPE_CHECKING:
    from trove.services.background import BackgroundIndexer

CHECK_TIMEOUT_S = 2.0
# Written, synced and removed on each check: a full disk refuses it even when creating an
# empty file would still succeed.
_PROBE = b"\0" * 4096


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str
    ms: float

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, "ms": round(self.ms, 1)}


class HealthService:
    def __init__(
        self, settings: Settings, database: Database, *, indexer: BackgroundIndexer | None = None
    ) -> None:
        """`indexer`: the server's, whose scans know when the index's disk is full (on
        PostgreSQL that disk is the database server's); a process without one has none."""
        self.settings = settings
        self.database = database
        self.indexer = indexer
        # Daemon-like threads: a check stuck in the kernel must not keep the process alive.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="trove-health")

    def check(self, *, with_roots: bool) -> dict[str, Any]:
        """`ok` when the database and broker answer, there is room to write the index and
        every library is online; `degraded` when a library is offline or the disk is full
        (Trove still serves what it has, but indexes nothing new); `down` when the database or
        broker does not answer. Library names and paths only `with_roots` (admins)."""
        database = self._bounded(self._database_answers)
        broker = self._bounded(self._broker_answers)
        storage = self._storage_writable()
        if not with_roots:  # an error's text names hosts, users, ports and paths: not for anyone
            database, broker = _reason_hidden(database), _reason_hidden(broker)
            storage = _reason_hidden(storage)
        roots = self._roots() if database.ok else []
        offline = [root for root in roots if not root["online"]]
        status = (
            "down"
            if not (database.ok and broker.ok)
            else "degraded"
            if offline or not storage.ok
            else "ok"
        )
        return {
            "status": status,
            "detail": _summary(database, broker, storage, offline),
            "database": database.as_dict(),
            "broker": broker.as_dict(),
            "storage": storage.as_dict(),
            "roots_online": len(roots) - len(offline),
            "roots_offline": len(offline),
            "roots": roots if with_roots else None,
        }

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _bounded(self, probe: Any, *args: Any) -> Check:
        started = time.perf_counter()
        future = self._pool.submit(probe, *args)
        try:
            detail = future.result(timeout=CHECK_TIMEOUT_S)
        except FutureTimeout:
            return Check(False, f"no answer within {CHECK_TIMEOUT_S:g} s", _ms_since(started))
        except Exception as exc:  # a health check reports every failure; it never raises
            return Check(False, f"{type(exc).__name__}: {exc}"[:300], _ms_since(started))
        return Check(True, detail, _ms_since(started))

    def _database_answers(self) -> str:
        from trove.repositories.roots import RootRepository

        with self.database.session() as session:
            RootRepository(session).ping()
        return "sqlite" if self.settings.is_sqlite else "postgresql"

    def _storage_writable(self) -> Check:
        """The indexer's last word on a full disk wins (it also sees the database's disk);
        otherwise a probe written to the data directory says whether there is room now."""
        disk_full = self.indexer.snapshot()["disk_full"] if self.indexer is not None else None
        if disk_full:
            return Check(False, disk_full, 0.0)
        return self._bounded(_writable_folder, self.settings.data_dir)

    def _broker_answers(self) -> str:
        if not self.settings.broker_url:
            return "in-process"
        from redis import Redis

        client = Redis.from_url(self.settings.broker_url, socket_timeout=CHECK_TIMEOUT_S)
        try:
            client.ping()
        finally:
            client.close()
        return "redis"

    def _roots(self) -> list[dict[str, Any]]:
        from trove.repositories.roots import RootRepository

        with self.database.session() as session:
            known = [
                (root.id, root.name, root.path, root.status, root.status_message)
                for root in RootRepository(session).all()
            ]
        return [self._root(*fields) for fields in known]

    def _root(
        self, root_id: str, name: str, path: str, status: str, message: str | None
    ) -> dict[str, Any]:
        reachable = self._bounded(_readable_folder, path)
        online = status == RootStatus.ONLINE and reachable.ok
        reason = message if status != RootStatus.ONLINE else None if online else reachable.detail
        return {"id": root_id, "name": name, "path": path, "online": online, "reason": reason}


def _reason_hidden(check: Check) -> Check:
    if check.ok:
        return check
    return Check(False, "no answer (an admin's health check says why)", check.ms)


def _summary(database: Check, broker: Check, storage: Check, offline: list[dict[str, Any]]) -> str:
    if not database.ok:
        return f"The database does not answer: {database.detail}."
    if not broker.ok:
        return f"The task broker does not answer: {broker.detail}."
    if not storage.ok:
        return f"Nothing new can be indexed, the disk is full or read-only: {storage.detail}."
    if offline:
        return f"{len(offline)} of the libraries offline; the others are served."
    return "Everything answers."


def _readable_folder(path: str) -> str:
    if root_identity(path) is None:
        raise OSError("the folder is absent or unreadable")
    return "readable"


def _writable_folder(path: os.PathLike[str] | str) -> str:
    os.makedirs(path, exist_ok=True)  # made on first use anyway; its absence is no fault
    descriptor, probe = tempfile.mkstemp(dir=path, prefix=".trove-health-")
    try:
        os.write(descriptor, _PROBE)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
        os.unlink(probe)
    return "writable"


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
