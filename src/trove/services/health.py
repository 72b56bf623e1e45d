"""Is this Trove able to work: the database answers, the broker answers, each library is
there. For load balancers, container health checks and people (GET /api/dam/health).

Every check is bounded in time: a NAS mount that hangs makes `stat` block forever, and a health
endpoint that hangs with it is worse than one that says "unresponsive".
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.enums import RootStatus
from trove.sync.mounts import root_identity

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str
    ms: float

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, "ms": round(self.ms, 1)}


class HealthService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        # Daemon-like threads: a check stuck in the kernel must not keep the process alive.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="trove-health")

    def check(self, *, with_roots: bool) -> dict[str, Any]:
        """`ok` when the database and broker answer and every library is online; `degraded`
        when a library is offline (Trove still serves the rest); `down` when the database or
        broker does not answer. Library names and paths only `with_roots` (admins)."""
        database = self._bounded(self._database_answers)
        broker = self._bounded(self._broker_answers)
        if not with_roots:  # an error's text names hosts, users and ports: not for anyone
            database, broker = _reason_hidden(database), _reason_hidden(broker)
        roots = self._roots() if database.ok else []
        offline = [root for root in roots if not root["online"]]
        status = "down" if not (database.ok and broker.ok) else "degraded" if offline else "ok"
        return {
            "status": status,
            "detail": _summary(database, broker, offline),
            "database": database.as_dict(),
            "broker": broker.as_dict(),
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


def _summary(database: Check, broker: Check, offline: list[dict[str, Any]]) -> str:
    if not database.ok:
        return f"The database does not answer: {database.detail}."
    if not broker.ok:
        return f"The task broker does not answer: {broker.detail}."
    if offline:
        return f"{len(offline)} of the libraries offline; the others are served."
    return "Everything answers."


def _readable_folder(path: str) -> str:
    if root_identity(path) is None:
        raise OSError("the folder is absent or unreadable")
    return "readable"


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
