"""Volunteers (agents) and their access to queues."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

ACCESS_LEVELS = ("ro", "rw", "admin")


class Volunteer(Base):
    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The wiki's central user id (the identify JWT's `sub`): stable across renames.
    central_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    username: Mapped[str] = mapped_column(String(255), index=True)
    approved: Mapped[bool] = mapped_column(default=False)
    identified: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    public_listing: Mapped[bool] = mapped_column(default=False)
    email: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class QueueAccess(Base):
    """A grant of a level on a queue. Revoking sets ``revoked_at`` and keeps the row, so
    "did this volunteer have access at time T?" stays answerable (public verification)."""

    __tablename__ = "queue_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))  # one of ACCESS_LEVELS
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    revoked_at: Mapped[datetime | None]


# At most one live grant per volunteer and queue; revoked ones are history.
Index(
    "uq_queue_access_live",
    QueueAccess.volunteer_id,
    QueueAccess.queue_id,
    unique=True,
    sqlite_where=QueueAccess.revoked_at.is_(None),
    postgresql_where=QueueAccess.revoked_at.is_(None),
)
