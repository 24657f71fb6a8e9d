"""Builders for web tests: volunteers, queues, tickets, mail, and logging in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from wikibridge.models import Queue, Ticket, Volunteer, utcnow
from wikibridge.store import queues, tickets, volunteers

_next_central_id = iter(range(1000, 10**6))


def volunteer(
    session: Session, name: str = "Alice", *, approved: bool = True, active: bool = True
) -> Volunteer:
    return volunteers.add(
        session,
        Volunteer(
            central_id=next(_next_central_id),
            username=name,
            approved=approved,
            identified=approved,
            active=active,
        ),
    )


def queue(session: Session, name: str, address: str = "", kind: str = "info") -> Queue:
    q = queues.ensure(session, name, kind)
    if address:
        queues.add_address(session, q, address)
    return q


def ticket(
    session: Session,
    q: Queue,
    title: str = "A question",
    *,
    state: str = "new",
    updated_at: datetime | None = None,
    owner: Volunteer | None = None,
) -> Ticket:
    t = tickets.create(
        session,
        number=tickets.next_number(session, "10"),
        title=title,
        queue_id=q.id,
        requester="reader@example.net",
        state=state,
    )
    t.updated_at = updated_at or utcnow()
    t.owner_id = owner.id if owner else None
    session.flush()
    return t


def mail(
    subject: str = "Question about an article",
    *,
    to: str = "info-en@example.org",
    sender: str = "Reader <reader@example.net>",
    text: str = "Hello, the article is wrong.",
    html: str = "",
    attachment: tuple[str, str, bytes] | None = None,
    message_id: str = "",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.net")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        filename, content_type, data = attachment
        maintype, subtype = content_type.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def login(client: FlaskClient, v: Volunteer) -> None:
    """Put a volunteer into the test client's session (as a finished login would)."""
    with client.session_transaction() as sess:
        sess.clear()
        sess["volunteer_id"] = v.id


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@contextmanager
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block (to count them)."""
    seen: list[str] = []

    def note(_c: object, _cur: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = app.extensions["wikibridge"].engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)
