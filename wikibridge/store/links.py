"""Links between tickets (related, parent/child)."""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from wikibridge.models import TicketLink


def add(session: Session, source_id: int, target_id: int, kind: str, note: str = "") -> TicketLink:
    link = TicketLink(source_id=source_id, target_id=target_id, kind=kind, note=note)
    session.add(link)
    session.flush()
    return link


def get(session: Session, link_id: int) -> TicketLink | None:
    return session.get(TicketLink, link_id)


def between(session: Session, a: int, b: int) -> TicketLink | None:
    """A link between two tickets, in either direction."""
    stmt = select(TicketLink).where(
        or_(
            and_(TicketLink.source_id == a, TicketLink.target_id == b),
            and_(TicketLink.source_id == b, TicketLink.target_id == a),
        )
    )
    return session.scalars(stmt.limit(1)).first()


def for_ticket(session: Session, ticket_id: int, limit: int = 500) -> list[TicketLink]:
    stmt = (
        select(TicketLink)
        .where(or_(TicketLink.source_id == ticket_id, TicketLink.target_id == ticket_id))
        .order_by(TicketLink.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def remove(session: Session, link_id: int) -> None:
    session.execute(delete(TicketLink).where(TicketLink.id == link_id))
