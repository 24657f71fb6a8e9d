"""A small world for ticket operations: queues, volunteers at each access level, a ticket with
one inbound mail; on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from tests.webapp import helpers
from wikibridge import access
from wikibridge.config import Settings
from wikibridge.models import Article, AuditEvent, Queue, Ticket, Volunteer
from wikibridge.store import articles, audit, queues, volunteers
from wikibridge.tickets.operations import Actor

INBOUND_ID = "question.1@mail.example.net"


@dataclass
class World:
    session: Session
    settings: Settings
    info: Queue
    press: Queue
    secret: Queue
    alice: Volunteer  # rw on info and press
    bob: Volunteer  # rw on info
    carol: Volunteer  # ro on info
    admin: Volunteer  # admin on info
    ticket: Ticket
    inbound: Article

    def actor(self, v: Volunteer) -> Actor:
        return Actor(v.id, v.username, access.scope_for(self.session, v), self.settings)

    def new_ticket(self, queue: Queue | None = None, title: str = "Another question") -> Ticket:
        t = helpers.ticket(self.session, queue or self.info, title)
        add_inbound(self.session, t, f"{t.number}@mail.example.net")
        return t


def add_inbound(session: Session, t: Ticket, message_id: str, subject: str = "") -> Article:
    return articles.add(
        session,
        Article(
            ticket_id=t.id,
            kind="inbound",
            sender="Jane Reader <jane@example.net>",
            sender_address="jane@example.net",
            to="info-en@example.org",
            subject=subject or t.title,
            body_text="Hello, the article about my town is wrong.",
            message_id=message_id,
            references="earlier.0@mail.example.net",
        ),
    )


def events(session: Session, ticket: Ticket, action: str) -> list[AuditEvent]:
    return [e for e in audit.for_ticket(session, ticket.id) if e.action == action]


@pytest.fixture
def world(session: Session, settings: Settings) -> World:
    info = queues.ensure(
        session,
        "info-en",
        "info",
        salutation="Dear {requester},",
        signature="Yours sincerely,\n{volunteer}\nWikipedia information team ({queue})",
    )
    queues.add_address(session, info, "info-en@example.org", "Wikipedia information team")
    press = helpers.queue(session, "press", "press@example.org", kind="press")
    secret = helpers.queue(session, "oversight", "oversight@example.org")
    people = {}
    for name, grants in {
        "Alice": [(info, "rw"), (press, "rw")],
        "Bob": [(info, "rw")],
        "Carol": [(info, "ro")],
        "Admin": [(info, "admin")],
    }.items():
        v = helpers.volunteer(session, name)
        for q, level in grants:
            volunteers.grant(session, v.id, q.id, level)
        people[name] = v
    ticket = helpers.ticket(session, info, "Wrong birth date")
    ticket.requester = "jane@example.net"
    inbound = add_inbound(session, ticket, INBOUND_ID)
    session.commit()
    return World(
        session,
        settings,
        info,
        press,
        secret,
        people["Alice"],
        people["Bob"],
        people["Carol"],
        people["Admin"],
        ticket,
        inbound,
    )
