"""Hostile requests to the web app: objects of other queues by id or number (404, never 403),
forged or missing CSRF tokens, open redirects, header injection in reply fields, SQL and
full-text syntax or unknown keys in search, and brute force on the public verify API."""

from __future__ import annotations

import random
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.webapp import helpers
from tests.webapp.test_actions import Site
from webapp import create_app
from webapp.security import safe_next
from wikibridge.config import Settings
from wikibridge.models import Article, Attachment, OutboxJob
from wikibridge.store import articles
from wikibridge.tickets.numbers import format_number


def attach(session: Session, ticket_id: int, name: str) -> Attachment:
    session.flush()
    article = articles.add(
        session,
        Article(ticket_id=ticket_id, kind="inbound", sender="x@example.net", subject=name),
        [Attachment(blob_sha256="0" * 64, filename=name, content_type="text/plain", size=1)],
    )
    return articles.attachments_of_article(session, article.id)[0]


@pytest.fixture
def other(site: Site) -> tuple[str, int, int]:
    """A ticket in press (Bob has no access to it) with an attachment, and one of Bob's own
    tickets' attachments: (press ticket number, its attachment id, Bob's attachment id)."""
    press = helpers.ticket(site.session, site.press, "Confidential press matter")
    theirs = attach(site.session, press.id, "secret.pdf")
    mine = attach(site.session, site.ticket.id, "mine.txt")
    site.session.commit()
    return press.number, theirs.id, mine.id


@pytest.mark.parametrize(
    "path",
    [
        "/tickets/{press}",
        "/tickets/{press}/reply",
        "/tickets/{press}/attachments/{theirs}",
        "/tickets/{mine_ticket}/attachments/{theirs}",  # someone else's file via my ticket
        "/tickets/{press}/attachments/{mine}",
        "/queues/{press_queue}",
    ],
    ids=[
        "ticket",
        "reply-form",
        "attachment",
        "attachment-via-my-ticket",
        "mine-via-theirs",
        "queue",
    ],
)
def test_objects_of_other_queues_are_404_by_id(
    site: Site, other: tuple[str, int, int], path: str
) -> None:
    press, theirs, mine = other
    site.as_(site.bob)
    url = path.format(
        press=press,
        theirs=theirs,
        mine=mine,
        mine_ticket=site.ticket.number,
        press_queue=site.press.id,
    )
    response = site.client.get(url)
    assert response.status_code == 404, url
    assert "Confidential press matter" not in response.get_data(as_text=True)
    assert "secret.pdf" not in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["", "forged-token", "other-session"])
def test_a_post_without_a_valid_csrf_token_changes_nothing(
    site: Site, app: Flask, token: str
) -> None:
    if token == "other-session":
        stranger = app.test_client()
        helpers.login(stranger, site.bob)
        token = helpers.csrf_token(stranger, "/")
    site.as_(site.alice)
    form = {"text": "A note from an attacker's page"}
    if token:
        form["csrf_token"] = token
    response = site.client.post(f"/tickets/{site.ticket.number}/note", data=form)
    assert response.status_code == 400
    kinds = [a.kind for a in articles.for_ticket(site.session, site.ticket.id)]
    assert kinds == ["inbound"]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/%09/evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\r\nSet-Cookie: x=y",
        "///evil.example",
    ],
)
def test_return_urls_stay_on_the_site(site: Site, target: str) -> None:
    assert safe_next(target) in (None, target)
    if safe_next(target) is not None:
        assert target.startswith("/") and not target.startswith("//")
    token = site.as_(site.alice)
    response = site.client.post(
        "/language", data={"csrf_token": token, "language": "de", "next": target}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert urlsplit(location).netloc == "" and "\n" not in location


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", "reader@example.net\r\nBcc: everyone@example.org"),
        ("cc", "a@example.org\nBcc: b@example.org"),
        ("subject", "Hello\rBcc: everyone@example.org"),
        ("subject", "Hello\u2028Bcc: everyone@example.org"),  # Unicode line separator
        ("to", "reader@example.net\u0085Bcc: everyone@example.org"),  # NEL
    ],
    ids=["to-crlf", "cc-lf", "subject-cr", "subject-u2028", "to-nel"],
)
def test_line_breaks_in_reply_fields_are_refused_and_nothing_is_sent(
    site: Site, field: str, value: str
) -> None:
    form = {"to": "reader@example.net", "cc": "", "subject": "Re: q", "body": "Answer."}
    form[field] = value
    response = site.post(site.alice, "reply", state="open", **form)
    assert response.status_code == 400
    assert "Answer." in response.get_data(as_text=True)  # the text is kept
    assert site.session.query(OutboxJob).count() == 0


@pytest.mark.parametrize(
    "query",
    [
        "q=' OR 1=1 --",
        'q="; DROP TABLE tickets; --',
        "q=birth&sort=id; DELETE FROM articles",
        "q=birth&sort=__class__",
        'q=NEAR(birth date) AND * OR "',
        "q=birth&state=closed' OR '1'='1&queue=1 OR 1=1",
        "q=%00%ff%fe",
        "q=birth&page=-1&from=2024-13-45",
    ],
)
def test_search_syntax_and_unknown_keys_neither_fail_nor_leak(
    site: Site, other: tuple[str, int, int], query: str
) -> None:
    site.as_(site.bob)
    response = site.client.get(f"/search?{query}")
    # 404 for a queue id that is not one of yours (or not a number), as for any other.
    assert response.status_code in (200, 400, 404), response.status_code
    page = response.get_data(as_text=True)
    assert "Confidential press matter" not in page
    assert "Traceback" not in page and "sqlalchemy" not in page.lower()
    from tests.webapp import helpers as h  # the database is intact afterwards

    assert h.csrf_token(site.client, "/")
    assert site.session.query(Article).count() >= 3


@pytest.fixture
def limited_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, TESTING=True, VERIFY_LOOKUP_LIMIT=(20, 3600.0))
    yield app
    app.extensions["wikibridge"].engine.dispose()


def test_brute_forcing_the_verify_api_is_rate_limited(limited_app: Flask) -> None:
    """Guessing numbers one after another: after the limit every answer is 429."""
    client = limited_app.test_client()
    rng = random.Random(6)
    from datetime import date

    statuses = [
        client.get(
            f"/api/v1/verify/{format_number(date(2024, 1, 2), '10', rng.randrange(10**5))}"
        ).status_code
        for _ in range(40)
    ]
    assert statuses[:20] == [200] * 20
    assert set(statuses[20:]) == {429}
    refused = client.get("/api/v1/verify/2016060210016939")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
