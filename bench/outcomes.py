"""Outcome write path on PostgreSQL: what the pipeline writes for each small file (3 step
outcomes, then its final status) for N files still processing, in batches through
StepRepository.record and update_rows, one commit a batch. Prints this process's CPU time and
its PostgreSQL backend's (from /proc: the server runs on this machine), for the whole run, for
the outcome inserts alone and for the status updates alone, and checks the tallies (migration
0018_status_tallies) end at 0 processing outcomes and N/10 failures.

    PYTHONPATH=<src to measure> .venv/bin/python bench/outcomes.py \
        --postgresql postgresql://postgres@127.0.0.1:5432/trove_bench_outcomes [--n 20000]

The database `<name>_<n>` is created at the head revision for the run and dropped after it;
the results also go to bench/results/outcomes-*.json. Alternate two `src` copies to compare
(a frozen copy of the old one as "before").
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from _common import drop_database, fresh_database, git_revision, machine_info, write_results
from trove.db.engine import make_engine
from trove.db.migrate import ensure_schema
from trove.db.models import Asset
from trove.repositories._sql import update_rows
from trove.repositories.steps import StepRepository

STEPS = ("mime", "hash", "meta")
RESET = (
    "TRUNCATE assets, roots CASCADE",
    "DELETE FROM processing_outcome_count_deltas",
    "DELETE FROM failure_count_deltas",
    "DELETE FROM processing_outcome_counts",
    "DELETE FROM failure_counts",
    "INSERT INTO roots (id, path, name, status, include_globs, exclude_globs, include_hidden,"
    " is_upload_target, created_at) VALUES ('r1', '/x', 'x', 'online', '[]', '[]', false, false,"
    " now())",
)
FILES = (
    "INSERT INTO assets (id, owner_id, root_id, rel_path, path_escaped, filename, is_virtual,"
    " category, status, visibility, storage_urn, asset_type, thumbnails, metadata, version,"
    " timeline_at, created_at, updated_at)"
    " SELECT lpad(i::text, 36, '0'), '00000000-0000-7000-8000-000000000001', 'r1', 'f' || i,"
    " false, 'f' || i, false, 'document', 'processing', 'private', 'file://x/' || i, 'document',"
    " '{{}}', '{{}}', 1, now(), now(), now() FROM generate_series(1, {n}) i"
)
TALLIES = (
    "SELECT (SELECT coalesce(sum(n), 0) FROM (SELECT n FROM processing_outcome_counts"
    " UNION ALL SELECT n FROM processing_outcome_count_deltas) p),"
    " (SELECT coalesce(sum(n), 0) FROM (SELECT n FROM failure_counts"
    " UNION ALL SELECT n FROM failure_count_deltas) f)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgresql",
        required=True,
        help="a database URL on the server to measure; `<name>_<n>` is created and dropped",
    )
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    url = fresh_database(args.postgresql, args.n)
    try:
        report = _measure(url, n=args.n, batch=args.batch)
    finally:
        drop_database(url)
    cpu = report["cpu_s"]
    total, inserts, updates = cpu["total"], cpu["outcome_inserts"], cpu["status_updates"]
    print(
        f"n={args.n} process {total['process']:.2f}s backend {total['backend']:.2f}s "
        f"total {total['process'] + total['backend']:.2f}s | outcome inserts: process "
        f"{inserts['process']:.2f}s backend {inserts['backend']:.2f}s | status updates: "
        f"process {updates['process']:.2f}s backend {updates['backend']:.2f}s | tallies: "
        f"processing {report['tallies']['processing']} failed {report['tallies']['failed']}"
    )
    print(write_results("outcomes", report))


def _measure(url: str, *, n: int, batch: int) -> dict[str, Any]:
    ensure_schema(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        for sql in (*RESET, FILES.format(n=n), "ANALYZE assets"):
            connection.exec_driver_sql(sql)
    ids = [str(i).zfill(36) for i in range(1, n + 1)]
    with Session(engine) as session:
        backend_pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        session.commit()
        total, inserts, updates = _write(session, ids, batch=batch, backend_pid=backend_pid)
        processing, failed = session.execute(sa.text(TALLIES)).one()
    engine.dispose()
    return {
        "benchmark": "outcomes",
        "revision": git_revision(),
        "machine": machine_info(),
        "files": n,
        "batch": batch,
        "cpu_s": {
            "total": {"process": total[0], "backend": total[1]},
            "outcome_inserts": {"process": inserts[0], "backend": inserts[1]},
            "status_updates": {"process": updates[0], "backend": updates[1]},
        },
        "tallies": {"processing": int(processing), "failed": int(failed)},
        "load_average": list(os.getloadavg()),
    }


def _write(
    session: Session, ids: list[str], *, batch: int, backend_pid: int
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """(process, backend) CPU seconds of the whole write, of the outcome inserts, and of the
    status updates (update_rows, before the commit)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    start = _cpu(backend_pid)
    inserts = [0.0, 0.0]
    updates = [0.0, 0.0]
    for at in range(0, len(ids), batch):
        chunk = ids[at : at + batch]
        before = _cpu(backend_pid)
        repo = StepRepository(session)
        for step in STEPS:
            repo.record([_outcome(i, step, now) for i in chunk])
        after = _cpu(backend_pid)
        inserts = [inserts[0] + after[0] - before[0], inserts[1] + after[1] - before[1]]
        rows = [{"id": i, "status": "ready", "updated_at": now} for i in chunk]
        update_rows(session, cast(sa.Table, Asset.__table__), rows)
        updated = _cpu(backend_pid)
        updates = [updates[0] + updated[0] - after[0], updates[1] + updated[1] - after[1]]
        session.commit()
    end = _cpu(backend_pid)
    return (
        (end[0] - start[0], end[1] - start[1]),
        (inserts[0], inserts[1]),
        (updates[0], updates[1]),
    )


def _outcome(asset_id: str, step: str, now: datetime) -> dict[str, Any]:
    failed = step == "meta" and int(asset_id) % 10 == 0
    return {
        "asset_id": asset_id,
        "step": step,
        "status": "failed" if failed else "ok",
        "version": 1,
        "message": "boom" if step == "meta" else None,
        "duration_ms": 1.0,
        "updated_at": now,
    }


def _cpu(backend_pid: int) -> tuple[float, float]:
    """This process's CPU seconds and the backend's (utime + stime from /proc)."""
    fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    return time.process_time(), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
