"""Every route of the app, walked from its URL map: an unapproved volunteer and a volunteer
without access to the ticket's queue get the waiting page, the login page, 401 or 404 --
never the confidential ticket, in pages, lists, counts, search, attachments, exports or the API.
A new route is covered without editing this test."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.webapp import helpers
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor
from wikibridge.models import Attachment, Ticket
from wikibridge.store import volunteers

SECRET = "Zephyrine confidential complaint"
# Pages anyone may open, and the login machinery itself.
PUBLIC = re.compile(
    r"^/(static/|login|logout|oauth/|healthz|verify|api/v1/verify|api/v1/openapi\.json|"
    r"volunteers|language|waiting)"
)


def routes(app: Flask) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if PUBLIC.match(rule.rule):
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            out.append((method, rule.rule))
    return sorted(out)


@pytest.fixture
def world(
    app: Flask, session: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> dict[str, object]:
    secret_q = helpers.queue(session, "permissions-commons", "permissions-commons@example.org")
    other_q = helpers.queue(session, "press", "press@example.org")
    newcomer = helpers.volunteer(session, "Newcomer", approved=False)
    outsider = helpers.volunteer(session, "Outsider")
    volunteers.grant(session, newcomer.id, secret_q.id, "rw")  # a grant opens nothing yet
    volunteers.grant(session, outsider.id, other_q.id, "rw")
    session.commit()
    raw = helpers.mail(
        SECRET,
        to="permissions-commons@example.org",
        text=f"{SECRET}: the body names a private person.",
        attachment=("private.png", "image/png", b"\x89PNG\r\n\x1a\nprivate"),
    )
    number = Ingestor(settings, session_factory).ingest(raw).ticket_number
    with session_factory() as s:
        ticket = s.query(Ticket).filter_by(number=number).one()  # noqa: S608 - test lookup
        attachment = s.query(Attachment).first()
        assert attachment is not None
        ids = {"number": number, "queue_id": secret_q.id, "attachment_id": attachment.id}
        del ticket
    return {
        "ids": ids,
        "newcomer": newcomer,
        "outsider": outsider,
        "other_queue": other_q.id,
    }


def url_for_rule(rule: str, ids: dict[str, object]) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[-1]
        return str(ids.get(name, 1))

    return re.sub(r"<([^>]+)>", fill, rule)


def request(client: FlaskClient, method: str, url: str, token: str) -> tuple[int, str, str]:
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token, "text": "x", "body": "x"})
    return (
        response.status_code,
        response.headers.get("Location", ""),
        response.get_data(as_text=True),
    )


def test_unapproved_volunteer_reaches_nothing(
    app: Flask, client: FlaskClient, world: dict[str, object]
) -> None:
    helpers.login(client, world["newcomer"])  # type: ignore[arg-type]
    token = helpers.csrf_token(client, "/waiting")
    seen = []
    for method, rule in routes(app):
        url = url_for_rule(rule, world["ids"])  # type: ignore[arg-type]
        status, location, body = request(client, method, url, token)
        seen.append(rule)
        assert SECRET not in body, (method, url)
        assert status in (302, 401, 403, 404), (method, url, status)
        if status == 302:
            assert location.split("?")[0] in ("/waiting", "/login"), (method, url, location)
    assert "/tickets/<number>" in seen and "/api/v1/search" in seen and "/stats.csv" in seen


def test_volunteer_without_access_to_the_queue_sees_nothing_of_it(
    app: Flask, client: FlaskClient, world: dict[str, object]
) -> None:
    helpers.login(client, world["outsider"])  # type: ignore[arg-type]
    token = helpers.csrf_token(client, "/")
    ids: dict[str, object] = world["ids"]  # type: ignore[assignment]
    for method, rule in routes(app):
        url = url_for_rule(rule, ids)
        status, _, body = request(client, method, url, token)
        assert SECRET not in body, (method, url)
        assert "private.png" not in body, (method, url)
        names_the_object = any(f"<{k}>" in rule or f":{k}>" in rule for k in ids)
        if rule.startswith("/api/"):
            assert status == 401, (method, url, status)  # the API takes tokens, not cookies
        elif names_the_object and not rule.startswith("/admin/"):
            assert status == 404, (method, url, status)
        else:
            assert status in (200, 302, 303, 400, 404), (method, url, status)
    # Lists, counts and search that the outsider may open show nothing of the queue.
    for url in (
        "/",
        "/search?q=Zephyrine",
        "/stats",
        "/stats.csv",
        f"/queues/{world['other_queue']}",
    ):
        page = client.get(url).get_data(as_text=True)
        assert "permissions-commons" not in page and "Zephyrine" not in page.replace(
            "q=Zephyrine", ""
        ).replace('value="Zephyrine"', ""), url
