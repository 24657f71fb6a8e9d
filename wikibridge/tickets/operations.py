"""What a volunteer does to a ticket: lock, note, change the state, move, mark as spam.

Every operation takes a Session and never commits (the caller owns the unit of work), checks
access through :mod:`wikibridge.access`, writes an audit event for each change, and raises
:class:`OperationRefused` with a sentence for the volunteer when the request cannot be done.
Reply is in :mod:`wikibridge.tickets.compose`; merge, split and links in
:mod:`wikibridge.tickets.relations`; the shared checks in :mod:`wikibridge.tickets.guards`.

Locks: taking a ticket makes the volunteer its owner with a lock until now + the lock timeout;
every later action of the owner renews it, and an idle lock expires. While a lock holds, nobody
else may act on the ticket, except a queue admin who may release it. Releasing (and closing)
ends the lock; the owner stays recorded, as in Znuny.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.models import Article, Queue, Ticket, utcnow
from wikibridge.store import articles, audit, queues, volunteers

from . import states
from .guards import (
    Actor,
    OperationRefused,
    ReadOnlyAccess,
    TicketNotFound,
    acting,
    clean_text,
    lock_holder,
    refuse_if_locked,
    writable,
)

__all__ = [
    "Actor",
    "OperationRefused",
    "ReadOnlyAccess",
    "TicketNotFound",
    "add_note",
    "apply_state",
    "change_state",
    "check_state",
    "mark_spam",
    "move",
    "parse_time",
    "release",
    "take",
]

MAX_NOTE_CHARS = 100_000
# A pending time further ahead than this is a typo, not a plan.
MAX_PENDING = timedelta(days=3 * 366)
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


# -- locks ---------------------------------------------------------------------------------


def take(session: Session, actor: Actor, number: str) -> Ticket:
    """Make the actor the ticket's owner with a fresh lock (also after someone's lock expired)."""
    ticket = writable(session, actor, number)
    now = utcnow()
    refuse_if_locked(session, actor, ticket, now)
    renewed = lock_holder(ticket, now) == actor.volunteer_id
    previous = ticket.owner_id
    ticket.owner_id = actor.volunteer_id
    ticket.locked_until = now + actor.lock_timeout
    ticket.updated_at = now
    detail: dict[str, object] = {"until": ticket.locked_until.isoformat(timespec="seconds")}
    if renewed:
        detail["renewed"] = True
    elif previous is not None and previous != actor.volunteer_id:
        detail["previous_owner"] = volunteers.usernames(session, [previous]).get(previous, "")
    audit.record(
        session, "lock_taken", ticket_id=ticket.id, volunteer_id=actor.volunteer_id, **detail
    )
    return ticket


def release(session: Session, actor: Actor, number: str) -> Ticket:
    """End the actor's lock; a queue admin may end anyone's."""
    ticket = writable(session, actor, number)
    now = utcnow()
    holder = lock_holder(ticket, now)
    if holder is None:
        raise OperationRefused("Ticket#%(number)s is not locked.", number=ticket.number)
    by_admin = holder != actor.volunteer_id
    if by_admin and not actor.scope.is_queue_admin(ticket.queue_id):
        refuse_if_locked(session, actor, ticket, now)
    ticket.locked_until = None
    ticket.updated_at = now
    detail: dict[str, object] = {}
    if by_admin:
        detail["owner"] = volunteers.usernames(session, [holder]).get(holder, "")
        detail["by_queue_admin"] = True
    audit.record(
        session, "lock_released", ticket_id=ticket.id, volunteer_id=actor.volunteer_id, **detail
    )
    return ticket


# -- notes ---------------------------------------------------------------------------------


def add_note(session: Session, actor: Actor, number: str, text: str) -> Article:
    """An internal note: shown to volunteers on the ticket, never mailed."""
    body = clean_text(text)
    if not body.strip():
        raise OperationRefused("The note is empty.")
    if len(body) > MAX_NOTE_CHARS:
        raise OperationRefused("A note can have at most %(most)d characters.", most=MAX_NOTE_CHARS)
    ticket = writable(session, actor, number)
    acting(session, actor, ticket, utcnow())
    note = articles.add(
        session,
        Article(ticket_id=ticket.id, kind="note", body_text=body, author_id=actor.volunteer_id),
    )
    audit.record(
        session,
        "note_added",
        ticket_id=ticket.id,
        volunteer_id=actor.volunteer_id,
        article_id=note.id,
    )
    return note


# -- states --------------------------------------------------------------------------------


def parse_time(text: str) -> datetime | None:
    """A date and time from a form (``YYYY-MM-DD HH:MM``, UTC); None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise OperationRefused(
        "%(text)r is not a date and time (YYYY-MM-DD HH:MM, UTC).", text=text[:40]
    )


