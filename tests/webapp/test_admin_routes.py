"""Every admin URL: 404 for volunteers who administer nothing, CSRF on every POST, the gate
between queue admins and global admins, and the security headers on every admin page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from webapp.security import CSP

from ..admin_audit import reload
from . import admin_support
from .test_security import parse

# (method, rule, open to a queue admin of info-en). Checked against the app's URL map below.
ROUTES = [
    ("GET", "/admin/", True),
    ("GET", "/admin/volunteers", True),
    ("GET", "/admin/volunteers/<int:volunteer_id>", True),
    ("POST", "/admin/volunteers/<int:volunteer_id>/approve", False),
    ("POST", "/admin/volunteers/<int:volunteer_id>/deactivate", False),
    ("POST", "/admin/volunteers/<int:volunteer_id>/reactivate", False),
    ("POST", "/admin/volunteers/<int:volunteer_id>/grant", True),
    ("POST", "/admin/volunteers/<int:volunteer_id>/revoke", True),
    ("GET", "/admin/access", True),
    ("GET", "/admin/queues", True),
    ("GET", "/admin/queues/new", True),
    ("POST", "/admin/queues/new", True),
    ("GET", "/admin/queues/<int:queue_id>", True),
    ("POST", "/admin/queues/<int:queue_id>", True),
    ("POST", "/admin/queues/<int:queue_id>/rename", True),
    ("POST", "/admin/queues/<int:queue_id>/addresses", False),
    ("POST", "/admin/queues/<int:queue_id>/addresses/<int:address_id>/remove", False),
    ("GET", "/admin/rules", False),
    ("GET", "/admin/rules/new", False),
    ("POST", "/admin/rules/new", False),
    ("GET", "/admin/rules/<int:rule_id>", False),
    ("POST", "/admin/rules/<int:rule_id>", False),
    ("POST", "/admin/rules/<int:rule_id>/move", False),
    ("POST", "/admin/rules/<int:rule_id>/enabled", False),
    ("GET", "/admin/rules/preview", False),
    ("POST", "/admin/rules/preview", False),
    ("GET", "/admin/canned", True),
    ("GET", "/admin/canned/new", True),
    ("POST", "/admin/canned/new", True),
    ("GET", "/admin/canned/<int:canned_id>", True),
    ("POST", "/admin/canned/<int:canned_id>", True),
    ("POST", "/admin/canned/<int:canned_id>/delete", True),
    ("GET", "/admin/news", False),
    ("GET", "/admin/news/new", False),
    ("POST", "/admin/news/new", False),
    ("GET", "/admin/news/<int:news_id>", False),
    ("POST", "/admin/news/<int:news_id>", False),
]
_PARAM = re.compile(r"<(?:int:)?(\w+)>")


def url(rule: str, w: admin_support.World, queue_id: int | None = None) -> str:
    ids = {
        "volunteer_id": w.volunteer.id,
        "queue_id": queue_id or w.info.id,
        "address_id": w.address_id,
        "rule_id": w.rule.id,
        "canned_id": w.canned.id,
        "news_id": w.news.id,
    }
    return _PARAM.sub(lambda m: str(ids[m.group(1)]), rule)


def form(w: admin_support.World, token: str) -> dict[str, str]:
    """Enough of every admin form that the request reaches its decision."""
    queue = str(w.info.id)
    return {"csrf_token": token, "queue_id": queue, "parent_id": queue, "level": "admin"}


def test_the_list_names_every_admin_route(app: Flask) -> None:
    found = {
        (method, r.rule)
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("admin.")
        for method in r.methods or ()
        if method in ("GET", "POST")
    }
    assert found == {(method, rule) for method, rule, _ in ROUTES}


@pytest.mark.parametrize(("method", "rule"), [(m, r) for m, r, _ in ROUTES])
def test_volunteers_who_administer_nothing_get_404(
    client: FlaskClient, session: Session, method: str, rule: str
) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.volunteer)  # rw on info-en, admin of nothing
    path = url(rule, w)
    response = client.open(path, method=method, data=form(w, token))
    assert response.status_code == 404, path
    assert "nothing you have access to" in response.get_data(as_text=True)


def test_the_same_urls_exist_for_a_global_admin(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.admin)
    for method, rule, _ in ROUTES:
        path = url(rule, w)
        response = client.open(path, method=method, data=form(w, token))
        assert response.status_code in (200, 303, 400), (method, path)
        if method == "GET":
            _check_page(response)


def test_queue_admins_get_404_on_global_pages_and_other_queues(
    client: FlaskClient, session: Session
) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.queue_admin)
    for method, rule, open_to_them in ROUTES:
        response = client.open(url(rule, w), method=method, data=form(w, token))
        if open_to_them:
            assert response.status_code != 404, (method, rule)
        else:
            assert response.status_code == 404, (method, rule)
    for method, rule, _ in ROUTES:
        if "<int:queue_id>" in rule:
            response = client.open(url(rule, w, w.press.id), method=method, data=form(w, token))
            assert response.status_code == 404, (method, rule)


def test_admin_pages_need_a_login(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    for method, rule, _ in ROUTES:
        if method == "GET":
            response = client.get(url(rule, w))
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/login?next=/admin/")


def test_every_admin_post_needs_the_csrf_token(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    admin_support.login(client, w.admin)
    for method, rule, _ in ROUTES:
        if method == "POST":
            path = url(rule, w)
            assert client.post(path, data=form(w, "")).status_code == 400, path
            bad = client.post(path, data=form(w, "forged"))
            assert bad.status_code == 400, path
    assert admin_support.post(client, "/preferences", "forged", public_listing="on")[0] == 400
    reload(session, w.volunteer, w.newcomer)
    assert w.volunteer.active and not w.newcomer.approved


def _check_page(response: TestResponse) -> None:
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["Cache-Control"] == "no-store"
    tags = parse(response.get_data(as_text=True)).tags
    assert not {t for t, _ in tags} & {"script", "style", "iframe", "object", "embed", "base"}
    for tag, attrs in tags:
        for name, value in attrs:
            assert not name.startswith("on") and name not in ("style", "formaction"), tag
            assert not (value or "").lower().startswith(("javascript:", "data:")), tag
        if tag == "form":
            action = dict(attrs).get("action") or ""
            assert action.startswith(
                ("/admin/", "/logout", "/preferences", "/search", "/language")
            ), action
