"""Volunteer operations that are not about one ticket: logins, for now."""

from __future__ import annotations

from sqlalchemy.orm import Session

from wikibridge.models import Volunteer, utcnow
from wikibridge.store import audit


def record_login(session: Session, volunteer: Volunteer, method: str) -> None:
    """Note a login on the volunteer and in the audit log (the caller commits)."""
    volunteer.last_login_at = utcnow()
    audit.record(session, "login", volunteer_id=volunteer.id, method=method)