def check_state(
    ticket: Ticket, new_state: str, pending_until: datetime | None, now: datetime
) -> None:
    """Refuse a state change the transition table does not allow, or a bad pending time."""
    same_pending = new_state == ticket.state and new_state in states.PENDING
    if not same_pending and not states.can_change(ticket.state, new_state):
        if new_state not in states.STATES:
            raise OperationRefused("%(state)r is not a ticket state.", state=new_state[:40])
        raise OperationRefused(
            "Ticket#%(number)s cannot go from %(old)r to %(new)r.",
            number=ticket.number,
            old=ticket.state,
            new=new_state,
        )
    if new_state in states.NEEDS_TIME:
        if pending_until is None:
            raise OperationRefused("The state %(state)r needs a date and time.", state=new_state)
        if pending_until <= now:
            raise OperationRefused("The pending time must be in the future.")
        if pending_until > now + MAX_PENDING:
            raise OperationRefused("The pending time is too far ahead (at most three years).")


def apply_state(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    new_state: str,
    pending_until: datetime | None,
    now: datetime,
) -> None:
    """Change the state of a ticket the actor may act on (checked by :func:`check_state`)."""
    check_state(ticket, new_state, pending_until, now)
    old = ticket.state
    ticket.state = new_state
    ticket.pending_until = pending_until if new_state in states.NEEDS_TIME else None
    if new_state in states.CLOSED:
        ticket.closed_at = now
        ticket.locked_until = None  # a closed ticket needs no lock
    else:
        ticket.closed_at = None
    ticket.updated_at = now
    detail: dict[str, object] = {"from": old, "to": new_state}
    if ticket.pending_until is not None:
        detail["pending_until"] = ticket.pending_until.isoformat(timespec="minutes")
    action = "pending_time_changed" if old == new_state else "state_changed"
    audit.record(session, action, ticket_id=ticket.id, volunteer_id=actor.volunteer_id, **detail)


def change_state(
    session: Session,
    actor: Actor,
    number: str,
    new_state: str,
    pending_until: datetime | None = None,
) -> Ticket:
    ticket = writable(session, actor, number)
    now = utcnow()
    acting(session, actor, ticket, now)
    apply_state(session, actor, ticket, new_state, pending_until, now)
    return ticket


# -- queues --------------------------------------------------------------------------------


def move(session: Session, actor: Actor, number: str, queue_id: int) -> Ticket:
    """Move a ticket to another queue; the actor needs write access to both."""
    ticket = writable(session, actor, number)
    target = access.queue(session, actor.scope, queue_id)
    if target is None or not actor.scope.can_write(target.id):
        raise OperationRefused("You can only move tickets into queues you have write access to.")
    if ticket.queue_id == target.id:
        raise OperationRefused(
            "Ticket#%(number)s is already in %(queue)s.", number=ticket.number, queue=target.name
        )
    acting(session, actor, ticket, utcnow())
    source = session.get(Queue, ticket.queue_id)
    ticket.queue_id = target.id
    audit.record(
        session,
        "moved",
        ticket_id=ticket.id,
        volunteer_id=actor.volunteer_id,
        from_queue=source.name if source else "",
        to_queue=target.name,
    )
    return ticket


def mark_spam(session: Session, actor: Actor, number: str) -> tuple[Ticket, Queue]:
    """Move the ticket to the spam queue, closed unsuccessful. Returns it and its old queue."""
    ticket = writable(session, actor, number)
    now = utcnow()
    acting(session, actor, ticket, now)
    spam = queues.ensure(session, actor.settings.mail.spam_queue, "spam")
    if ticket.queue_id == spam.id:
        raise OperationRefused(
            "Ticket#%(number)s is already in %(queue)s.", number=ticket.number, queue=spam.name
        )
    source = session.get(Queue, ticket.queue_id)
    assert source is not None
    old_state = ticket.state
    ticket.queue_id = spam.id
    ticket.state = states.CLOSED_FAIL
    ticket.pending_until = None
    ticket.closed_at = now
    ticket.locked_until = None
    audit.record(
        session,
        "marked_spam",
        ticket_id=ticket.id,
        volunteer_id=actor.volunteer_id,
        from_queue=source.name,
        to_queue=spam.name,
        from_state=old_state,
    )
    return ticket, source
