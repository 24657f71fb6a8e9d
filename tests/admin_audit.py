"""Reading the audit log in tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wikibridge.models import AuditEvent


def events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(session.scalars(stmt))


def last(session: Session, action: str) -> tuple[int | None, dict[str, Any]]:
    """(who, detail) of the newest event with this action."""
    found = events(session, action)
    assert found, f"no {action} event"
    return found[-1].volunteer_id, found[-1].detail
