"""Review requests: an editor (no login) disputes the on-wiki actions of a ticket.

The request becomes a new ticket in the review queue (kind "review", its name from the
settings, created when missing), linked to the original ticket. Its first article is the
editor's own words; an internal note lists the disputed actions. Every volunteer who made one
of the ticket's done actions is told by e-mail through the outbox when they have an address;
otherwise an audit event records that they could not be told. Nothing of the original ticket's
mail is copied anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge.config import Settings
from wikibridge.models import Article, Ticket, Volunteer
from wikibridge.store import articles, audit, links, queues, tickets
from wikibridge.store import verify as verify_store
from wikibridge.tickets.numbers import is_valid
from wikibridge.tickets.outbound import queue_outbound

REVIEW_KIND = "review"
MAX_REASON = 5000
# MediaWiki's longest user name, and the characters it never allows in one.
MAX_USERNAME = 85
_BAD_USERNAME = re.compile(r"[\[\]{}|<>#@:/\\\x00-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")


class ReviewRefused(ValueError):
    """The request cannot be taken; the message says why, for the editor."""


@dataclass(frozen=True)
class ReviewRequest:
    number: str  # the ticket whose actions are disputed
    username: str  # the editor's wiki user name
    email: str  # optional contact address
    reason: str  # the editor's own words


def checked(number: str, username: str, email: str, reason: str) -> ReviewRequest:
    """The request with its fields trimmed, or :class:`ReviewRefused`."""
    username = " ".join(username.replace("_", " ").split())
    email = email.strip().lower()
    reason = reason.strip().replace("\r\n", "\n")
    if not is_valid(number):
        raise ReviewRefused("that is not a valid ticket number")
    if not username or len(username) > MAX_USERNAME or _BAD_USERNAME.search(username):
        raise ReviewRefused("give your wiki user name")
    if email and (len(email) > 320 or not _EMAIL.fullmatch(email)):
        raise ReviewRefused("the e-mail address does not look right; leave it empty if you like")
    if not reason:
        raise ReviewRefused("say what should be reviewed, and why")
    if len(reason) > MAX_REASON:
        raise ReviewRefused(f"please keep the reason under {MAX_REASON} characters")
    return ReviewRequest(number, username[:1].upper() + username[1:], email, reason)


def request_review(session: Session, settings: Settings, request: ReviewRequest) -> Ticket:
    """Open the review ticket in the caller's transaction (the caller commits)."""
    original = tickets.by_number(session, request.number)
    if original is None or original.removed_at is not None:
        raise ReviewRefused("no ticket has that number")
    queue = queues.ensure(session, settings.mail.review_queue, REVIEW_KIND)
    title = f"Review request: actions of ticket {original.number}"
    review = tickets.create(
        session,
        number=tickets.next_number(session, settings.system_id),
        title=title,
        queue_id=queue.id,
        requester=request.email,
    )
    links.add(session, review.id, original.id, REVIEW_KIND)
    sender = f"{request.username} <{request.email}>" if request.email else request.username
    articles.add(
        session,
        Article(
            ticket_id=review.id,
            kind="inbound",
            sender=sender[:1000],
            sender_address=request.email,
            subject=title,
            body_text=request.reason,
        ),
    )
    actions = verify_store.done_actions(session, original.id)
    lines = [
        f"- {a.kind} on {a.wiki}: {a.page}"
        + (f", revision {a.revision_after}" if a.revision_after else "")
        for a in actions
    ]
    note = (
        f"Review requested on the public verification page by wiki user {request.username} "
        f"({'contact: ' + request.email if request.email else 'no e-mail address given'}).\n"
        f"Original ticket: {original.number}.\n"
        + ("Recorded actions:\n" + "\n".join(lines) if lines else "No actions are recorded.")
    )
    articles.add(
        session, Article(ticket_id=review.id, kind="note", subject="Review request", body_text=note)
    )
    audit.record(
        session,
        "review_requested",
        ticket_id=review.id,
        original=original.number,
        username=request.username,
    )
    audit.record(session, "review_requested", ticket_id=original.id, review=review.number)
    _notify(session, settings, review, original, request, {a.volunteer_id for a in actions})
    return review


def _notify(
    session: Session,
    settings: Settings,
    review: Ticket,
    original: Ticket,
    request: ReviewRequest,
    volunteer_ids: set[int | None],
) -> None:
    for volunteer_id in sorted(v for v in volunteer_ids if v is not None):
        volunteer = session.get(Volunteer, volunteer_id)
        if volunteer is None:
            continue
        if not volunteer.email:
            audit.record(
                session,
                "review_volunteer_not_notified",
                ticket_id=review.id,
                volunteer_id=volunteer_id,
                why="no e-mail address",
            )
            continue
        body = (
            f"Hello {volunteer.username},\n\n"
            f"wiki user {request.username} asked for a review of the on-wiki actions of ticket "
            f"{original.number}, which include yours. The request is ticket {review.number} "
            f"in the {settings.mail.review_queue} queue. In their words:\n\n"
            f"{request.reason}\n"
        )
        article = queue_outbound(
            session,
            settings,
            review,
            to=[volunteer.email],
            body=body,
            subject=f"Review requested: your actions on ticket {original.number}",
        )
        if not article.sender:
            article.sender = _fallback_sender(settings)
        audit.record(
            session,
            "review_volunteer_notified",
            ticket_id=review.id,
            volunteer_id=volunteer_id,
            article_id=article.id,
        )


def _fallback_sender(settings: Settings) -> str:
    """The From of a queue without addresses: the system's own address."""
    if settings.mail.system_addresses:
        return settings.mail.system_addresses[0]
    return f"wikibridge@{settings.mail.domain}"
