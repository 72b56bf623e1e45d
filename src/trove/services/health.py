"""Is this Trove able to work: the database answers, the broker answers, each library is
there. For load balancers, container health checks and people (GET /api/dam/health).

Every check is bounded in time: a NAS mount that hangs makes `stat` block forever, and a health
endpoint that hangs with it is worse than one that says "unresponsive". Each check runs on a
thread of its own, so one that never returns holds up no other; while it is stuck, later calls
wait on it again instead of starting another (one stuck thread per check, not one per call).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.enums import RootStatus
from trove.repositories.fast_index import RootRow
from trove.services.scanner import library_unavailable_reason

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
        self._running: dict[str, _Probe] = {}
        self._lock = threading.Lock()

    def check(self, *, with_roots: bool) -> dict[str, Any]:
        """`ok` when the database and broker answer, there is room to write the index and
        every library is online; `degraded` when a library is offline or the disk is full
        (Trove still serves what it has, but indexes nothing new); `down` when the database or
        broker does not answer. Library names and paths only `with_roots` (admins)."""
        database, broker, storage = self._services_answer()
        if not with_roots:  # an error's text names hosts, users, ports and paths: not for anyone
            database, broker = _reason_hidden(database), _reason_hidden(broker)
            storage = _reason_hidden(storage)
        roots = self.roots() if database.ok else []
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

    def _services_answer(self) -> tuple[Check, Check, Check]:
        """The database, the broker and room to write, checked at once within one bound."""
        deadline = time.perf_counter() + CHECK_TIMEOUT_S
        probes = (
            self._probe("database", self._database_answers),
            self._probe("broker", self._broker_answers),
            self._probe("storage", _writable_folder, self.settings.data_dir),
        )
        database, broker, writable = (probe.outcome(deadline=deadline) for probe in probes)
        return database, broker, self._disk_full() or writable

    def close(self) -> None:
        """Nothing to wait for: a check still running is on a daemon thread."""

    def _probe(self, name: str, check: Callable[..., str], *args: Any) -> _Probe:
        """The check `name` started now, or the one still running from an earlier call."""
        with self._lock:
            running = self._running.get(name)
            if running is None or running.finished:
                running = self._running[name] = _Probe(check, *args)
            return running

    def _database_answers(self) -> str:
        from trove.repositories.roots import RootRepository

        with self.database.session() as session:
            RootRepository(session).ping()
        return "sqlite" if self.settings.is_sqlite else "postgresql"

    def _disk_full(self) -> Check | None:
        """The indexer's last word on a full disk, which wins over the data directory's probe:
        the indexer also sees the database's disk."""
        disk_full = self.indexer.snapshot()["disk_full"] if self.indexer is not None else None
        return Check(False, disk_full, 0.0) if disk_full else None

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

    def roots(self) -> list[dict[str, Any]]:
        """Each library, online only when its status says so and its folder answers now
        (within the bound): a folder gone since the last scan is offline here at once."""
        from trove.repositories.roots import RootRepository

        with self.database.session() as session:
            known = [
                (RootRow.of(root), root.name, root.status_message)
                for root in RootRepository(session).all()
            ]
        deadline = time.perf_counter() + CHECK_TIMEOUT_S
        url = self.settings.resolved_database_url
        probes = [self._probe(f"root {row.id}", _library_answers, url, row) for row, *_ in known]
        return [
            self._root(*fields, reachable=probe.outcome(deadline=deadline))
            for fields, probe in zip(known, probes, strict=True)
        ]

    def _root(
        self, row: RootRow, name: str, message: str | None, *, reachable: Check
    ) -> dict[str, Any]:
        online = row.status == RootStatus.ONLINE and reachable.ok
        reason = (
            message if row.status != RootStatus.ONLINE else None if online else reachable.detail
        )
        return {"id": row.id, "name": name, "path": row.path, "online": online, "reason": reason}


class _Probe:
    """One check on a daemon thread of its own (a check stuck in the kernel must not keep the
    process alive, nor a thread another check needs)."""

    def __init__(self, check: Callable[..., str], *args: Any) -> None:
        self._started = time.perf_counter()
        self._done = threading.Event()
        self._result = Check(False, "not finished", 0.0)
        thread = threading.Thread(
            target=self._run, args=(check, *args), name="trove-health", daemon=True
        )
        thread.start()

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def outcome(self, *, deadline: float) -> Check:
        if not self._done.wait(max(0.0, deadline - time.perf_counter())):
            return Check(False, f"no answer within {CHECK_TIMEOUT_S:g} s", _ms_since(self._started))
        return self._result

    def _run(self, check: Callable[..., str], *args: Any) -> None:
        try:
            self._result = Check(True, check(*args), _ms_since(self._started))
        except Exception as exc:  # a health check reports every failure; it never raises
            detail = f"{type(exc).__name__}: {exc}"[:300]
            self._result = Check(False, detail, _ms_since(self._started))
        finally:
            self._done.set()


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


def _library_answers(url: str, root: RootRow) -> str:
    """A scan's look (`library_unavailable_reason`): health says offline what it would."""
    reason = library_unavailable_reason(url, root)
    if reason is not None:
        raise OSError(reason)
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
