"""Outbound mail from a ticket: an article now, the SMTP send later through the outbox.

The article holds the message text exactly as it is sent (salutation and signature included),
so the ticket shows what the requester received and the worker adds nothing.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from wikibridge.config import Settings
from wikibridge.models import Article, Attachment, Queue, Ticket
from wikibridge.store import articles, audit, jobs, queues
from wikibridge.tickets import texts
from wikibridge.tickets.numbers import subject_with_hook

SEND_MAIL = "send_mail"


def new_message_id(ticket_number: str, domain: str) -> str:
    return f"{ticket_number}.{uuid.uuid4().hex}@{domain}"


def queue_sender(session: Session, queue: Queue) -> str:
    """The From of mail sent from a queue: its first address, with its display name.

    A queue without an address sends from the nearest queue above it that has one
    ("info-en::Wikipedia" answers as info-en).
    """
    current: Queue | None = queue
    seen: set[int] = set()
    while current is not None and current.id not in seen and len(seen) < 20:
        seen.add(current.id)
        addresses = queues.addresses_of(session, current.id)
        if addresses:
            first = addresses[0]
            if first.display_name:
                return f"{first.display_name} <{first.address}>"
            return first.address
        current = session.get(Queue, current.parent_id) if current.parent_id else None
    return ""


def queue_outbound(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    *,
    to: list[str],
    body: str,
    subject: str = "",
    cc: list[str] | None = None,
    reply_to: Article | None = None,
    author_id: int | None = None,
    auto: bool = False,
    complete: bool = False,
    volunteer: str = "",
    attachments: list[Attachment] | None = None,
) -> Article:
    """Record an outbound article and enqueue its sending in the caller's transaction.

    The body is put between the queue's salutation and signature, unless it is `complete`
    (a volunteer's reply, written from them in the form). `attachments` are rows for blobs
    already in the content store; the worker attaches their files.
    """
    queue = session.get(Queue, ticket.queue_id)
    assert queue is not None
    if not complete:
        body = texts.wrap(body, ticket, queue, volunteer)
    references = ""
    in_reply_to = ""
    if reply_to is not None and reply_to.message_id:
        in_reply_to = reply_to.message_id
        references = " ".join(filter(None, [reply_to.references, reply_to.message_id]))
    flags = ["auto_reply"] if auto else []
    article = articles.add(
        session,
        Article(
            ticket_id=ticket.id,
            kind="outbound",
            sender=queue_sender(session, queue),
            to=", ".join(to),
            cc=", ".join(cc or []),
            subject=subject_with_hook(ticket.number, subject or ticket.title),
            body_text=body,
            message_id=new_message_id(ticket.number, settings.mail.domain),
            in_reply_to=in_reply_to,
            references=references,
            author_id=author_id,
            flags=flags,
        ),
        attachments,
    )
    jobs.enqueue(session, SEND_MAIL, {"article_id": article.id}, ticket_id=ticket.id)
    audit.record(
        session,
        "mail_queued",
        ticket_id=ticket.id,
        volunteer_id=author_id,
        article_id=article.id,
        auto=auto,
        attachments=len(attachments or []),
    )
    return article
