"""Ticket traffic per queue and day: created, closed, and the open backlog at a moment.

Callers pass the queues the volunteer may see (from :mod:`wikibridge.access`). Removed tickets
are left out everywhere. A ticket counts as closed from its ``closed_at`` on (the time it last
entered a closed or merged state; NULL while open), so the backlog at any past moment follows
from the timestamps alone: created before it, and not closed before it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from wikibridge.models import Ticket

from .dialect import as_date, day_of


def _per_day(
    session: Session, column: Any, queue_ids: Collection[int], start: datetime, end: datetime
) -> dict[tuple[int, date], int]:
    day = day_of(session, column)
    stmt = (
        select(Ticket.queue_id, day, func.count())
        .where(
            Ticket.queue_id.in_(list(queue_ids)),
            Ticket.removed_at.is_(None),
            column >= start,
            column < end,
        )
        .group_by(Ticket.queue_id, day)
    )
    return {(int(q), as_date(d)): int(n) for q, d, n in session.execute(stmt)}


def created_per_day(
    session: Session, queue_ids: Collection[int], start: datetime, end: datetime
) -> dict[tuple[int, date], int]:
    """(queue id, UTC day) -> tickets created that day, for start <= created_at < end."""
    if not queue_ids:
        return {}
    return _per_day(session, Ticket.created_at, queue_ids, start, end)


def closed_per_day(
    session: Session, queue_ids: Collection[int], start: datetime, end: datetime
) -> dict[tuple[int, date], int]:
    """(queue id, UTC day) -> tickets closed that day, for start <= closed_at < end."""
    if not queue_ids:
        return {}
    return _per_day(session, Ticket.closed_at, queue_ids, start, end)


def open_at(session: Session, queue_ids: Collection[int], moment: datetime) -> dict[int, int]:
    """Queue id -> tickets open at `moment`: created before it and not closed before it."""
    if not queue_ids:
        return {}
    stmt = (
        select(Ticket.queue_id, func.count())
        .where(
            Ticket.queue_id.in_(list(queue_ids)),
            Ticket.removed_at.is_(None),
            Ticket.created_at < moment,
            or_(Ticket.closed_at.is_(None), Ticket.closed_at >= moment),
        )
        .group_by(Ticket.queue_id)
    )
    return {int(q): int(n) for q, n in session.execute(stmt)}
