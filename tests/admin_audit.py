"""Reading the audit log in tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wikibridge.models import AuditEvent


def events(session: Session, action: str) -> list[AuditEvent]:
    """The events with this action, oldest first, read afresh. The read transaction ends here,
    so the test session never holds SQLite's write lock while the app serves a request."""
    stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    found = list(session.scalars(stmt))
    session.commit()
    return found


def last(session: Session, action: str) -> tuple[int | None, dict[str, Any]]:
    """(who, detail) of the newest event with this action."""
    found = events(session, action)
    assert found, f"no {action} event"
    return found[-1].volunteer_id, found[-1].detail


def reload(session: Session, *objects: object) -> None:
    """Read these rows again (the app changed them), then end the read transaction."""
    for obj in objects:
        session.refresh(obj)
    session.commit()
