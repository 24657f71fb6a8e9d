"""Live tickets per queue and state, from the rows the triggers of migration 0003 keep.

Reading sums a few rows per queue and state instead of counting tickets; `compact` folds the
rows written since the last time into one per queue and state, so the sums stay short.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from wikibridge.models import TicketCountDelta

from .dialect import is_postgres

# PostgreSQL: take exactly the rows this statement deletes and write back their sums, in one
# statement, so that rows other transactions commit meanwhile are neither lost nor counted twice.
_COMPACT_POSTGRES = text(
    """
    WITH gone AS (DELETE FROM ticket_count_deltas RETURNING queue_id, state, delta)
    INSERT INTO ticket_count_deltas (queue_id, state, delta)
    SELECT queue_id, state, sum(delta) FROM gone GROUP BY queue_id, state
    HAVING sum(delta) <> 0
    """
)


def counts(
    session: Session, queue_ids: Collection[int], states: Collection[str]
) -> dict[tuple[int, str], int]:
    """(queue id, state) -> live tickets, for the given queues and states (zeros left out)."""
    if not queue_ids or not states:
        return {}
    stmt = (
        select(TicketCountDelta.queue_id, TicketCountDelta.state, func.sum(TicketCountDelta.delta))
        .where(
            TicketCountDelta.queue_id.in_(list(queue_ids)),
            TicketCountDelta.state.in_(list(states)),
        )
        .group_by(TicketCountDelta.queue_id, TicketCountDelta.state)
    )
    return {(q, s): int(n) for q, s, n in session.execute(stmt) if n}


def compact(session: Session) -> int:
    """Fold the rows into one per queue and state; the number of rows before. Commit after."""
    before = session.scalar(select(func.count()).select_from(TicketCountDelta)) or 0
    if before == 0:
        return 0
    if is_postgres(session):
        session.execute(_COMPACT_POSTGRES)
        return before
    # SQLite has one writer at a time: within this transaction nothing else adds rows.
    last = session.scalar(select(func.max(TicketCountDelta.id)))
    sums = (
        select(TicketCountDelta.queue_id, TicketCountDelta.state, func.sum(TicketCountDelta.delta))
        .where(TicketCountDelta.id <= last)
        .group_by(TicketCountDelta.queue_id, TicketCountDelta.state)
        .having(func.sum(TicketCountDelta.delta) != 0)
    )
    rows = session.execute(sums).all()
    session.execute(delete(TicketCountDelta).where(TicketCountDelta.id <= last))
    if rows:
        session.execute(
            insert(TicketCountDelta),
            [{"queue_id": q, "state": s, "delta": n} for q, s, n in rows],
        )
    return before
