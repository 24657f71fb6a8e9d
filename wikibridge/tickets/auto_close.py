"""Znuny's "pending auto close" states end by themselves: when the pending time has passed,
the ticket is closed (successful for ``+``, unsuccessful for ``-``). The worker runs this
once a minute; it is recorded in the audit log like a volunteer's state change, by nobody."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from wikibridge.store import audit
from wikibridge.store import tickets as store

from . import states

CLOSES_TO = {
    states.PENDING_CLOSE_OK: states.CLOSED_OK,
    states.PENDING_CLOSE_FAIL: states.CLOSED_FAIL,
}


def close_due(session: Session, now: datetime, limit: int = 500) -> int:
    """Close the tickets whose auto-close time has passed (at most `limit`); how many."""
    due = store.due_for_auto_close(session, CLOSES_TO, now, limit)
    for ticket in due:
        old = ticket.state
        ticket.state = CLOSES_TO[old]
        ticket.pending_until = None
        ticket.closed_at = now
        ticket.locked_until = None
        ticket.updated_at = now
        audit.record(
            session,
            "state_changed",
            ticket_id=ticket.id,
            volunteer_id=None,
            **{"from": old, "to": ticket.state, "by": "pending time reached"},
        )
    return len(due)
