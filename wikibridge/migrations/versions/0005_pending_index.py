"""an index for tickets whose pending time passes

The worker looks once a minute for tickets in a pending state whose time has come (auto-close);
without this index that is a scan of every ticket.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 03:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_tickets_state_pending", "tickets", ["state", "pending_until"])


def downgrade() -> None:
    op.drop_index("ix_tickets_state_pending", table_name="tickets")
