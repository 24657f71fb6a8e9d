"""Everything the ticket page shows, gathered in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wikibridge import access
from wikibridge.access import Scope
from wikibridge.models import Article, Attachment, AuditEvent, Queue, Ticket
from wikibridge.store import articles, audit, tickets, volunteers

from .relations import LinkView, links_of

# What each article flag means, for the warning shown next to the article.
FLAG_TEXT = {
    "sender_not_participant": "The sender is not a participant of this ticket.",
    "cites_other_ticket": "The subject cites another ticket's number, but the sender is not "
    "part of that ticket: kept in a ticket of its own (merge it if it belongs there).",
    "message_id_conflict": "Another message with the same Message-ID was stored before.",
    "auto_submitted": "Sent automatically (auto-reply, list or bulk mail).",
    "bounce": "A delivery failure notice (bounce).",
    "spam": "Marked as spam by the mail filter.",
    "from_system": "Sent from one of the system's own addresses.",
    "parse_defects": "The message was malformed; some parts may be shown imperfectly.",
    "auto_reply": "Sent automatically by this system.",
}


@dataclass(frozen=True)
class ArticleView:
    article: Article
    attachments: list[Attachment]
    author: str

    @property
    def is_note(self) -> bool:
        return self.article.kind == "note"

    @property
    def warnings(self) -> list[str]:
        return [FLAG_TEXT.get(flag, flag) for flag in self.article.flags or []]


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    queue: Queue
    level: str
    owner: str
    articles: list[ArticleView]
    history: list[tuple[AuditEvent, str]]
    merged_into: Ticket | None
    # The tickets merged into this one, and its links, as far as the scope covers them.
    merged_from: list[Ticket]
    links: list[LinkView]


def ticket_detail(session: Session, scope: Scope, number: str) -> TicketDetail | None:
    """The ticket, oldest article first, with attachments and audit history; None if not visible."""
    ticket = access.ticket(session, scope, number)
    if ticket is None:
        return None
    queue = session.get(Queue, ticket.queue_id)
    assert queue is not None
    rows = articles.for_ticket(session, ticket.id)
    by_article: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in articles.attachments_for_ticket(session, ticket.id):
        by_article[attachment.article_id].append(attachment)
    events = audit.for_ticket(session, ticket.id)
    names = volunteers.usernames(
        session,
        [ticket.owner_id, *(a.author_id for a in rows), *(e.volunteer_id for e in events)],
    )
    merged_into = None
    if ticket.merged_into_id is not None:
        target = tickets.final_ticket(session, ticket)
        merged_into = target if scope.can_see(target.queue_id) else None
    return TicketDetail(
        ticket=ticket,
        queue=queue,
        level=scope.levels[queue.id],
        owner=names.get(ticket.owner_id, "") if ticket.owner_id else "",
        articles=[
            ArticleView(a, by_article.get(a.id, []), names.get(a.author_id or 0, "")) for a in rows
        ],
        history=[(e, names.get(e.volunteer_id or 0, "")) for e in events],
        merged_into=merged_into,
        merged_from=[
            t for t in tickets.merged_into(session, ticket.id) if scope.can_see(t.queue_id)
        ],
        links=links_of(session, scope, ticket),
    )
