"""The checks every ticket operation starts with: who acts, may they, and does a lock stop them.

A ticket outside the actor's scope raises :class:`TicketNotFound` (the web app answers 404, as
for any object one may not see); a visible ticket in a queue the actor may only read raises
:class:`ReadOnlyAccess` (403); any other refusal is an :class:`OperationRefused` whose reason is
shown to the volunteer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.config import Settings
from wikibridge.models import Ticket
from wikibridge.store import tickets, volunteers

from . import states


class OperationRefused(Exception):
    """The request cannot be done; `reason` tells the volunteer why.

    `template` is the English sentence with ``%(name)s`` fields that `params` fill in, as in
    gettext's catalogues: the web app shows the template's translation, filled the same way,
    and the core needs no translation library (`pybabel extract` finds the templates by the
    exception's name).
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        self.reason = template % params if params else template
        super().__init__(self.reason)


class TicketNotFound(OperationRefused):
    """No such ticket in the volunteer's scope (the web app answers 404)."""


class ReadOnlyAccess(OperationRefused):
    """The volunteer may see the ticket but not change it (the web app answers 403)."""


@dataclass(frozen=True)
class Actor:
    """The volunteer acting, what they may see, and the settings the operations need."""

    volunteer_id: int
    username: str
    scope: Scope
    settings: Settings

    @property
    def lock_timeout(self) -> timedelta:
        return timedelta(minutes=self.settings.tickets.lock_minutes)


# -- loading and guarding ------------------------------------------------------------------


def visible(session: Session, actor: Actor, number: str) -> Ticket:
    found = access.ticket(session, actor.scope, number.strip())
    if found is None:
        raise TicketNotFound("There is no ticket %(number)s you have access to.", number=number)
    return found


def writable(session: Session, actor: Actor, number: str, *, lock_row: bool = True) -> Ticket:
    """The ticket, if the actor may change it; its row locked unless `lock_row` is False."""
    ticket = visible(session, actor, number)
    if not actor.scope.can_write(ticket.queue_id):
        raise ReadOnlyAccess(
            "You have read-only access to the queue of Ticket#%(number)s: "
            "ask a queue admin for write access to work on it.",
            number=ticket.number,
        )
    if lock_row:
        tickets.lock_rows(session, [ticket.id])
    refuse_if_merged(session, ticket)
    return ticket


def refuse_if_merged(session: Session, ticket: Ticket) -> None:
    if ticket.state == states.MERGED:
        target = tickets.final_ticket(session, ticket)
        raise OperationRefused(
            "Ticket#%(number)s was merged into Ticket#%(target)s; work on that one.",
            number=ticket.number,
            target=target.number,
        )


def lock_holder(ticket: Ticket, now: datetime) -> int | None:
    """The volunteer whose lock on the ticket still holds, if any."""
    if ticket.owner_id is None or ticket.locked_until is None or ticket.locked_until <= now:
        return None
    return ticket.owner_id


def refuse_if_locked(session: Session, actor: Actor, ticket: Ticket, now: datetime) -> None:
    holder = lock_holder(ticket, now)
    if holder is not None and holder != actor.volunteer_id:
        name = volunteers.usernames(session, [holder]).get(holder, "another volunteer")
        until = ticket.locked_until.strftime("%H:%M UTC") if ticket.locked_until else ""
        raise OperationRefused(
            "Ticket#%(number)s is locked by %(name)s until %(until)s; "
            "wait until they release it or the lock expires.",
            number=ticket.number,
            name=name,
            until=until,
        )


def acting(session: Session, actor: Actor, ticket: Ticket, now: datetime) -> None:
    """Refuse when someone else holds the lock; renew the actor's own lock."""
    refuse_if_locked(session, actor, ticket, now)
    if lock_holder(ticket, now) == actor.volunteer_id:
        ticket.locked_until = now + actor.lock_timeout
    ticket.updated_at = now


def clean_text(text: str) -> str:
    """Text as stored: Unix line ends, no NUL (PostgreSQL cannot store it)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
