"""Pending auto close: the worker closes a ticket when its pending time has passed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.webapp import helpers
from wikibridge.config import Settings
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.worker import Worker
from wikibridge.models import AuditEvent, Queue, Ticket, utcnow
from wikibridge.store import listing
from wikibridge.tickets import auto_close, states
from wikibridge.tickets.listing import BUCKETS


def pending(session: Session, queue_id: int, state: str, minutes: int) -> str:
    q = session.get(Queue, queue_id)
    assert q is not None
    t = helpers.ticket(session, q, f"{state} {minutes}")
    t.state = state
    t.pending_until = utcnow() + timedelta(minutes=minutes)
    session.flush()
    return t.number


def test_due_tickets_close_others_stay(session: Session) -> None:
    q = helpers.queue(session, "permissions")
    ok = pending(session, q.id, states.PENDING_CLOSE_OK, -5)
    fail = pending(session, q.id, states.PENDING_CLOSE_FAIL, -1)
    later = pending(session, q.id, states.PENDING_CLOSE_OK, 60)
    reminder = pending(session, q.id, states.PENDING_REMINDER, -5)
    session.commit()
    assert listing.counts_by_queue(session, [q.id], BUCKETS)[q.id]["pending"] == 4

    assert auto_close.close_due(session, utcnow()) == 2
    session.commit()

    found = {t.number: t for t in session.scalars(select(Ticket))}
    assert found[ok].state == states.CLOSED_OK and found[ok].closed_at is not None
    assert found[fail].state == states.CLOSED_FAIL and found[fail].pending_until is None
    assert found[later].state == states.PENDING_CLOSE_OK
    assert found[reminder].state == states.PENDING_REMINDER  # a reminder only reminds
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "state_changed")).all()
    assert sorted((e.detail["from"], e.detail["to"], e.volunteer_id) for e in events) == [
        (states.PENDING_CLOSE_OK, states.CLOSED_OK, None),
        (states.PENDING_CLOSE_FAIL, states.CLOSED_FAIL, None),
    ]
    assert listing.counts_by_queue(session, [q.id], BUCKETS)[q.id]["pending"] == 2
    assert auto_close.close_due(session, utcnow()) == 0  # nothing twice


def test_the_worker_closes_them(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        q = helpers.queue(session, "permissions")
        number = pending(session, q.id, states.PENDING_CLOSE_OK, -5)
        session.commit()
    worker = Worker(JobContext(settings, session_factory), handlers={})
    worker.run_once()
    with session_factory() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
    assert ticket.state == states.CLOSED_OK
