"""The SQL of volunteer administration: everyone, every grant, and the public list."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from wikibridge.models import QueueAccess, Volunteer


def all_volunteers(session: Session) -> list[Volunteer]:
    """Waiting for approval first, then working volunteers, then deactivated ones; by name."""
    status = case(
        (Volunteer.active.is_(False), 2),
        (Volunteer.approved.is_(False), 0),
        else_=1,
    )
    stmt = select(Volunteer).order_by(status, Volunteer.username, Volunteer.id)
    return list(session.scalars(stmt))


def all_grants(session: Session) -> list[QueueAccess]:
    stmt = (
        select(QueueAccess)
        .where(QueueAccess.revoked_at.is_(None))
        .order_by(QueueAccess.queue_id, QueueAccess.volunteer_id)
    )
    return list(session.scalars(stmt))


def grants_of(session: Session, volunteer_id: int) -> list[QueueAccess]:
    stmt = select(QueueAccess).where(
        QueueAccess.volunteer_id == volunteer_id, QueueAccess.revoked_at.is_(None)
    )
    return list(session.scalars(stmt.order_by(QueueAccess.queue_id)))


def grant_of(session: Session, volunteer_id: int, queue_id: int) -> QueueAccess | None:
    stmt = select(QueueAccess).where(
        QueueAccess.volunteer_id == volunteer_id,
        QueueAccess.queue_id == queue_id,
        QueueAccess.revoked_at.is_(None),
    )
    return session.scalars(stmt).one_or_none()


def public_usernames(session: Session) -> list[str]:
    """Usernames of approved, active volunteers who chose to be listed; nothing else."""
    stmt = (
        select(Volunteer.username)
        .where(
            Volunteer.public_listing.is_(True),
            Volunteer.approved.is_(True),
            Volunteer.active.is_(True),
        )
        .order_by(Volunteer.username)
    )
    return list(session.scalars(stmt))


def by_username(session: Session, username: str) -> list[Volunteer]:
    stmt = select(Volunteer).where(Volunteer.username == username).order_by(Volunteer.id)
    return list(session.scalars(stmt))
