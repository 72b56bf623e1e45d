"""Every earlier schema revision upgrades to the current one, on both databases, keeping the
data it held: an install that skipped releases is not stranded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, Numeric, Table, insert, select

from tests.migrating import migrate_to, revisions_oldest_first, schema_differences
from trove.db.engine import make_engine
from trove.db.migrate import HEAD_REVISION, ensure_schema
from trove.db.models import OWNER_ID, Base

EARLIER = [rev for rev in revisions_oldest_first() if rev != HEAD_REVISION]
# The rows written at the earlier revision: a library, a file in it, and a tag on the file.
KNOWN = {
    "roots": {"id": "root-1", "path": "/photos", "name": "photos"},
    "assets": {
        "id": "asset-1",
        "owner_id": OWNER_ID,
        "root_id": "root-1",
        "rel_path": "2023/beach.jpg",
        "filename": "beach.jpg",
        "storage_urn": "fs://local/photos/2023/beach.jpg",
        "asset_type": "image",
        "category": "physical",
        "status": "ready",
        "visibility": "private",
        "hash": "ab" * 32,
    },
    "asset_tags": {"asset_id": "asset-1", "tag": "holiday"},
}


@pytest.mark.parametrize("revision", EARLIER)
def test_an_index_at_an_earlier_revision_upgrades_to_the_models_with_its_data(
    database_url, revision
):
    ensure_schema(database_url)
    migrate_to(database_url, "base", down=True)
    migrate_to(database_url, revision)
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            tables = MetaData()
            tables.reflect(connection, only=list(KNOWN))
            for name, known in KNOWN.items():
                connection.execute(
                    insert(tables.tables[name]), [_complete(tables.tables[name], known)]
                )
        migrate_to(database_url, "head")
        with engine.connect() as connection:
            differences = schema_differences(connection)
            asset = connection.execute(
                select(Base.metadata.tables["assets"]).where(
                    Base.metadata.tables["assets"].c.id == "asset-1"
                )
            ).one()
            tags = connection.execute(select(Base.metadata.tables["asset_tags"])).all()
    finally:
        engine.dispose()
    assert differences == []
    assert (asset.root_id, asset.hash, asset.owner_id) == ("root-1", "ab" * 32, OWNER_ID)
    assert [(tag.asset_id, tag.tag) for tag in tags] == [("asset-1", "holiday")]


def _complete(table: Table, known: dict[str, Any]) -> dict[str, Any]:
    """`known`, plus a plain value for each column this revision requires without a default."""
    row = {key: value for key, value in known.items() if key in table.c}
    for column in table.c:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        row[column.name] = _plain_value(column.type)
    return row


def _plain_value(column_type: Any) -> Any:
    if isinstance(column_type, Boolean):
        return False
    if isinstance(column_type, DateTime):
        return datetime(2024, 1, 2, 3, 4, 5)
    if isinstance(column_type, (Integer, Numeric)):
        return 1
    if isinstance(column_type, JSON):
        return {}
    return "x"
