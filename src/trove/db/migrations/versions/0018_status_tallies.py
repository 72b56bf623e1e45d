"""Maintained tallies for the status page: how many step outcomes per step and version belong
to files still processing, and how many failed outcomes per library, step and message, kept by
triggers as the counters of 0011_counters are, so that `/api/dam/status` (polled every 2 s)
reads a few rows instead of probing each processing and each failed file (at 1M assets: 20,000
and 10,000 of them, 0.2-0.7 s of CPU a refresh; bench/scale.py). Plus an index of failed
outcomes by step and message, where each reason's example file is found.

Unlike the earlier counters, these join two tables: an outcome counts according to its file's
status, library and liveness. So both tables have triggers: a changed outcome is counted (or
not) by its file as the file is now, and a file whose status, library or liveness changes
moves its outcomes from one tally to another. On PostgreSQL the outcome's trigger reads the
file FOR SHARE: a file changed by another transaction at the same moment is then counted as
that transaction left it (without the lock, each would miss the other's uncommitted change).

Revision ID: 0018_status_tallies
Revises: 0017_month_counts
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_status_tallies"
down_revision = "0017_month_counts"
branch_labels = None
depends_on = None

# Whether a row of `assets` is one whose outcomes the tallies count.
PROCESSING = "CASE WHEN {row}.status = 'processing' AND {row}.deleted_at IS NULL THEN 1 ELSE 0 END"
LISTED = "CASE WHEN {row}.root_id IS NOT NULL AND {row}.deleted_at IS NULL THEN 1 ELSE 0 END"
# The unique key of failure_counts: a message may be 2,000 characters of UTF-8, more than a
# PostgreSQL btree entry holds, so PostgreSQL keys (and finds examples by) its md5.
FAILURE_KEY = {"sqlite": "step, message, root_id", "postgresql": "step, md5(message), root_id"}
EXAMPLES_KEY = {"sqlite": "step, message, asset_id", "postgresql": "step, md5(message), asset_id"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "processing_outcome_counts",
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("step", "version"),
    )
    op.create_table(
        "processing_outcome_count_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for table, n in (("failure_counts", sa.BigInteger()), ("failure_count_deltas", sa.Integer())):
        op.create_table(
            table,
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("root_id", sa.String(length=36), nullable=False),
            sa.Column("step", sa.String(length=64), nullable=False),
            sa.Column("message", sa.Text(), nullable=False),
            sa.Column("n", n, nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    op.execute(
        f"CREATE UNIQUE INDEX ux_failure_counts_key ON failure_counts ({FAILURE_KEY[dialect]})"
    )
    op.execute(
        f"CREATE INDEX ix_asset_steps_failed_messages ON asset_steps ({EXAMPLES_KEY[dialect]}) "
        "WHERE status = 'failed'"
    )
    if dialect == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    _count_what_is_there()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS status_tallies_outcome_changed ON asset_steps")
        op.execute("DROP TRIGGER IF EXISTS status_tallies_file_changed ON assets")
        op.execute("DROP TRIGGER IF EXISTS status_tallies_file_deleted ON assets")
        op.execute("DROP FUNCTION IF EXISTS status_tallies_outcome_changed()")
        op.execute("DROP FUNCTION IF EXISTS status_tallies_file_changed()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_asset_steps_failed_messages", table_name="asset_steps")
    for table in (
        "failure_count_deltas",
        "failure_counts",
        "processing_outcome_count_deltas",
        "processing_outcome_counts",
    ):
        op.drop_table(table)


def _count_what_is_there() -> None:
    op.execute(
        "INSERT INTO processing_outcome_counts (step, version, n) "
        "SELECT s.step, s.version, count(*) FROM assets a JOIN asset_steps s ON s.asset_id = a.id "
        "WHERE a.status = 'processing' AND a.deleted_at IS NULL GROUP BY s.step, s.version"
    )
    op.execute(
        "INSERT INTO failure_counts (root_id, step, message, n) "
        "SELECT a.root_id, s.step, coalesce(s.message, ''), count(*) "
        "FROM asset_steps s JOIN assets a ON a.id = s.asset_id "
        "WHERE s.status = 'failed' AND a.root_id IS NOT NULL AND a.deleted_at IS NULL "
        "GROUP BY a.root_id, s.step, coalesce(s.message, '')"
    )


_SQLITE_TRIGGERS = (
    "processing_outcomes_ai",
    "processing_outcomes_ad",
    "processing_outcomes_au",
    "processing_outcomes_file_au",
    "processing_outcomes_file_bd",
    "failure_counts_ai",
    "failure_counts_ad",
    "failure_counts_au",
    "failure_counts_file_au",
    "failure_counts_file_bd",
)


def _sqlite_triggers() -> None:
    """SQLite has one writer at a time: the triggers add to the tallies directly. A file's
    deletion takes its outcomes away BEFORE it goes (its outcomes, deleted after it by the
    foreign key's cascade, no longer find it)."""

    def outcome(row: str, n: int) -> str:
        return (
            "INSERT INTO processing_outcome_counts (step, version, n) "
            f"SELECT {row}.step, {row}.version, {n} WHERE EXISTS (SELECT 1 FROM assets "
            f"WHERE id = {row}.asset_id AND status = 'processing' AND deleted_at IS NULL) "
            "ON CONFLICT (step, version) DO UPDATE SET n = n + excluded.n;"
        )

    def failure(row: str, n: int) -> str:
        return (
            "INSERT INTO failure_counts (root_id, step, message, n) "
            f"SELECT root_id, {row}.step, coalesce({row}.message, ''), {n} FROM assets "
            f"WHERE id = {row}.asset_id AND root_id IS NOT NULL AND deleted_at IS NULL "
            f"AND {row}.status = 'failed' "
            "ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n;"
        )

    def emptied(row: str) -> str:
        return (
            f"DELETE FROM failure_counts WHERE step = {row}.step "
            f"AND message = coalesce({row}.message, '') AND n = 0;"
        )

    def outcomes_of_file(row: str, n: str) -> str:
        return (
            "INSERT INTO processing_outcome_counts (step, version, n) "
            f"SELECT step, version, {n} FROM asset_steps WHERE asset_id = {row}.id "
            "ON CONFLICT (step, version) DO UPDATE SET n = n + excluded.n;"
        )

    def failures_of_file(row: str, n: int) -> str:
        return (
            "INSERT INTO failure_counts (root_id, step, message, n) "
            f"SELECT {row}.root_id, step, coalesce(message, ''), {n} FROM asset_steps "
            f"WHERE asset_id = {row}.id AND status = 'failed' AND {LISTED.format(row=row)} = 1 "
            "ON CONFLICT (step, message, root_id) DO UPDATE SET n = n + excluded.n;"
        )

    def emptied_of_file(row: str) -> str:
        return (
            f"DELETE FROM failure_counts WHERE n = 0 AND root_id = {row}.root_id "
            "AND (step, message) IN (SELECT step, coalesce(message, '') FROM asset_steps "
            f"WHERE asset_id = {row}.id AND status = 'failed');"
        )

    outcome_moved = (
        "old.asset_id IS NOT new.asset_id OR old.step IS NOT new.step "
        "OR old.version IS NOT new.version"
    )
    failure_moved = (
        "(old.status = 'failed' OR new.status = 'failed') AND (old.asset_id IS NOT new.asset_id "
        "OR old.step IS NOT new.step OR old.status IS NOT new.status "
        "OR old.message IS NOT new.message)"
    )
    processing = {row: PROCESSING.format(row=row) for row in ("old", "new")}
    listed = {row: LISTED.format(row=row) for row in ("old", "new")}
    flipped = f"CASE WHEN {processing['new']} = 1 THEN 1 ELSE -1 END"
    for statement in (
        f"CREATE TRIGGER processing_outcomes_ai AFTER INSERT ON asset_steps "
        f"BEGIN {outcome('new', 1)} END",
        f"CREATE TRIGGER processing_outcomes_ad AFTER DELETE ON asset_steps "
        f"BEGIN {outcome('old', -1)} END",
        f"CREATE TRIGGER processing_outcomes_au AFTER UPDATE OF asset_id, step, version "
        f"ON asset_steps WHEN {outcome_moved} BEGIN {outcome('old', -1)} {outcome('new', 1)} END",
        f"CREATE TRIGGER processing_outcomes_file_au AFTER UPDATE OF status, deleted_at ON assets "
        f"WHEN {processing['old']} IS NOT {processing['new']} "
        f"BEGIN {outcomes_of_file('new', flipped)} END",
        f"CREATE TRIGGER processing_outcomes_file_bd BEFORE DELETE ON assets "
        f"WHEN {processing['old']} = 1 BEGIN {outcomes_of_file('old', '-1')} END",
        "CREATE TRIGGER failure_counts_ai AFTER INSERT ON asset_steps "
        f"WHEN new.status = 'failed' BEGIN {failure('new', 1)} END",
        "CREATE TRIGGER failure_counts_ad AFTER DELETE ON asset_steps "
        f"WHEN old.status = 'failed' BEGIN {failure('old', -1)} {emptied('old')} END",
        "CREATE TRIGGER failure_counts_au AFTER UPDATE OF asset_id, step, status, message "
        f"ON asset_steps WHEN {failure_moved} "
        f"BEGIN {failure('old', -1)} {failure('new', 1)} {emptied('old')} END",
        "CREATE TRIGGER failure_counts_file_au AFTER UPDATE OF root_id, deleted_at ON assets "
        f"WHEN {listed['old']} IS NOT {listed['new']} OR old.root_id IS NOT new.root_id "
        f"BEGIN {failures_of_file('old', -1)} {failures_of_file('new', 1)} "
        f"{emptied_of_file('old')} END",
        f"CREATE TRIGGER failure_counts_file_bd BEFORE DELETE ON assets "
        f"WHEN {listed['old']} = 1 "
        f"BEGIN {failures_of_file('old', -1)} {emptied_of_file('old')} END",
    ):
        op.execute(statement)


def _postgresql_triggers() -> None:
    """Concurrent workers: each change appends delta rows that readers fold in (as
    0011_counters). An outcome's trigger reads its file FOR SHARE (see the top)."""
    op.execute(
        """
        CREATE FUNCTION status_tallies_outcome_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            outcome_moved boolean := TG_OP <> 'UPDATE'
                OR (OLD.asset_id, OLD.step, OLD.version)
                   IS DISTINCT FROM (NEW.asset_id, NEW.step, NEW.version);
            failure_moved boolean := TG_OP <> 'UPDATE'
                OR (OLD.asset_id, OLD.step, OLD.status, OLD.message)
                   IS DISTINCT FROM (NEW.asset_id, NEW.step, NEW.status, NEW.message);
            file record;
        BEGIN
            IF TG_OP <> 'INSERT' AND (outcome_moved OR (failure_moved AND OLD.status = 'failed'))
            THEN
                SELECT coalesce(status = 'processing' AND deleted_at IS NULL, false) AS processing,
                       CASE WHEN deleted_at IS NULL THEN root_id END AS root_id
                  INTO file FROM assets WHERE id = OLD.asset_id FOR SHARE;
                IF FOUND THEN
                    IF outcome_moved AND file.processing THEN
                        INSERT INTO processing_outcome_count_deltas (step, version, n)
                        VALUES (OLD.step, OLD.version, -1);
                    END IF;
                    IF failure_moved AND OLD.status = 'failed' AND file.root_id IS NOT NULL THEN
                        INSERT INTO failure_count_deltas (root_id, step, message, n)
                        VALUES (file.root_id, OLD.step, coalesce(OLD.message, ''), -1);
                    END IF;
                END IF;
            END IF;
            IF TG_OP <> 'DELETE' AND (outcome_moved OR (failure_moved AND NEW.status = 'failed'))
            THEN
                SELECT coalesce(status = 'processing' AND deleted_at IS NULL, false) AS processing,
                       CASE WHEN deleted_at IS NULL THEN root_id END AS root_id
                  INTO file FROM assets WHERE id = NEW.asset_id FOR SHARE;
                IF FOUND THEN
                    IF outcome_moved AND file.processing THEN
                        INSERT INTO processing_outcome_count_deltas (step, version, n)
                        VALUES (NEW.step, NEW.version, 1);
                    END IF;
                    IF failure_moved AND NEW.status = 'failed' AND file.root_id IS NOT NULL THEN
                        INSERT INTO failure_count_deltas (root_id, step, message, n)
                        VALUES (file.root_id, NEW.step, coalesce(NEW.message, ''), 1);
                    END IF;
                END IF;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER status_tallies_outcome_changed AFTER INSERT OR DELETE OR UPDATE "
        "ON asset_steps FOR EACH ROW EXECUTE FUNCTION status_tallies_outcome_changed()"
    )
    op.execute(
        """
        CREATE FUNCTION status_tallies_file_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            was_processing boolean :=
                coalesce(OLD.status = 'processing' AND OLD.deleted_at IS NULL, false);
            is_processing boolean := TG_OP = 'UPDATE'
                AND coalesce(NEW.status = 'processing' AND NEW.deleted_at IS NULL, false);
            old_root text := CASE WHEN OLD.deleted_at IS NULL THEN OLD.root_id END;
            new_root text := CASE WHEN TG_OP = 'UPDATE' AND NEW.deleted_at IS NULL
                                  THEN NEW.root_id END;
        BEGIN
            IF was_processing <> is_processing THEN
                INSERT INTO processing_outcome_count_deltas (step, version, n)
                SELECT step, version, CASE WHEN is_processing THEN 1 ELSE -1 END
                  FROM asset_steps WHERE asset_id = OLD.id;
            END IF;
            IF old_root IS DISTINCT FROM new_root THEN
                INSERT INTO failure_count_deltas (root_id, step, message, n)
                SELECT old_root, step, coalesce(message, ''), -1 FROM asset_steps
                 WHERE asset_id = OLD.id AND status = 'failed' AND old_root IS NOT NULL
                UNION ALL
                SELECT new_root, step, coalesce(message, ''), 1 FROM asset_steps
                 WHERE asset_id = OLD.id AND status = 'failed' AND new_root IS NOT NULL;
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER status_tallies_file_changed AFTER UPDATE OF status, deleted_at, root_id "
        "ON assets FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at "
        "OR OLD.root_id IS DISTINCT FROM NEW.root_id) "
        "EXECUTE FUNCTION status_tallies_file_changed()"
    )
    # BEFORE: the foreign key's cascade deletes the file's outcomes first otherwise.
    op.execute(
        "CREATE TRIGGER status_tallies_file_deleted BEFORE DELETE ON assets "
        "FOR EACH ROW EXECUTE FUNCTION status_tallies_file_changed()"
    )
