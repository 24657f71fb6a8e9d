"""The JSON API: personal tokens, every endpoint, the scope rules, and its OpenAPI description."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.webapp import admin_support, helpers
from wikibridge import api_tokens
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor
from wikibridge.models import ApiToken, Article, Queue, Volunteer, utcnow
from wikibridge.store import articles, volunteers

SPEC = Path(__file__).resolve().parents[2] / "webapp" / "static" / "openapi.json"


@dataclass
class World:
    mine: Queue  # rw for the volunteer
    readable: Queue  # ro for the volunteer
    other: Queue  # not theirs
    volunteer: Volunteer
    token: str
    ro_number: str
    other_number: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_token(session: Session, v: Volunteer, name: str = "script") -> str:
    secret = api_tokens.create(session, v, name).secret
    session.commit()
    return secret


@pytest.fixture
def world(session: Session) -> World:
    mine = helpers.queue(session, "info-en", "info-en@example.org")
    readable = helpers.queue(session, "press")
    other = helpers.queue(session, "permissions-commons", "permissions@example.org")
    v = helpers.volunteer(session, "Alice")
    volunteers.grant(session, v.id, mine.id, "rw")
    volunteers.grant(session, v.id, readable.id, "ro")
    helpers.ticket(session, mine, "Open one", state="open")
    helpers.ticket(session, mine, "New one")
    ro_number = helpers.ticket(session, readable, "Press question").number
    other_number = helpers.ticket(session, other, "Secret permission").number
    session.commit()
    return World(mine, readable, other, v, make_token(session, v), ro_number, other_number)


# -- tokens ---------------------------------------------------------------------------------


def test_a_token_is_shown_once_stored_as_a_hash_and_revoked(
    client: FlaskClient, session: Session, world: World
) -> None:
    csrf = admin_support.login(client, world.volunteer)
    page = client.post("/api-tokens", data={"csrf_token": csrf, "name": "my bot"})
    assert page.status_code == 200
    match = re.search(r'<code id="new-token">(wbt_[A-Za-z0-9_-]+)</code>', page.get_data(True))
    assert match, "the new token is shown"
    secret = match.group(1)
    stored = session.scalars(select(ApiToken).where(ApiToken.name == "my bot")).one()
    assert stored.token_hash == api_tokens.hash_token(secret) != secret
    session.commit()  # end the test's transaction: SQLite has one writer at a time
    assert secret not in client.get("/api-tokens").get_data(True)  # shown once only
    assert client.get("/api/v1/queues", headers=bearer(secret)).status_code == 200
    session.expire_all()
    assert session.get(ApiToken, stored.id).last_used_at is not None  # type: ignore[union-attr]
    session.commit()

    status, _, listing = admin_support.post(client, f"/api-tokens/{stored.id}/revoke", csrf)
    assert status == 303 and "is revoked" in listing
    response = client.get("/api/v1/queues", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json == {
        "error": {"code": "invalid_token", "message": response.json["error"]["message"]}
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_need_a_name_and_csrf_and_others_cannot_revoke_them(
    client: FlaskClient, session: Session, world: World
) -> None:
    csrf = admin_support.login(client, world.volunteer)
    _, _, page = admin_support.post(client, "/api-tokens", csrf, name="  ")
    assert "Give the token a name" in page
    assert client.post("/api-tokens", data={"name": "x"}).status_code == 400  # no CSRF token
    bob = helpers.volunteer(session, "Bob")
    session.commit()
    bob_csrf = admin_support.login(client, bob)
    token_id = session.scalars(select(ApiToken.id)).first()
    session.commit()
    assert admin_support.post(client, f"/api-tokens/{token_id}/revoke", bob_csrf)[0] == 404
    assert client.get("/api/v1/queues", headers=bearer(world.token)).status_code == 200


def test_unapproved_and_deactivated_volunteers_tokens_do_not_work(
    client: FlaskClient, session: Session, world: World
) -> None:
    newcomer = helpers.volunteer(session, "Newcomer", approved=False)
    session.commit()
    unapproved = make_token(session, newcomer)
    response = client.get("/api/v1/queues", headers=bearer(unapproved))
    assert response.status_code == 403 and response.json["error"]["code"] == "not_approved"
    world.volunteer.active = False
    session.commit()
    assert client.get("/api/v1/queues", headers=bearer(world.token)).status_code == 401


def test_the_login_cookie_is_not_a_token(client: FlaskClient, world: World) -> None:
    helpers.login(client, world.volunteer)
    response = client.get("/api/v1/queues")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


# -- endpoints -----------------------------------------------------------------------------


def test_queues_with_counts(client: FlaskClient, world: World) -> None:
    response = client.get("/api/v1/queues", headers=bearer(world.token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    by_name = {q["name"]: q for q in response.json["queues"]}
    assert set(by_name) == {"info-en", "press"}
    assert by_name["info-en"]["counts"] == {"new": 1, "open": 1, "pending": 0}
    assert by_name["info-en"]["level"] == "rw" and by_name["press"]["level"] == "ro"
    one = client.get(f"/api/v1/queues/{world.mine.id}", headers=bearer(world.token))
    assert one.json == by_name["info-en"]


def test_pagination_walks_every_ticket_once(
    client: FlaskClient, session: Session, world: World
) -> None:
    start = utcnow()
    for i in range(11):  # equal times too: the cursor breaks ties by id
        helpers.ticket(
            session, world.mine, f"T{i}", state="open", updated_at=start - timedelta(hours=i // 2)
        )
    session.commit()
    seen: list[str] = []
    url: str | None = f"/api/v1/queues/{world.mine.id}/tickets?state=all&sort=waiting&limit=4"
    pages = 0
    while url:
        response = client.get(url, headers=bearer(world.token))
        assert response.status_code == 200, response.json
        assert response.json["sort"] == "waiting" and response.json["state"] == "all"
        seen += [t["number"] for t in response.json["tickets"]]
        url = response.json["next"]
        pages += 1
    assert len(seen) == len(set(seen)) == 13
    assert pages == 4
    new_only = client.get(
        f"/api/v1/queues/{world.mine.id}/tickets?state=new", headers=bearer(world.token)
    )
    assert [t["title"] for t in new_only.json["tickets"]] == ["New one"]


@pytest.mark.parametrize(
    "query", ["sort=title", "state=spam", "limit=0", "limit=101", "after=nonsense"]
)
def test_bad_list_parameters_are_400(client: FlaskClient, world: World, query: str) -> None:
    response = client.get(
        f"/api/v1/queues/{world.mine.id}/tickets?{query}", headers=bearer(world.token)
    )
    assert response.status_code == 400
    assert set(response.json["error"]) == {"code", "message"}


def test_a_ticket_with_its_articles_and_attachments(
    client: FlaskClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    world: World,
) -> None:
    raw = helpers.mail(
        "Mill photo",
        text="I release this photo.",
        html="<p>I release <b>this</b> photo.</p><script>alert(1)</script>",
        attachment=("Mill.png", "image/png", b"\x89PNG\r\n\x1a\nnot really"),
    )
    number = Ingestor(settings, session_factory).ingest(raw).ticket_number
    assert number is not None
    response = client.get(f"/api/v1/tickets/{number}", headers=bearer(world.token))
    assert response.status_code == 200
    body = response.json
    assert body["number"] == number and body["queue"]["name"] == "info-en"
    (article,) = body["articles"]
    assert article["kind"] == "inbound" and "I release this photo." in article["text"]
    assert "<" not in json.dumps(article["text"])  # never HTML
    assert "body_html" not in article and "script" not in response.get_data(True)
    (attachment,) = article["attachments"]
    assert attachment["filename"] == "Mill.png" and attachment["content_type"] == "image/png"
    download = client.get(attachment["url"], headers=bearer(world.token))
    assert download.status_code == 200 and download.data.startswith(b"\x89PNG")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(attachment["url"]).status_code == 401


def test_a_note_is_added_with_rw_access(
    client: FlaskClient, session: Session, world: World
) -> None:
    number = helpers.ticket(session, world.mine, "Needs a note").number
    session.commit()
    response = client.post(
        f"/api/v1/tickets/{number}/notes",
        json={"text": "Checked the article history."},
        headers=bearer(world.token),
    )
    assert response.status_code == 201, response.json
    assert response.json["kind"] == "note" and response.json["author"] == "Alice"
    notes = articles.for_ticket(session, _ticket_id(session, number))
    assert [a.body_text for a in notes if a.kind == "note"] == ["Checked the article history."]
    session.commit()
    for bad in ({"text": "   "}, {"note": "x"}, ["x"]):
        refused = client.post(
            f"/api/v1/tickets/{number}/notes", json=bad, headers=bearer(world.token)
        )
        assert refused.status_code in (400, 422), bad


def _ticket_id(session: Session, number: str) -> int:
    from wikibridge.models import Ticket

    return session.scalars(select(Ticket.id).where(Ticket.number == number)).one()


def test_search_within_the_scope(
    client: FlaskClient,
    session_factory: sessionmaker[Session],
    settings: Settings,
    world: World,
) -> None:
    ingestor = Ingestor(settings, session_factory)
    mine = ingestor.ingest(helpers.mail("Windmill", text="The windmill article is wrong."))
    ingestor.ingest(
        helpers.mail("Windmill", to="permissions@example.org", text="A windmill photo.")
    )
    response = client.get("/api/v1/search?q=windmill", headers=bearer(world.token))
    assert response.status_code == 200, response.json
    found = [r["ticket"]["number"] for r in response.json["results"]]
    assert found == [mine.ticket_number]
    assert response.json["total"] == 1
    assert any(piece["match"] for piece in response.json["results"][0]["snippet"])
    assert client.get("/api/v1/search?q=", headers=bearer(world.token)).status_code == 400


# -- refusals ------------------------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/api/v1/queues"),
    ("GET", "/api/v1/queues/{mine}"),
    ("GET", "/api/v1/queues/{mine}/tickets"),
    ("GET", "/api/v1/tickets/{ro_number}"),
    ("GET", "/api/v1/tickets/{ro_number}/attachments/1"),
    ("POST", "/api/v1/tickets/{ro_number}/notes"),
    ("GET", "/api/v1/search?q=question"),
]
OUTSIDE = [
    ("GET", "/api/v1/queues/{other}"),  # its counts
    ("GET", "/api/v1/queues/{other}/tickets"),
    ("GET", "/api/v1/queues/{other}/tickets?state=all&sort=oldest"),
    ("GET", "/api/v1/tickets/{other_number}"),
    ("GET", "/api/v1/tickets/{other_number}/attachments/1"),
    ("POST", "/api/v1/tickets/{other_number}/notes"),
    ("GET", "/api/v1/search?q=permission&queue={other}"),
    ("GET", "/api/v1/queues/999999"),
    ("GET", "/api/v1/tickets/2016060210016939"),
    ("GET", "/api/v1/nothing-here"),
]


def fill(path: str, w: World) -> str:
    return path.format(
        mine=w.mine.id, other=w.other.id, ro_number=w.ro_number, other_number=w.other_number
    )


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer wbt_not-a-token", "Basic YTpi", "Bearer "])
def test_no_or_a_bad_token_is_401(
    client: FlaskClient, world: World, method: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.open(fill(path, world), method=method, json={"text": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.is_json and set(response.json["error"]) == {"code", "message"}


@pytest.mark.parametrize(("method", "path"), OUTSIDE)
def test_outside_the_scope_is_404(
    client: FlaskClient, world: World, method: str, path: str
) -> None:
    response = client.open(
        fill(path, world), method=method, json={"text": "x"}, headers=bearer(world.token)
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_other_queues_never_show_in_lists_counts_or_search(
    client: FlaskClient, world: World
) -> None:
    queues = client.get("/api/v1/queues", headers=bearer(world.token)).get_data(True)
    assert "permissions-commons" not in queues
    found = client.get("/api/v1/search?q=secret", headers=bearer(world.token)).json
    assert found["total"] == 0 and found["results"] == []
    exact = client.get(f"/api/v1/search?q={world.other_number}", headers=bearer(world.token))
    assert exact.json["exact"] is None


def test_notes_need_rw_access(client: FlaskClient, session: Session, world: World) -> None:
    response = client.post(
        f"/api/v1/tickets/{world.ro_number}/notes", json={"text": "x"}, headers=bearer(world.token)
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "read_only"
    assert not session.scalars(select(Article).where(Article.kind == "note")).all()


def test_wrong_method_is_a_json_405(client: FlaskClient, world: World) -> None:
    response = client.delete("/api/v1/queues", headers=bearer(world.token))
    assert response.status_code == 405 and response.is_json


# -- the description -----------------------------------------------------------------------


def test_the_openapi_description_is_valid_and_served(client: FlaskClient) -> None:
    spec = json.loads(SPEC.read_text())
    validate(spec)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    assert response.json == spec


def test_every_api_route_is_described_and_nothing_else(app: Flask) -> None:
    spec = json.loads(SPEC.read_text())
    described = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    routes = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "verify" not in rule.rule
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes == described
