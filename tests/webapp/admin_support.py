"""A small world for admin tests: a global admin, a queue admin, a volunteer, two queue trees."""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from wikibridge.models import CannedResponse, NewsItem, Queue, RoutingRule, Volunteer
from wikibridge.store import admin_content, admin_queues, volunteers

from . import helpers


@dataclass
class World:
    admin: Volunteer  # global admin
    queue_admin: Volunteer  # admin of info-en (and so of info-en::Wikipedia)
    volunteer: Volunteer  # rw on info-en
    newcomer: Volunteer  # not approved yet
    info: Queue
    sub: Queue
    press: Queue
    rule: RoutingRule
    canned: CannedResponse
    news: NewsItem
    address_id: int


def world(session: Session) -> World:
    info = helpers.queue(session, "info-en", "info-en@example.org")
    sub = helpers.queue(session, "info-en::Wikipedia")
    press = helpers.queue(session, "press", "press@example.org")
    admin = helpers.volunteer(session, "Admiral")
    admin.is_admin = True
    queue_admin = helpers.volunteer(session, "Keeper")
    volunteer = helpers.volunteer(session, "Alice")
    newcomer = helpers.volunteer(session, "Newcomer", approved=False)
    volunteers.grant(session, queue_admin.id, info.id, "admin")
    volunteers.grant(session, volunteer.id, info.id, "rw")
    rule = admin_queues.add_rule(
        session, RoutingRule(name="Press", field="subject", pattern=r"\bpress\b", queue_id=press.id)
    )
    canned = CannedResponse(queue_id=info.id, name="Thanks", subject="Re", body="Thank you")
    news = NewsItem(title="Welcome", body="Hello", published=True)
    admin_content.add(session, canned)
    admin_content.add(session, news)
    address_id = info.addresses[0].id
    session.commit()
    return World(
        admin, queue_admin, volunteer, newcomer, info, sub, press, rule, canned, news, address_id
    )


def login(client: FlaskClient, v: Volunteer) -> str:
    """Log in and return a CSRF token for the session."""
    helpers.login(client, v)
    return helpers.csrf_token(client, "/preferences")


def post(client: FlaskClient, path: str, token: str, **data: str) -> tuple[int, str, str]:
    """POST a form; (status, Location, the page it leads to)."""
    response = client.post(path, data={"csrf_token": token, **data})
    location = response.headers.get("Location", "")
    if response.status_code in (302, 303):
        return response.status_code, location, client.get(location).get_data(as_text=True)
    return response.status_code, location, response.get_data(as_text=True)
