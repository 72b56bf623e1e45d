"""assets.timeline_source: which clock placed an asset on the timeline (domain/timeline.py).

Rows indexed before this revision: a capture time the metadata step found is kept (the step's
new version records which tag it came from); the others are placed again from their path and
mtime, so a WhatsApp image copied in today moves to the day its name carries.

Revision ID: 0009_timeline_source
Revises: 0008_accounts_and_access
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0009_timeline_source"
down_revision = "0008_accounts_and_access"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.add_column("assets", sa.Column("timeline_source", sa.String(length=16), nullable=True))
    _place_existing()


def downgrade() -> None:
    op.drop_column("assets", "timeline_source")


def _place_existing() -> None:
    """Set every uncaptured file to `mtime` in one statement, then write only the rows whose
    name or folder dates them, whose mtime cannot be true, or whose time is not their mtime
    (indexed by an older Trove at the time of indexing): a few in a large library."""
    from trove.domain.timeline import TimelineSource, place

    bind = op.get_bind()
    assets = sa.table(
        "assets",
        sa.column("id", sa.String),
        sa.column("rel_path", sa.Text),
        sa.column("mtime_ns", sa.BigInteger),
        sa.column("asset_type", sa.String),
        sa.column("captured_at", sa.DateTime),
        sa.column("timeline_at", sa.DateTime),
        sa.column("timeline_source", sa.String),
    )
    uncaptured = (
        assets.c.captured_at.is_(None),
        assets.c.rel_path.is_not(None),
        assets.c.mtime_ns.is_not(None),
        assets.c.asset_type != "collection",
    )
    bind.execute(assets.update().where(*uncaptured).values(timeline_source="mtime"))
    now = datetime.now(UTC).replace(tzinfo=None)
    after = ""
    while True:
        rows = bind.execute(
            sa.select(assets.c.id, assets.c.rel_path, assets.c.mtime_ns, assets.c.timeline_at)
            .where(assets.c.id > after, *uncaptured)
            .order_by(assets.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        changes = []
        for asset_id, rel_path, mtime_ns, timeline_at in rows:
            placed = place(rel_path, mtime=_mtime(mtime_ns), seen_at=now)
            if placed.source != TimelineSource.MTIME or placed.at != timeline_at:
                changes.append({"b_id": asset_id, "at": placed.at, "source": str(placed.source)})
        if changes:
            bind.execute(
                assets.update()
                .where(assets.c.id == sa.bindparam("b_id"))
                .values(timeline_at=sa.bindparam("at"), timeline_source=sa.bindparam("source")),
                changes,
            )
        after = rows[-1][0]


def _mtime(mtime_ns: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None
