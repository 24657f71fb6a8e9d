"""Tickets: numbers, lookups, creation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from wikibridge.models import Article, Ticket, utcnow

from .intake import allocate_numbers

MAX_MERGE_DEPTH = 50


def next_number(session: Session, system_id: str, now: datetime | None = None) -> str:
    """Allocate the next DateChecksum number of the day; atomic on both databases.

    The counter row stays locked until the caller's transaction ends, so numbers are unique
    and never reused, also with many ingest processes on several machines.
    """
    return allocate_numbers(session, system_id, 1, now or utcnow())[0]


def by_number(session: Session, number: str) -> Ticket | None:
    return session.scalars(select(Ticket).where(Ticket.number == number)).one_or_none()


def final_ticket(session: Session, ticket: Ticket) -> Ticket:
    """Follow the merged-into chain to the ticket that is still live (bounded against cycles)."""
    seen = {ticket.id}
    while ticket.merged_into_id is not None and len(seen) < MAX_MERGE_DEPTH:
        nxt = session.get(Ticket, ticket.merged_into_id)
        if nxt is None or nxt.id in seen:
            break
        seen.add(nxt.id)
        ticket = nxt
    return ticket


def create(
    session: Session,
    *,
    number: str,
    title: str,
    queue_id: int,
    requester: str,
    state: str = "new",
) -> Ticket:
    ticket = Ticket(
        number=number, title=title[:500], queue_id=queue_id, requester=requester, state=state
    )
    session.add(ticket)
    session.flush()
    return ticket


def touch(ticket: Ticket) -> None:
    ticket.updated_at = utcnow()


def is_participant(session: Session, ticket: Ticket, address: str) -> bool:
    """Whether an address has taken part in the ticket: requester, a sender or a recipient."""
    address = address.lower()
    if not address:
        return False
    if ticket.requester == address:
        return True
    stmt = (
        select(func.count())
        .select_from(Article)
        .where(
            Article.ticket_id == ticket.id,
            or_(
                Article.sender_address == address,
                Article.to.icontains(address, autoescape=True),
                Article.cc.icontains(address, autoescape=True),
            ),
        )
    )
    return bool(session.scalar(stmt))


def by_message_ids(session: Session, message_ids: Iterable[str]) -> Ticket | None:
    """The ticket of the newest stored article whose Message-ID is one of these."""
    ids = [m for m in message_ids if m][:100]
    if not ids:
        return None
    stmt = (
        select(Ticket)
        .join(Article, Article.ticket_id == Ticket.id)
        .where(Article.message_id.in_(ids))
        .order_by(Article.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def has_message_id(session: Session, ticket: Ticket, message_ids: Iterable[str]) -> bool:
    ids = [m for m in message_ids if m][:100]
    if not ids:
        return False
    stmt = (
        select(func.count())
        .select_from(Article)
        .where(Article.ticket_id == ticket.id, Article.message_id.in_(ids))
    )
    return bool(session.scalar(stmt))


def lock_rows(session: Session, ids: Iterable[int]) -> list[Ticket]:
    """Lock these tickets' rows until the transaction ends, in id order (no deadlock between
    two operations on the same pair), and refresh them from the database.

    PostgreSQL takes row locks (FOR UPDATE); SQLite's writing transactions already hold the
    database's write lock.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = select(Ticket).where(Ticket.id.in_(wanted)).order_by(Ticket.id).with_for_update()
    return list(session.scalars(stmt, execution_options={"populate_existing": True}))


def by_ids(session: Session, ids: Iterable[int]) -> dict[int, Ticket]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(wanted)))}


def merged_into(session: Session, ticket_id: int, limit: int = 200) -> list[Ticket]:
    """The tickets merged directly into this one, oldest first."""
    stmt = (
        select(Ticket)
        .where(Ticket.merged_into_id == ticket_id, Ticket.removed_at.is_(None))
        .order_by(Ticket.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def due_for_auto_close(
    session: Session, states_: Iterable[str], now: datetime, limit: int = 500
) -> list[Ticket]:
    """Live tickets in one of `states_` whose pending time has passed, oldest first, locked
    for this transaction (other workers skip them on PostgreSQL)."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.state.in_(list(states_)),
            Ticket.pending_until <= now,
            Ticket.removed_at.is_(None),
        )
        .order_by(Ticket.pending_until, Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))
