"""Dashboard, queue pages and ticket pages: what a volunteer sees, and only that."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from wikibridge import access
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor
from wikibridge.models import Article, utcnow
from wikibridge.store import articles, volunteers
from wikibridge.tickets import listing

from . import helpers

_ROW = re.compile(
    r'<a href="/queues/\d+">([^<]+)</a></td>\s*'
    r'<td class="num" data-bucket="new">(\d+)</td>'
    r'<td class="num" data-bucket="open">(\d+)</td>'
    r'<td class="num" data-bucket="pending">(\d+)</td>'
)


def test_dashboard_counts_visible_queues_only(client: FlaskClient, session: Session) -> None:
    info = helpers.queue(session, "info-en")
    sub = helpers.queue(session, "info-en::Wikipedia")
    press = helpers.queue(session, "press")
    alice = helpers.volunteer(session, "Alice")
    volunteers.grant(session, alice.id, info.id, "ro")
    for state in ("new", "new", "open", "pending reminder", "closed successful"):
        helpers.ticket(session, info, state=state)
    for state in ("new", "pending auto close+", "pending auto close-", "merged"):
        helpers.ticket(session, sub, state=state)
    helpers.ticket(session, press, "Press secret", state="new")
    mine = helpers.ticket(session, sub, "Mine", state="open", owner=alice)
    session.commit()

    helpers.login(client, alice)
    page = client.get("/").get_data(as_text=True)
    rows = {name: tuple(map(int, counts)) for name, *counts in _ROW.findall(page)}
    assert rows == {"info-en": (2, 1, 1), "info-en::Wikipedia": (1, 1, 2)}
    assert "press" not in page
    assert mine.number in page  # the tickets they own


def test_dashboard_counts_in_one_query(session: Session) -> None:
    queues = [helpers.queue(session, f"q{i}") for i in range(5)]
    v = helpers.volunteer(session)
    for q in queues:
        volunteers.grant(session, v.id, q.id, "rw")
        helpers.ticket(session, q)
    session.commit()
    scope = access.scope_for(session, v)
    statements: list[str] = []

    def note(_c: object, _cur: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", note)
    try:
        summary = listing.dashboard(session, scope)
    finally:
        event.remove(bind, "before_cursor_execute", note)
    assert [s.counts["new"] for s in summary] == [1] * 5
    # The counts the database keeps, in one query; the tickets themselves are not counted.
    assert len([s for s in statements if "FROM ticket_count_deltas" in s]) == 1
    assert not [s for s in statements if "FROM tickets" in s and "count(" in s.lower()]


def test_queue_pages_show_every_ticket_once_in_order(client: FlaskClient, session: Session) -> None:
    q = helpers.queue(session, "info-en")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, q.id, "rw")
    base = utcnow() - timedelta(days=1)
    made = [
        # Three tickets share each timestamp: the id breaks the tie.
        helpers.ticket(session, q, f"Ticket {i}", updated_at=base + timedelta(minutes=i // 3))
        for i in range(60)
    ]
    helpers.ticket(session, q, "Closed one", state="closed successful")
    session.commit()
    expected = [t.number for t in sorted(made, key=lambda t: (t.updated_at, t.id), reverse=True)]

    helpers.login(client, v)
    seen: list[str] = []
    url: str | None = f"/queues/{q.id}"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        seen += re.findall(r'href="/tickets/(\d+)"', page)
        nxt = re.search(r'<a rel="next" href="([^"]+)"', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
        pages += 1
    assert seen == expected
    assert pages == 3  # 25 + 25 + 10

    oldest_first = client.get(f"/queues/{q.id}?sort=waiting&state=open").get_data(as_text=True)
    assert re.findall(r'href="/tickets/(\d+)"', oldest_first) == list(reversed(expected))[:25]
    closed = client.get(f"/queues/{q.id}?state=closed").get_data(as_text=True)
    assert "Closed one" in closed and "Ticket 0" not in closed


def test_queue_page_ignores_unknown_orders_and_rejects_broken_cursors(
    client: FlaskClient, session: Session
) -> None:
    q = helpers.queue(session, "info-en")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, q.id, "rw")
    helpers.ticket(session, q, "Only one")
    session.commit()
    helpers.login(client, v)
    response = client.get(f"/queues/{q.id}?sort=title;DROP TABLE tickets&state=nonsense")
    assert response.status_code == 200 and "Only one" in response.get_data(as_text=True)
    assert client.get(f"/queues/{q.id}?after=garbage").status_code == 400


def test_queue_of_someone_else_is_404(client: FlaskClient, session: Session) -> None:
    mine = helpers.queue(session, "info-en")
    other = helpers.queue(session, "press")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, mine.id, "ro")
    session.commit()
    helpers.login(client, v)
    assert client.get(f"/queues/{other.id}").status_code == 404
    assert client.get("/queues/999999").status_code == 404


def test_ticket_page_and_attachment_only_for_the_queue(
    client: FlaskClient,
    session: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    perms = helpers.queue(session, "permissions-commons", "permissions-commons@example.org")
    press = helpers.queue(session, "press", "press@example.org")
    insider = helpers.volunteer(session, "Insider")
    outsider = helpers.volunteer(session, "Outsider")
    volunteers.grant(session, insider.id, perms.id, "ro")
    volunteers.grant(session, outsider.id, press.id, "rw")
    session.commit()
    ingestor = Ingestor(settings, session_factory)
    raw = helpers.mail(
        "Permission for File:Mill.png",
        to="permissions-commons@example.org",
        text="I release this photo under CC BY-SA 4.0.",
        attachment=("Mill.png", "image/png", b"\x89PNG\r\n\x1a\nnot really"),
    )
    number = ingestor.ingest(raw).ticket_number
    other_number = ingestor.ingest(helpers.mail("Press", to="press@example.org")).ticket_number
    detail = access.ticket(session, access.scope_for(session, insider), number)
    assert detail is not None
    note = articles.add(
        session, Article(ticket_id=detail.id, kind="note", body_text="Checked the EXIF data.")
    )
    session.commit()
    attachment_id = articles.attachments_for_ticket(session, detail.id)[0].id

    helpers.login(client, insider)
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "I release this photo under CC BY-SA 4.0." in page
    assert "Internal note" in page and f'id="article-{note.id}"' in page
    assert page.index("I release this photo") < page.index("Checked the EXIF data.")
    assert "Mill.png" in page
    assert "ticket created" in page  # the audit history
    download = client.get(f"/tickets/{number}/attachments/{attachment_id}")
    assert download.status_code == 200
    assert download.data == b"\x89PNG\r\n\x1a\nnot really"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["Cache-Control"] == "private, no-store"
    # The attachment is reached only through its own ticket.
    assert client.get(f"/tickets/{other_number}/attachments/{attachment_id}").status_code == 404
    assert client.get(f"/tickets/{other_number}").status_code == 404

    helpers.login(client, outsider)
    assert client.get(f"/tickets/{number}").status_code == 404
    assert client.get(f"/tickets/{number}/attachments/{attachment_id}").status_code == 404
    assert client.get(f"/tickets/{other_number}").status_code == 200
    assert client.get("/tickets/2016060210016939").status_code == 404
    assert client.get("/tickets/not-a-number").status_code == 404


def test_ticket_in_a_sub_queue_is_visible_through_the_parent(
    client: FlaskClient, session: Session
) -> None:
    parent = helpers.queue(session, "info-en")
    child = helpers.queue(session, "info-en::Wikipedia")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, parent.id, "ro")
    t = helpers.ticket(session, child, "About an article")
    session.commit()
    helpers.login(client, v)
    assert "About an article" in client.get(f"/tickets/{t.number}").get_data(as_text=True)


def test_article_flags_are_shown(
    client: FlaskClient,
    session: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    q = helpers.queue(session, "info-en", "info-en@example.org")
    v = helpers.volunteer(session)
    volunteers.grant(session, v.id, q.id, "rw")
    session.commit()
    ingestor = Ingestor(settings, session_factory)
    number = ingestor.ingest(helpers.mail("Complaint")).ticket_number
    stranger = ingestor.ingest(
        helpers.mail(f"Re: [Ticket#{number}] Complaint", sender="stranger@elsewhere.example")
    )
    helpers.login(client, v)
    page = client.get(f"/tickets/{stranger.ticket_number}").get_data(as_text=True)
    assert "The subject cites another ticket&#39;s number" in page
