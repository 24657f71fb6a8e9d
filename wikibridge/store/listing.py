"""Ticket lists and counts for the volunteer's pages. Callers pass the queues the volunteer
may see (from :mod:`wikibridge.access`); nothing here decides who sees what."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from wikibridge.models import Ticket

from . import ticket_counts

# The columns a list may be ordered by; every order ends with the id, for a stable keyset.
SORT_COLUMNS = {"updated_at": Ticket.updated_at, "created_at": Ticket.created_at}


def counts_by_queue(
    session: Session, queue_ids: Collection[int], buckets: Mapping[str, Collection[str]]
) -> dict[int, dict[str, int]]:
    """Per queue, the number of live tickets in each bucket of states, from the counts the
    database keeps (store.ticket_counts): a few rows per queue, whatever the archive's size."""
    if not queue_ids or not buckets:
        return {}
    all_states = {s for states in buckets.values() for s in states}
    by_state = ticket_counts.counts(session, queue_ids, all_states)
    found = {q for q, _ in by_state}
    return {
        q: {name: sum(by_state.get((q, s), 0) for s in states) for name, states in buckets.items()}
        for q in found
    }


def owned(
    session: Session,
    owner_id: int,
    queue_ids: Collection[int],
    states: Collection[str],
    limit: int = 100,
) -> list[Ticket]:
    if not queue_ids:
        return []
    stmt = (
        select(Ticket)
        .where(
            Ticket.owner_id == owner_id,
            Ticket.queue_id.in_(list(queue_ids)),
            Ticket.state.in_(list(states)),
            Ticket.removed_at.is_(None),
        )
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def queue_page(
    session: Session,
    queue_id: int,
    *,
    states: Collection[str] | None,
    column: str,
    descending: bool,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Ticket]:
    """Up to `limit` live tickets of a queue, keyset-paginated by (column, id)."""
    col = SORT_COLUMNS[column]
    stmt = select(Ticket).where(Ticket.queue_id == queue_id, Ticket.removed_at.is_(None))
    if states is not None:
        stmt = stmt.where(Ticket.state.in_(list(states)))
    if after is not None:
        value, last_id = after
        if descending:
            stmt = stmt.where(or_(col < value, and_(col == value, Ticket.id < last_id)))
        else:
            stmt = stmt.where(or_(col > value, and_(col == value, Ticket.id > last_id)))
    if descending:
        stmt = stmt.order_by(col.desc(), Ticket.id.desc())
    else:
        stmt = stmt.order_by(col.asc(), Ticket.id.asc())
    return list(session.scalars(stmt.limit(limit)))
