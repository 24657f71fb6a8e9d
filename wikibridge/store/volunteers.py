"""Volunteers and their queue grants."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wikibridge.models import ACCESS_LEVELS, QueueAccess, Volunteer, utcnow


def get(session: Session, volunteer_id: int) -> Volunteer | None:
    return session.get(Volunteer, volunteer_id)


def by_central_id(session: Session, central_id: int) -> Volunteer | None:
    stmt = select(Volunteer).where(Volunteer.central_id == central_id)
    return session.scalars(stmt).one_or_none()


def get_or_create(session: Session, central_id: int, username: str) -> tuple[Volunteer, bool]:
    """The volunteer with this central id, created (not approved) if new; whether it was new.

    Two first logins of one account at once: the unique central_id lets one insert win, and
    the other finds that row after a rollback to a savepoint.
    """
    found = by_central_id(session, central_id)
    if found is not None:
        return found, False
    volunteer = Volunteer(central_id=central_id, username=username, approved=False)
    try:
        with session.begin_nested():
            session.add(volunteer)
    except IntegrityError:
        found = by_central_id(session, central_id)
        if found is None:
            raise
        return found, False
    return volunteer, True


def add(session: Session, volunteer: Volunteer) -> Volunteer:
    session.add(volunteer)
    session.flush()
    return volunteer


def grant(
    session: Session,
    volunteer_id: int,
    queue_id: int,
    level: str,
    *,
    granted_by_id: int | None = None,
) -> QueueAccess:
    """Give a volunteer a level on a queue (and, by inheritance, on the queues below it)."""
    if level not in ACCESS_LEVELS:
        raise ValueError(f"access level must be one of {', '.join(ACCESS_LEVELS)}")
    stmt = select(QueueAccess).where(
        QueueAccess.volunteer_id == volunteer_id, QueueAccess.queue_id == queue_id
    )
    access = session.scalars(stmt).one_or_none()
    if access is None:
        access = QueueAccess(volunteer_id=volunteer_id, queue_id=queue_id)
        session.add(access)
    access.level = level
    access.granted_by_id = granted_by_id
    access.granted_at = utcnow()
    session.flush()
    return access


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(Volunteer.id, Volunteer.username).where(Volunteer.id.in_(wanted))
    ).all()
    return {vid: name for vid, name in rows}
