"""Fixtures for the outbox: a ticket with a queued reply, and a worker pointed at a test server."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tests.smtpserver import smtp_server, tls_files  # noqa: F401
from wikibridge.config import Settings, SmtpSettings
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.worker import Backoff, Worker
from wikibridge.models import Article
from wikibridge.store import articles, queues, tickets
from wikibridge.tickets.outbound import queue_outbound

REQUESTER = "jane@example.net"
INBOUND_ID = "question.1@mail.example.net"
EARLIER_ID = "earlier.0@mail.example.net"


@dataclass(frozen=True)
class Reply:
    ticket_id: int
    number: str
    article_id: int
    message_id: str


def queue_reply(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    body: str = "Thank you, the permission is in order.",
    to: str = REQUESTER,
) -> Reply:
    """A ticket in a queue with an address, salutation and signature, and a reply queued."""
    with session_factory.begin() as session:
        queue = queues.by_name(session, "permissions-commons")
        if queue is None:
            queue = queues.ensure(
                session,
                "permissions-commons",
                kind="permissions",
                salutation="Dear requester,",
                signature="-- \nWikimedia Commons Volunteer Response Team",
            )
            queues.add_address(session, queue, "permissions@example.org", "Wikimedia Commons")
        number = tickets.next_number(session, settings.system_id)
        ticket = tickets.create(
            session,
            number=number,
            title="Photo of the town hall",
            queue_id=queue.id,
            requester=to,
        )
        inbound = articles.add(
            session,
            Article(
                ticket_id=ticket.id,
                kind="inbound",
                sender=to,
                sender_address=to,
                to="permissions@example.org",
                subject="Photo of the town hall",
                body_text="I took this photo and release it under CC BY-SA 4.0.",
                message_id=INBOUND_ID,
                references=EARLIER_ID,
            ),
        )
        reply = queue_outbound(
            session,
            settings,
            ticket,
            to=[to],
            body=body,
            subject="Re: Photo of the town hall",
            reply_to=inbound,
        )
        return Reply(ticket.id, number, reply.id, reply.message_id)


def with_smtp(settings: Settings, port: int, **kw: object) -> Settings:
    values: dict[str, object] = {"host": "127.0.0.1", "port": port, "timeout": 5.0}
    values.update(kw)
    return dataclasses.replace(settings, smtp=SmtpSettings(**values))  # type: ignore[arg-type]


def make_worker(
    settings: Settings, session_factory: sessionmaker[Session], port: int, **kw: object
) -> Worker:
    """A worker with tiny retry delays, sending to 127.0.0.1:`port`."""
    ssl_context = kw.pop("ssl_context", None)
    smtp_kw = kw.pop("smtp", {})
    context = JobContext(
        with_smtp(settings, port, **smtp_kw),  # type: ignore[arg-type]
        session_factory,
        smtp_ssl_context=ssl_context,  # type: ignore[arg-type]
    )
    kw.setdefault("backoff", Backoff(base=0.001, cap=0.01))
    return Worker(context, **kw)  # type: ignore[arg-type]
