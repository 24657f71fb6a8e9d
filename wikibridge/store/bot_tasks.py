"""What the bots read: permission queues, their tickets and article texts, earlier actions, and
the volunteers who chose to be listed."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from wikibridge.models import Article, Queue, Ticket, Volunteer, WikiAction

# Ids per IN (...) list: well below SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 500


def queues_of_kind(session: Session, kind: str) -> list[Queue]:
    return list(session.scalars(select(Queue).where(Queue.kind == kind).order_by(Queue.id)))


def live_tickets(
    session: Session,
    queue_ids: Collection[int],
    states: Collection[str],
    *,
    changed_since: datetime | None = None,
) -> list[Ticket]:
    """Tickets of these queues in these states, neither removed nor merged away; with
    ``changed_since``, only those closed (or else last changed) since then."""
    if not queue_ids or not states:
        return []
    stmt = select(Ticket).where(
        Ticket.queue_id.in_(list(queue_ids)),
        Ticket.state.in_(list(states)),
        Ticket.removed_at.is_(None),
        Ticket.merged_into_id.is_(None),
    )
    if changed_since is not None:
        stmt = stmt.where(func.coalesce(Ticket.closed_at, Ticket.updated_at) >= changed_since)
    return list(session.scalars(stmt.order_by(Ticket.id)))


def article_texts(session: Session, ticket_ids: Collection[int]) -> Iterator[tuple[int, str, str]]:
    """(ticket id, subject, plain-text body) of every article of these tickets."""
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), CHUNK):
        stmt = (
            select(Article.ticket_id, Article.subject, Article.body_text)
            .where(Article.ticket_id.in_(ids[start : start + CHUNK]))
            .order_by(Article.ticket_id, Article.id)
        )
        yield from session.execute(stmt)


def tickets_mentioning(
    session: Session, queue_ids: Collection[int], needles: Collection[str], states: Collection[str]
) -> list[Ticket]:
    """Live tickets of these queues and states with an article whose subject or body contains
    one of the needles (case-insensitive as far as the database lower-cases)."""
    if not queue_ids or not needles or not states:
        return []
    found = or_(
        *(
            column.icontains(needle, autoescape=True)
            for needle in needles
            for column in (Article.subject, Article.body_text)
        )
    )
    stmt = (
        select(Ticket)
        .where(
            Ticket.queue_id.in_(list(queue_ids)),
            Ticket.state.in_(list(states)),
            Ticket.removed_at.is_(None),
            Ticket.merged_into_id.is_(None),
            Ticket.id.in_(select(Article.ticket_id).where(found)),
        )
        .order_by(Ticket.id)
    )
    return list(session.scalars(stmt))


def actions_of_kind(session: Session, ticket_ids: Collection[int], kind: str) -> list[WikiAction]:
    ids = sorted(set(ticket_ids))
    found: list[WikiAction] = []
    for start in range(0, len(ids), CHUNK):
        stmt = select(WikiAction).where(
            WikiAction.ticket_id.in_(ids[start : start + CHUNK]), WikiAction.kind == kind
        )
        found.extend(session.scalars(stmt.order_by(WikiAction.id)))
    return found


def listed_volunteers(session: Session) -> list[str]:
    """User names of approved, active volunteers who opted in to the public list."""
    stmt = select(Volunteer.username).where(
        Volunteer.approved.is_(True),
        Volunteer.active.is_(True),
        Volunteer.public_listing.is_(True),
    )
    return list(session.scalars(stmt))
