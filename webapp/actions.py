"""What a volunteer does to a ticket, from the forms on its page: POST only, CSRF-checked.

Each view reads its form, calls one domain operation, commits, and redirects back with a flash
message (303, so a reload does not post again). A ticket outside the volunteer's scope is 404;
a visible ticket in a queue they may only read is 403; any other refusal is flashed (and
rolled back, unless the refusal is itself a record to keep).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from wikibridge.tickets import guards, relations, retention, states
from wikibridge.tickets import operations as ops
from wikibridge.tickets.operations import (
    Actor,
    OperationRefused,
    ReadOnlyAccess,
    TicketNotFound,
)

from . import labels
from .database import db, settings

bp = Blueprint("actions", __name__, url_prefix="/tickets")


class KeptRefusal(OperationRefused):
    """A refusal that is itself a record (a refused on-wiki action): committed, then flashed."""

    def __init__(self, reason: str, target: str | None = None) -> None:
        super().__init__(reason)
        self.target = target


def actor() -> Actor:
    return Actor(g.volunteer.id, g.volunteer.username, g.scope, settings())


def run(number: str, operation: Callable[[Session, Actor], tuple[str, str | None]]) -> Response:
    """Do one operation in this request's unit of work.

    `operation` returns the message to flash and where to go next (None: back to the ticket).
    """
    session = db()
    try:
        who = actor()
        # Visibility first, before any form field is read: outside the volunteer's queues
        # every action is a plain 404, whatever the form holds.
        guards.visible(session, who, number)
        message, target = operation(session, who)
    except TicketNotFound:
        session.rollback()
        abort(404)
    except ReadOnlyAccess as e:
        session.rollback()
        abort(403, labels.refusal(e))
    except KeptRefusal as e:
        session.commit()
        flash(labels.refusal(e), "error")
        return redirect(e.target or ticket_url(number), 303)
    except OperationRefused as e:
        session.rollback()
        flash(labels.refusal(e), "error")
        return back(number)
    session.commit()
    flash(message, "info")
    return redirect(target or ticket_url(number), 303)


def ticket_url(number: str) -> str:
    return url_for("tickets.view", number=number)


def back(number: str) -> Response:
    return redirect(ticket_url(number), 303)


def form_int(name: str) -> int:
    value = request.form.get(name, "").strip()
    if not value.isdigit() or len(value) > 18:
        raise OperationRefused(_("The form was incomplete; please try again."))
    return int(value)


@bp.post("/<number>/take")
def take(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        ticket = ops.take(session, a, number)
        return _(
            "You hold Ticket#%(number)s until %(time)s UTC.",
            number=ticket.number,
            time=f"{ticket.locked_until:%H:%M}",
        ), None

    return run(number, operation)


@bp.post("/<number>/release")
def release(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        ticket = ops.release(session, a, number)
        return _("Ticket#%(number)s is released.", number=ticket.number), None

    return run(number, operation)


@bp.post("/<number>/note")
def note(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        made = ops.add_note(session, a, number, request.form.get("text", ""))
        return _("Your note is added."), f"{ticket_url(number)}#article-{made.id}"

    return run(number, operation)


@bp.post("/<number>/state")
def change_state(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        state = request.form.get("state", "")
        typed = request.form.get("pending_until", "")
        when = ops.parse_time(typed) if state in states.NEEDS_TIME else None
        ticket = ops.change_state(session, a, number, state, when)
        return _(
            "Ticket#%(number)s is now %(state)s.",
            number=ticket.number,
            state=labels.STATES.get(ticket.state, ticket.state),
        ), None

    return run(number, operation)


@bp.post("/<number>/move")
def move(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        ticket = ops.move(session, a, number, form_int("queue_id"))
        return _("Ticket#%(number)s is moved.", number=ticket.number), None

    return run(number, operation)


@bp.post("/<number>/spam")
def spam(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        ticket, source = ops.mark_spam(session, a, number)
        # The spam queue is usually out of sight: go back to the queue the ticket came from.
        where = url_for("queues.view", queue_id=source.id)
        return _(
            "Ticket#%(number)s is marked as spam and moved to the spam queue.", number=ticket.number
        ), where

    return run(number, operation)


@bp.post("/<number>/remove")
def remove(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        ticket = retention.remove(session, a, number)
        return _("Ticket#%(number)s is deleted.", number=ticket.number), url_for(
            "queues.view", queue_id=ticket.queue_id
        )

    return run(number, operation)


@bp.post("/<number>/merge")
def merge(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        target = relations.merge(session, a, number, request.form.get("target", ""))
        return _(
            "Ticket#%(number)s is merged into Ticket#%(target)s.",
            number=number,
            target=target.number,
        ), ticket_url(target.number)

    return run(number, operation)


@bp.post("/<number>/split")
def split(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        new = relations.split(session, a, number, form_int("article_id"))
        message = _(
            "The article is moved from Ticket#%(number)s to the new Ticket#%(new)s.",
            number=number,
            new=new.number,
        )
        return message, ticket_url(new.number)

    return run(number, operation)


@bp.post("/<number>/link")
def link(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        other = request.form.get("other", "")
        relations.link(session, a, number, other, request.form.get("kind", ""))
        return _(
            "Ticket#%(number)s is linked to Ticket#%(other)s.", number=number, other=other.strip()
        ), None

    return run(number, operation)


@bp.post("/<number>/unlink")
def unlink(number: str) -> Response:
    def operation(session: Session, a: Actor) -> tuple[str, str | None]:
        other = relations.unlink(session, a, number, form_int("link_id"))
        return _("The link to Ticket#%(number)s is removed.", number=other.number), None

    return run(number, operation)
