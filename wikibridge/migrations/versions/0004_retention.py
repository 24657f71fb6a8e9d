"""retention: the purge time of a ticket whose content was purged

A purged ticket keeps its row as a tombstone: the number stays reserved and public
verification says "removed"; its articles, attachments and title are gone. ``purged_at`` tells
the tombstone from a ticket that is only soft-deleted (``removed_at``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import wikibridge.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column without a default: on SQLite a plain ADD COLUMN, no table rebuild
    # (which would drop the full-text triggers of 0002 with the old table).
    op.add_column(
        "tickets",
        sa.Column("purged_at", wikibridge.models.base.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    # SQLite 3.35+ drops an unindexed column in place; a batch rebuild of `tickets` would
    # have to copy every row while the articles' foreign keys point at it.
    op.drop_column("tickets", "purged_at")
