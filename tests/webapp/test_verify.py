"""The public verification page and API (both databases): facts only, never the mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests import verify_world as vw
from webapp import create_app
from wikibridge.config import Settings
from wikibridge.models import (
    Article,
    AuditEvent,
    OutboxJob,
    Queue,
    Ticket,
    TicketLink,
    WikiAction,
)
from wikibridge.tickets.numbers import format_number

from . import helpers

MISSING = format_number(date(2021, 5, 4), "10", 77777)
REASON = "The photo is not the uploader's own work: Quixotic-Lanternfish-5150."


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> vw.World:
    with session_factory.begin() as s:
        return vw.build(s)


def make_app(settings: Settings, **overrides: Any) -> Iterator[Flask]:
    app = create_app(settings, TESTING=True, **overrides)
    yield app
    app.extensions["wikibridge"].engine.dispose()


@pytest.fixture
def limited_app(settings: Settings) -> Iterator[Flask]:
    yield from make_app(settings, VERIFY_LOOKUP_LIMIT=(3, 3600.0), VERIFY_REVIEW_LIMIT=(1, 3600.0))


def assert_nothing_confidential(text: str) -> None:
    for secret in (*vw.CONFIDENTIAL, REASON, "Quixotic-Lanternfish"):
        assert secret.lower() not in text.lower(), secret


def test_api_facts_for_existing_missing_and_malformed(client: FlaskClient, world: vw.World) -> None:
    answers = {}
    for name, number in [
        ("existing", world.permission_number),
        ("quiet", world.info_number),
        ("missing", MISSING),
        ("malformed", "12345"),
        ("bad digit", MISSING[:-1] + str((int(MISSING[-1]) + 1) % 10)),
    ]:
        response = client.get(f"/api/v1/verify/{number}")
        assert_nothing_confidential(response.get_data(as_text=True))
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        answers[name] = (response.status_code, response.get_json())

    assert {status for status, _ in answers.values()} == {200, 400}
    assert len({frozenset(body) for _, body in answers.values()}) == 1  # one shape
    status, existing = answers["existing"]
    assert (status, existing["exists"], existing["status"]) == (200, True, "open")
    assert existing["queue_kind"] == "permissions"
    assert existing["actions"] == [
        {
            "kind": "permission",
            "wiki": vw.WIKI,
            "page": vw.FILE,
            "revision": vw.REVISION,
            "volunteer": "Alice",
            "time": "2024-03-01T12:00:00Z",
        }
    ]
    assert answers["quiet"][1]["actions"] == [] and answers["quiet"][1]["exists"]
    status, missing = answers["missing"]
    assert (status, missing["valid"], missing["exists"], missing["error"]) == (
        200,
        True,
        False,
        None,
    )
    for name, problem in [
        ("malformed", "malformed ticket number"),
        ("bad digit", "bad check digit"),
    ]:
        status, body = answers[name]
        assert (status, body["valid"], body["problem"]) == (400, False, problem)
        assert problem in body["error"]


def test_a_lookup_is_one_statement(app: Flask, client: FlaskClient, world: vw.World) -> None:
    """The ticket, its queue's kind, its done actions and their volunteers' names come in one
    round trip: public lookups are the busiest requests there are."""
    with helpers.sql_statements(app) as seen:
        response = client.get(f"/api/v1/verify/{world.permission_number}")
    assert response.status_code == 200
    assert [a["volunteer"] for a in response.json["actions"]] == ["Alice"]  # type: ignore[index]
    queries = [statement for statement in seen if statement != "BEGIN"]  # SQLite's own
    assert len(queries) == 1, queries


def test_api_revision_check(client: FlaskClient, world: vw.World) -> None:
    base = f"/api/v1/verify/{world.permission_number}"
    good = client.get(f"{base}?wiki={vw.WIKI}&revision={vw.REVISION}").get_json()
    assert good["revision_check"]["ok"] and good["revision_check"]["editor"] == "Alice"
    other = client.get(f"{base}?wiki={vw.WIKI}&revision={vw.REVISION + 1}").get_json()
    assert not other["revision_check"]["ok"]
    assert "not an edit recorded" in other["revision_check"]["reason"]
    bad = client.get(f"{base}?revision=abc")
    assert bad.status_code == 400 and "revision" in bad.get_json()["error"]
    assert set(bad.get_json()) == set(good)


def test_page_shows_facts_and_nothing_else(client: FlaskClient, world: vw.World) -> None:
    pages = {
        "/verify": 200,
        f"/verify?number={world.permission_number}": 200,
        f"/verify?number={world.permission_number}&wiki={vw.WIKI}&revision={vw.REVISION}": 200,
        f"/verify?number={world.permission_number}&wiki={vw.WIKI}&revision=1": 200,
        f"/verify?number={world.info_number}": 200,
        f"/verify?number={MISSING}": 200,
        "/verify?number=12345": 400,
    }
    bodies = {}
    for path, status in pages.items():
        response = client.get(path)
        assert response.status_code == status, path
        page = response.get_data(as_text=True)
        assert_nothing_confidential(page)
        assert "<script" not in page.lower()
        assert "Content-Security-Policy" in response.headers
        assert response.headers["Cache-Control"] == "private, max-age=60"
        bodies[path] = page
    shown = bodies[f"/verify?number={world.permission_number}"]
    assert "Alice" in shown and str(vw.REVISION) in shown and vw.FILE in shown
    assert "oldid=4242" in shown
    checked = bodies[f"/verify?number={world.permission_number}&wiki={vw.WIKI}&revision=1"]
    assert "Not verified" in checked
    assert "No ticket has this number" in bodies[f"/verify?number={MISSING}"]
    assert "malformed ticket number" in bodies["/verify?number=12345"]


def test_lookups_are_rate_limited_per_client(limited_app: Flask, world: vw.World) -> None:
    client = limited_app.test_client()
    for _ in range(3):
        assert client.get(f"/api/v1/verify/{MISSING}").status_code == 200
    refused = client.get(f"/api/v1/verify/{MISSING}")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Cache-Control"] == "no-store"
    assert "too many requests" in refused.get_json()["error"]
    assert client.get(f"/verify?number={MISSING}").status_code == 429
    other = limited_app.test_client()
    elsewhere = other.get(f"/api/v1/verify/{MISSING}", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 200


def review_form(client: FlaskClient, number: str, **fields: str) -> dict[str, str]:
    token = helpers.csrf_token(client, f"/verify?number={number}")
    form = {"csrf_token": token, "username": "Curious editor", "email": "", "reason": REASON}
    form.update(fields)
    return form


def test_review_request_opens_a_linked_ticket_and_mails_the_volunteer(
    limited_app: Flask, world: vw.World, session_factory: sessionmaker[Session]
) -> None:
    client = limited_app.test_client()
    number = world.permission_number
    without_token = {k: v for k, v in review_form(client, number).items() if k != "csrf_token"}
    assert client.post(f"/verify/{number}/review", data=without_token).status_code == 400

    form = review_form(client, number, email="Editor@Example.org")
    response = client.post(f"/verify/{number}/review", data=form)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "Review requested" in page
    assert_nothing_confidential(page)
    with session_factory() as s:
        link = s.scalars(select(TicketLink).where(TicketLink.kind == "review")).one()
        assert link.target_id == world.permission_ticket_id
        review = s.get(Ticket, link.source_id)
        assert review is not None and review.number in page
        queue = s.get(Queue, review.queue_id)
        assert queue is not None and (queue.name, queue.kind) == ("Review", "review")
        assert review.requester == "editor@example.org"
        first, note, mail = s.scalars(
            select(Article).where(Article.ticket_id == review.id).order_by(Article.id)
        ).all()
        assert (first.kind, first.body_text) == ("inbound", REASON)
        assert note.kind == "note" and number in note.body_text and vw.FILE in note.body_text
        assert mail.kind == "outbound" and mail.to == "alice@volunteers.example"
        assert mail.sender  # the review queue has no address: the system's own is used
        assert REASON in mail.body_text
        job = s.scalars(select(OutboxJob).where(OutboxJob.ticket_id == review.id)).one()
        assert (job.kind, job.payload) == ("send_mail", {"article_id": mail.id})

    # The public page never shows the request; a second one is over the limit.
    shown = client.get(f"/verify?number={number}").get_data(as_text=True)
    assert_nothing_confidential(shown)
    again = client.post(f"/verify/{number}/review", data=form)
    assert again.status_code == 429 and "Retry-After" in again.headers


def test_review_without_volunteer_address_is_audited(
    client: FlaskClient, world: vw.World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as s:
        s.add(
            WikiAction(
                ticket_id=world.info_ticket_id,
                ticket_number=world.info_number,
                volunteer_id=world.volunteers["Infoonly"],
                kind="revert",
                wiki="enwiki",
                page="Some article",
                revision_after=99,
                state="done",
                done_at=vw.EDIT_TIME,
            )
        )
    number = world.info_number
    response = client.post(f"/verify/{number}/review", data=review_form(client, number))
    assert response.status_code == 200
    with session_factory() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "review_volunteer_not_notified")
        ).all()
        assert [e.volunteer_id for e in events] == [world.volunteers["Infoonly"]]
        assert s.scalars(select(OutboxJob)).all() == []


@pytest.mark.parametrize(
    "fields",
    [{"username": ""}, {"reason": "  "}, {"email": "not an address"}, {"username": "A<b>"}],
)
def test_review_refused_for_bad_input(
    client: FlaskClient, world: vw.World, session_factory: sessionmaker[Session], fields: Any
) -> None:
    number = world.permission_number
    response = client.post(f"/verify/{number}/review", data=review_form(client, number, **fields))
    assert response.status_code == 400
    assert 'class="warning"' in response.get_data(as_text=True)
    with session_factory() as s:
        assert s.scalars(select(TicketLink)).all() == []
    form = review_form(client, number)  # the token belongs to the session, not the ticket
    missing = client.post(f"/verify/{MISSING}/review", data=form)
    assert missing.status_code == 400
    assert "no ticket has that number" in missing.get_data(as_text=True)
