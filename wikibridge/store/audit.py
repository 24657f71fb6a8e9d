"""The append-only audit log: insert, and read; never update or delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from wikibridge.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    ticket_id: int | None = None,
    volunteer_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(action=action, ticket_id=ticket_id, volunteer_id=volunteer_id, detail=detail)
    session.add(event)
    return event


def record_later(
    session: Session,
    action: str,
    *,
    ticket_id: int | None = None,
    volunteer_id: int | None = None,
    **detail: Any,
) -> None:
    """Like :func:`record`, but the event is added by :func:`write_later` just before the
    commit, so the events of a whole batch are inserted together (bulk ingest)."""
    pending: list[dict[str, Any]] = session.info.setdefault(_LATER, [])
    pending.append(
        {"action": action, "ticket_id": ticket_id, "volunteer_id": volunteer_id, "detail": detail}
    )


def write_later(session: Session) -> None:
    rows = session.info.pop(_LATER, [])
    if rows:
        # A bulk INSERT (one executemany): ORM objects would each be inserted on their own,
        # as the ORM must read every new id back.
        session.execute(insert(AuditEvent), rows)


_LATER = "audit_events_later"


def for_ticket(session: Session, ticket_id: int) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.ticket_id == ticket_id).order_by(AuditEvent.id)
    return list(session.scalars(stmt))
