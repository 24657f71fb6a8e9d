"""The SQL behind the authorisation decision in :mod:`wikibridge.access`, and the grant history
that public verification asks about ("had this volunteer access to that queue at time T?")."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, false, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from wikibridge.models import ACCESS_LEVELS, Queue, QueueAccess, Volunteer

# Higher wins when several grants cover one queue (a grant on a parent and one on a child).
_RANK = {level: rank for rank, level in enumerate(ACCESS_LEVELS, start=1)}
# Deeper than any real queue tree; stops a loop should a broken tree point back at itself.
MAX_QUEUE_DEPTH = 20


def queue_levels(session: Session, volunteer_id: int) -> dict[int, str]:
    """Queue id -> access level of one volunteer, live grants inherited down the queue tree.

    One recursive query: the granted queues, then their children, grandchildren, ... UNION (not
    UNION ALL) keeps it finite even if a broken tree had a cycle. Revoked grants do not count.
    """
    rank = case(_RANK, value=QueueAccess.level, else_=0)
    covered = (
        select(QueueAccess.queue_id.label("queue_id"), rank.label("rank"))
        .where(
            QueueAccess.volunteer_id == volunteer_id,
            QueueAccess.level.in_(ACCESS_LEVELS),
            QueueAccess.revoked_at.is_(None),
        )
        .cte("covered", recursive=True)
    )
    child = aliased(Queue)
    covered = covered.union(
        select(child.id, covered.c.rank).join(covered, child.parent_id == covered.c.queue_id)
    )
    rows = session.execute(
        select(covered.c.queue_id, func.max(covered.c.rank)).group_by(covered.c.queue_id)
    ).all()
    levels = {rank: level for level, rank in _RANK.items()}
    return {queue_id: levels[int(r)] for queue_id, r in rows if int(r) in levels}


@dataclass(frozen=True)
class Grant:
    """One grant, live or revoked: access from ``granted_at`` until ``revoked_at`` (if set)."""

    volunteer_id: int
    username: str
    queue_id: int
    level: str
    granted_at: datetime
    revoked_at: datetime | None

    def covers(self, queue_path: Collection[int], when: datetime) -> bool:
        """Whether this grant gave access to a queue (given with its ancestors) at `when`."""
        return (
            self.queue_id in queue_path
            and self.level in ACCESS_LEVELS
            and self.granted_at <= when
            and (self.revoked_at is None or when < self.revoked_at)
        )


def grants(
    session: Session,
    *,
    volunteer_ids: Iterable[int] = (),
    usernames: Iterable[str] = (),
) -> list[Grant]:
    """Every grant, revoked ones included, of these volunteers (by id or by username)."""
    ids = sorted(set(volunteer_ids))
    names = sorted(set(usernames))
    if not ids and not names:
        return []
    cond = or_(
        Volunteer.id.in_(ids) if ids else false(),
        Volunteer.username.in_(names) if names else false(),
    )
    stmt = (
        select(
            QueueAccess.volunteer_id,
            Volunteer.username,
            QueueAccess.queue_id,
            QueueAccess.level,
            QueueAccess.granted_at,
            QueueAccess.revoked_at,
        )
        .join(Volunteer, Volunteer.id == QueueAccess.volunteer_id)
        .where(cond)
        .order_by(QueueAccess.id)
    )
    return [Grant(*row) for row in session.execute(stmt).all()]


def queue_paths(session: Session, queue_ids: Iterable[int]) -> dict[int, list[int]]:
    """Queue id -> [the queue, its parent, grandparent, ...]: one recursive query."""
    wanted = sorted(set(queue_ids))
    if not wanted:
        return {}
    path = (
        select(
            Queue.id.label("origin"),
            Queue.id.label("queue_id"),
            Queue.parent_id.label("parent_id"),
            literal(0).label("depth"),
        )
        .where(Queue.id.in_(wanted))
        .cte("path", recursive=True)
    )
    parent = aliased(Queue)
    path = path.union_all(
        select(path.c.origin, parent.id, parent.parent_id, path.c.depth + 1)
        .join(path, parent.id == path.c.parent_id)
        .where(path.c.depth < MAX_QUEUE_DEPTH)
    )
    rows = session.execute(
        select(path.c.origin, path.c.queue_id).order_by(path.c.origin, path.c.depth)
    ).all()
    out: dict[int, list[int]] = {}
    for origin, queue_id in rows:
        out.setdefault(origin, []).append(queue_id)
    return out


def had_access(session: Session, volunteer_id: int, queue_id: int, when: datetime) -> bool:
    """Whether a volunteer had access (any level) to a queue at `when`: a grant on it or on
    a queue above it, granted at or before `when` and not revoked by then."""
    path = queue_paths(session, [queue_id]).get(queue_id, [])
    return any(g.covers(path, when) for g in grants(session, volunteer_ids=[volunteer_id]))
