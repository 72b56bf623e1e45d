"""What users made, at size: `trove export` and `trove import` of N tagged, titled and rated
files, and `trove backup` of the same index, each beside a baseline measured in the same run.

    .venv/bin/python bench/user_data.py [--size 10000] [--database-url postgresql+psycopg://...]

Files are rows written straight into a fresh index (hash and path, no bytes: export and import
never read them). Baselines: export against one SELECT of the same columns dumped as JSON
lines (the least any export costs); import, into a second index of the same rows without user
data, against one executemany UPDATE of the titles and descriptions (the least any restore
writes).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import select, update

from _common import git_revision, machine_info, write_results
from trove.config import Settings
from trove.db.models import Asset, AssetTag, Root
from trove.domain.ids import new_id
from trove.repositories._sql import utcnow
from trove.services.backup import BackupService
from trove.services.container import Services

WORDS = ["beach", "family", "2023", "work", "draft", "Kyoto", "café", "best"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: fresh SQLite files; PostgreSQL: two databases of their own, URL and URL_b",
    )
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="trove-bench-user-data-"))
    urls = (
        (args.database_url, args.database_url + "_b")
        if args.database_url
        else (f"sqlite:///{data / 'a.db'}", f"sqlite:///{data / 'b.db'}")
    )
    source = Services.create(Settings(data_dir=data / "a", database_url=urls[0]))
    target = Services.create(Settings(data_dir=data / "b", database_url=urls[1]))
    for services in (source, target):
        _files(services, args.size, user_data=services is source)
    rows: dict[str, dict[str, float]] = {}

    exported = io.StringIO()
    written, seconds = _timed(lambda: source.user_data.export(exported))
    rows["export"] = {"trove_s": seconds, "baseline_s": _timed(lambda: _dump(source))[1]}
    report, seconds = _timed(
        lambda: target.user_data.import_lines(io.StringIO(exported.getvalue()))
    )
    assert report.matched["asset"] == args.size, report.as_dict()
    rows["import"] = {"trove_s": seconds, "baseline_s": _timed(lambda: _update(target))[1]}
    backup = BackupService(source.settings)
    _, seconds = _timed(lambda: backup.backup(data / "copy.db"))
    rows["backup"] = {"trove_s": seconds, "baseline_s": rows["export"]["trove_s"]}

    name = f"{source.database.engine.dialect.name}, {args.size:,} files"
    print(f"{name}: {sum(written.values()):,} records, {len(exported.getvalue()) / 1e6:.1f} MB")
    print(f"  {'step':<8} {'trove':>10} {'baseline':>10} {'ratio':>7}  baseline")
    names = {"export": "SELECT + json", "import": "UPDATE x N", "backup": "trove export"}
    for step, row in rows.items():
        row["ratio"] = row["trove_s"] / row["baseline_s"]
        print(
            f"  {step:<8} {row['trove_s']:>9.2f}s {row['baseline_s']:>9.2f}s"
            f" {row['ratio']:>6.1f}x  {names[step]}"
        )
    path = write_results(
        "user_data",
        {"size": args.size, "database": name, "steps": rows, "git": git_revision(),
         "machine": machine_info()},
    )  # fmt: skip
    print(json.dumps({"results": str(path), "steps": rows}))
    for services in (source, target):
        services.database.dispose()


def _files(services: Services, count: int, *, user_data: bool) -> None:
    """A library of `count` files by hash and path; with `user_data`, each titled, described,
    tagged and (every other one) rated."""
    now = utcnow()
    root = Root(id=new_id(), path="/bench/library", name="library", created_at=now)
    assets, tags = [], []
    for i in range(count):
        asset_id = new_id()
        assets.append({
            "id": asset_id, "root_id": root.id, "rel_path": f"{i // 500:03}/IMG_{i:06}.jpg",
            "filename": f"IMG_{i:06}.jpg", "storage_urn": f"fs://local/bench/{i}",
            "hash": hashlib.sha256(str(i).encode()).hexdigest(), "status": "ready",
            "asset_type": "image", "category": "physical",
            "title": f"photo {i}" if user_data else None,
            "description": f"taken on day {i % 365}" if user_data else None,
            "metadata": {"gallery": {"rating": i % 6}} if user_data and i % 2 else {},
            "thumbnails": {}, "created_at": now, "updated_at": now, "timeline_at": now,
        })  # fmt: skip
        if user_data:
            tags += [{"asset_id": asset_id, "tag": WORDS[(i + k) % len(WORDS)]} for k in (0, 3)]
    with services.database.session() as session:
        session.add(root)
        session.flush()
        session.execute(Asset.__table__.insert(), assets)
        if tags:
            session.execute(AssetTag.__table__.insert(), tags)


def _dump(services: Services) -> None:
    out = io.StringIO()
    with services.database.session() as session:
        query = select(Asset.hash, Asset.rel_path, Asset.title, Asset.description, Asset.meta)
        for row in session.execute(query):
            out.write(json.dumps(list(row), ensure_ascii=False) + "\n")


def _update(services: Services) -> None:
    with services.database.session() as session:
        ids = list(session.scalars(select(Asset.id).where(Asset.rel_path.is_not(None))))
        session.connection().execute(
            update(Asset.__table__).where(Asset.__table__.c.id == _bind()),
            [{"b_id": i, "title": "t", "description": "d"} for i in ids],
        )


def _bind():  # type: ignore[no-untyped-def]
    from sqlalchemy import bindparam

    return bindparam("b_id")


def _timed(step):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


if __name__ == "__main__":
    main()
