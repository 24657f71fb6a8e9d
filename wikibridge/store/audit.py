"""The append-only audit log: insert, and read; never update or delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
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


def for_ticket(session: Session, ticket_id: int) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.ticket_id == ticket_id).order_by(AuditEvent.id)
    return list(session.scalars(stmt))
