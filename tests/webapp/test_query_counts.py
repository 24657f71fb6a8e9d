"""No N+1 queries: the main pages make as many statements for a big world as for a small one.

Each page is fetched once over a small world, then again after the world has grown (more
queues, tickets, articles with attachments, notes by several volunteers, audit history); the
number of SQL statements must not change. A page that loads something per row fails here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from wikibridge.models import Article, Attachment, Queue, Ticket, Volunteer
from wikibridge.store import articles, audit, volunteers

from . import helpers


@dataclass
class World:
    volunteer: Volunteer
    others: list[Volunteer]
    queues: list[Queue]
    ticket: Ticket


def grow(session: Session, world: World, queues: int, tickets: int, articles_each: int) -> None:
    """Add queues (granted to the volunteer), tickets, and articles to the world's ticket."""
    for i in range(queues):
        q = helpers.queue(session, f"queue-{len(world.queues)}-{i}")
        volunteers.grant(session, world.volunteer.id, q.id, "rw")
        world.queues.append(q)
    for i in range(tickets):
        t = helpers.ticket(session, world.queues[i % len(world.queues)], f"Question {i} lighthouse")
        add_article(session, t, f"About the lighthouse, message {i}.", None)
    for i in range(articles_each):
        author = world.others[i % len(world.others)]
        add_article(session, world.ticket, f"Reply {i} about the lighthouse.", author)
        audit.record(session, "note_added", ticket_id=world.ticket.id, volunteer_id=author.id)
    session.commit()


def add_article(session: Session, t: Ticket, body: str, author: Volunteer | None) -> None:
    articles.add(
        session,
        Article(
            ticket_id=t.id,
            kind="note" if author else "inbound",
            subject=t.title,
            body_text=body,
            sender_address="" if author else "reader@example.net",
            author_id=author.id if author else None,
        ),
        [
            Attachment(
                blob_sha256=f"{t.id:032x}{len(body):032x}",
                filename="scan.pdf",
                content_type="application/pdf",
                size=10,
            )
        ],
    )


@pytest.fixture
def world(session: Session) -> World:
    me = helpers.volunteer(session, "Alice")
    others = [helpers.volunteer(session, f"Helper {i}") for i in range(5)]
    q = helpers.queue(session, "info-en")
    volunteers.grant(session, me.id, q.id, "rw")
    for other in others:
        volunteers.grant(session, other.id, q.id, "rw")
    t = helpers.ticket(session, q, "The lighthouse photo", owner=me)
    w = World(me, others, [q], t)
    grow(session, w, queues=1, tickets=2, articles_each=2)
    return w


PAGES = {
    "dashboard": lambda w: "/",
    "queue view": lambda w: f"/queues/{w.queues[0].id}?state=all",
    "ticket view": lambda w: f"/tickets/{w.ticket.number}",
    "search": lambda w: "/search?q=lighthouse",
    "verify API": lambda w: f"/api/v1/verify/{w.ticket.number}",
}


@pytest.mark.parametrize("page", PAGES)
def test_statements_do_not_grow_with_the_world(
    page: str, app: Flask, client: FlaskClient, session: Session, world: World
) -> None:
    helpers.login(client, world.volunteer)
    url = PAGES[page](world)
    client.get(url)  # warm: caches (routing table, translations) fill on the first request
    with helpers.sql_statements(app) as small:
        assert client.get(url).status_code == 200
    grow(session, world, queues=4, tickets=15, articles_each=12)
    with helpers.sql_statements(app) as big:
        response = client.get(url)
    assert response.status_code == 200
    assert len(small) > 0
    assert len(big) == len(small), "\n".join(big)
