"""The SQL behind the authorisation decision in :mod:`wikibridge.access`."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from wikibridge.models import ACCESS_LEVELS, Queue, QueueAccess

# Higher wins when several grants cover one queue (a grant on a parent and one on a child).
_RANK = {level: rank for rank, level in enumerate(ACCESS_LEVELS, start=1)}


def queue_levels(session: Session, volunteer_id: int) -> dict[int, str]:
    """Queue id -> access level of one volunteer, grants inherited down the queue tree.

    One recursive query: the granted queues, then their children, grandchildren, ... UNION (not
    UNION ALL) keeps it finite even if a broken tree had a cycle.
    """
    rank = case(_RANK, value=QueueAccess.level, else_=0)
    covered = (
        select(QueueAccess.queue_id.label("queue_id"), rank.label("rank"))
        .where(QueueAccess.volunteer_id == volunteer_id, QueueAccess.level.in_(ACCESS_LEVELS))
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
