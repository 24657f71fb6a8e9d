"""The search page and the header's search box, on both databases."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from wikibridge.models import Article, Queue, Ticket, Volunteer
from wikibridge.store import articles, volunteers

from . import helpers


def new_ticket(session: Session, q: Queue, body: str, title: str = "A question") -> Ticket:
    t = helpers.ticket(session, q, title)
    articles.add(
        session,
        Article(
            ticket_id=t.id,
            kind="inbound",
            subject=title,
            body_text=body,
            sender_address="reader@example.net",
        ),
    )
    return t


@pytest.fixture
def world(session: Session) -> tuple[Volunteer, Queue, Queue]:
    info = helpers.queue(session, "info-en")
    press = helpers.queue(session, "press")
    alice = helpers.volunteer(session, "Alice")
    volunteers.grant(session, alice.id, info.id, "ro")
    session.commit()
    return alice, info, press


def test_results_show_number_title_queue_state_and_a_marked_snippet(
    client: FlaskClient, session: Session, world: tuple[Volunteer, Queue, Queue]
) -> None:
    alice, info, press = world
    t = new_ticket(session, info, "The actor's birth date is wrong.", "Birth date <b>wrong</b>")
    new_ticket(session, press, "An actor interview for the press.", "Press interview")
    session.commit()
    helpers.login(client, alice)

    page = client.get("/search?q=actor").get_data(as_text=True)
    assert t.number in page and "info-en" in page and "new" in page
    assert "Birth date &lt;b&gt;wrong&lt;/b&gt;" in page
    assert "<mark>actor</mark>" in page
    assert "Tickets 1–1 of 1," in page
    assert "Press interview" not in page and "press" not in page.lower().split("<main>")[1]


def test_mail_text_in_snippets_is_escaped(
    client: FlaskClient, session: Session, world: tuple[Volunteer, Queue, Queue]
) -> None:
    alice, info, _press = world
    body = 'x <script>alert(1)</script> needle <img src=x onerror=alert(2)> \ue000odd\ue001 "q"'
    new_ticket(session, info, body)
    session.commit()
    helpers.login(client, alice)
    response = client.get("/search?q=needle")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script" not in page and "<img" not in page
    assert "&lt;img src=x" in page  # shown as text (ts_headline drops the script tags)
    assert "<mark>needle</mark>" in page
    assert "script-src" not in response.headers["Content-Security-Policy"]


def test_queues_outside_the_scope_are_404_and_never_hinted_at(
    client: FlaskClient, session: Session, world: tuple[Volunteer, Queue, Queue]
) -> None:
    alice, info, press = world
    for _ in range(3):
        new_ticket(session, press, "The embargo lifts on Monday.")
    session.commit()
    helpers.login(client, alice)
    assert client.get(f"/search?q=embargo&queue={press.id}").status_code == 404
    assert client.get(f"/search?queue={press.id}").status_code == 404
    assert client.get("/search?q=embargo&queue=x").status_code == 404
    page = client.get("/search?q=embargo").get_data(as_text=True)
    assert "Nothing found in your queues." in page
    options = re.findall(r'<option value="(\d+)"', page)
    assert options == [str(info.id)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type a word or a phrase"),
        ("x", "at least 2 letters"),
        ("%", "Type letters or digits"),
        ("-word", "cannot only exclude"),
        ("a" * 201, "too long"),
    ],
)
def test_empty_and_short_queries_say_why(
    client: FlaskClient, world: tuple[Volunteer, Queue, Queue], query: str, message: str
) -> None:
    helpers.login(client, world[0])
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_syntax_in_the_query_is_harmless(
    client: FlaskClient, session: Session, world: tuple[Volunteer, Queue, Queue]
) -> None:
    alice, info, press = world
    new_ticket(session, info, "secret one")
    hidden = new_ticket(session, press, "secret two")
    session.commit()
    helpers.login(client, alice)
    for query in ('" OR 1=1 --', "secret a*", "NEAR(secret", "secret'", "secret%", "secret OR"):
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 200, query
        assert hidden.number not in response.get_data(as_text=True)


def test_filters_and_pages_keep_the_query(
    client: FlaskClient, session: Session, world: tuple[Volunteer, Queue, Queue]
) -> None:
    alice, info, _press = world
    made = [new_ticket(session, info, f"windmill {i}").number for i in range(30)]
    session.commit()
    helpers.login(client, alice)
    first = client.get(f"/search?q=windmill&queue={info.id}&state=open").get_data(as_text=True)
    assert "Tickets 1–25 of 30" in first
    nxt = re.search(r'rel="next" href="([^"]+)"', first)
    assert nxt is not None
    url = nxt.group(1).replace("&amp;", "&")
    assert "q=windmill" in url and f"queue={info.id}" in url and "page=2" in url
    second = client.get(url).get_data(as_text=True)
    assert "Tickets 26–30 of 30" in second
    shown = set(re.findall(r"/tickets/(\d+)", first + second))
    assert shown == set(made)
    oldest = client.get("/search?q=windmill&sort=oldest").get_data(as_text=True)
    assert re.findall(r"/tickets/(\d+)", oldest)[0] == made[0]
    assert "oldest first" in oldest
    assert "best match first." in client.get("/search?q=windmill&sort=1;--").get_data(as_text=True)
    closed = client.get("/search?q=windmill&state=closed").get_data(as_text=True)
    assert "Nothing found" in closed
    bad_date = client.get("/search?q=windmill&from=yesterday").get_data(as_text=True)
    assert "Write dates as YYYY-MM-DD." in bad_date


def test_the_header_has_a_search_box_and_a_number_finds_its_ticket(
    client: FlaskClient, session: Session, world: tuple[Volunteer, Queue, Queue]
) -> None:
    alice, info, _press = world
    t = new_ticket(session, info, "hello")
    session.commit()
    helpers.login(client, alice)
    assert 'role="search"' in client.get("/").get_data(as_text=True)
    page = client.get(f"/search?q={t.number}").get_data(as_text=True)
    assert f'<a href="/tickets/{t.number}">{t.number}</a>' in page


def test_search_needs_a_login(client: FlaskClient) -> None:
    response = client.get("/search?q=anything")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
