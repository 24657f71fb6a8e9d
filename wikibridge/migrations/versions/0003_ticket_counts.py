"""queue and owner list indexes; ticket counts kept by triggers

Two indexes let a queue's list in several states (or all) and a volunteer's own tickets be read
in order, a page at a time, without sorting the whole queue.

``ticket_count_deltas`` holds +1/-1 rows per (queue, state) of live tickets (``removed_at`` is
NULL), written by triggers on ``tickets``; existing tickets are counted once here. The triggers
are hand-written per database and named ``ticket_counts*``. A later migration that rebuilds
``tickets`` in batch mode on SQLite (copy, drop, rename) drops the triggers with the old table:
it must create them again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELTAS = "ticket_count_deltas"

SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets
    WHEN new.removed_at IS NULL BEGIN
        INSERT INTO {DELTAS} (queue_id, state, delta) VALUES (new.queue_id, new.state, 1);
    END
    """,
    f"""
    CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets
    WHEN old.removed_at IS NULL BEGIN
        INSERT INTO {DELTAS} (queue_id, state, delta) VALUES (old.queue_id, old.state, -1);
    END
    """,
    f"""
    CREATE TRIGGER ticket_counts_update AFTER UPDATE OF queue_id, state, removed_at ON tickets
    WHEN old.queue_id IS NOT new.queue_id OR old.state IS NOT new.state
        OR (old.removed_at IS NULL) <> (new.removed_at IS NULL) BEGIN
        INSERT INTO {DELTAS} (queue_id, state, delta)
            SELECT old.queue_id, old.state, -1 WHERE old.removed_at IS NULL;
        INSERT INTO {DELTAS} (queue_id, state, delta)
            SELECT new.queue_id, new.state, 1 WHERE new.removed_at IS NULL;
    END
    """,
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS ticket_counts_update",
    "DROP TRIGGER IF EXISTS ticket_counts_delete",
    "DROP TRIGGER IF EXISTS ticket_counts_insert",
)

POSTGRES_TRIGGERS = (
    f"""
    CREATE FUNCTION ticket_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.removed_at IS NULL THEN
            IF TG_OP = 'DELETE' OR OLD.queue_id IS DISTINCT FROM NEW.queue_id
                OR OLD.state IS DISTINCT FROM NEW.state OR NEW.removed_at IS NOT NULL THEN
                INSERT INTO {DELTAS} (queue_id, state, delta)
                VALUES (OLD.queue_id, OLD.state, -1);
            END IF;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.removed_at IS NULL THEN
            IF TG_OP = 'INSERT' OR OLD.queue_id IS DISTINCT FROM NEW.queue_id
                OR OLD.state IS DISTINCT FROM NEW.state OR OLD.removed_at IS NOT NULL THEN
                INSERT INTO {DELTAS} (queue_id, state, delta)
                VALUES (NEW.queue_id, NEW.state, 1);
            END IF;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER ticket_counts_change
    AFTER INSERT OR DELETE OR UPDATE OF queue_id, state, removed_at ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_counts_track()
    """,
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS ticket_counts_change ON tickets",
    "DROP FUNCTION IF EXISTS ticket_counts_track()",
)


def upgrade() -> None:
    op.create_index("ix_tickets_queue_updated", "tickets", ["queue_id", "updated_at", "id"])
    op.create_index("ix_tickets_owner_updated", "tickets", ["owner_id", "updated_at", "id"])
    op.create_table(
        DELTAS,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_count_deltas")),
    )
    op.create_index("ix_ticket_count_deltas_queue_state", DELTAS, ["queue_id", "state"])
    # Count what exists first, then track: in one transaction nothing falls between the two.
    op.execute(
        f"INSERT INTO {DELTAS} (queue_id, state, delta) "
        "SELECT queue_id, state, count(*) FROM tickets WHERE removed_at IS NULL "
        "GROUP BY queue_id, state"
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        op.execute(statement)
    op.drop_index("ix_ticket_count_deltas_queue_state", table_name=DELTAS)
    op.drop_table(DELTAS)
    op.drop_index("ix_tickets_owner_updated", table_name="tickets")
    op.drop_index("ix_tickets_queue_updated", table_name="tickets")
