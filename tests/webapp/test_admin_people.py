"""Volunteers and access through the web: approval, grants, revocation and deactivation that
take effect on the next request, the queue admin's limits, the public volunteer list."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ..admin_audit import events, last, reload
from . import admin_support, helpers


def test_first_login_waits_until_approved_then_sees_the_granted_queues(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    w = admin_support.world(session)
    t = helpers.ticket(session, w.sub, "About a living person")
    session.commit()
    helpers.login(client, w.newcomer)
    for path in ("/", "/admin/", f"/tickets/{t.number}", "/preferences"):
        assert client.get(path).headers["Location"] == "/waiting", path
    assert "Waiting for approval" in client.get("/waiting").get_data(as_text=True)

    admin = app.test_client()
    token = admin_support.login(admin, w.admin)
    base = f"/admin/volunteers/{w.newcomer.id}"
    page = admin.get("/admin/volunteers").get_data(as_text=True)
    assert page.index("Newcomer") < page.index("Alice")  # waiting for approval first
    status, _, page = admin_support.post(
        admin, f"{base}/grant", token, queue_id=str(w.info.id), level="rw"
    )
    assert "Access granted" in page
    assert client.get("/").headers["Location"] == "/waiting"  # a grant alone opens nothing
    status, _, page = admin_support.post(admin, f"{base}/approve", token)
    assert status == 303 and "tick the box" in page
    status, _, page = admin_support.post(admin, f"{base}/approve", token, identified="on")
    assert "Newcomer is approved." in page
    reload(session, w.newcomer)
    assert w.newcomer.approved and w.newcomer.identified
    assert last(session, "volunteer_approved")[0] == w.admin.id

    dashboard = client.get("/")
    assert dashboard.status_code == 200
    text = dashboard.get_data(as_text=True)
    assert "info-en::Wikipedia" in text and "press" not in text  # the grant covers the sub-queue
    assert client.get(f"/tickets/{t.number}").status_code == 200


def test_revoke_takes_effect_on_the_next_request(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    w = admin_support.world(session)
    t = helpers.ticket(session, w.sub, "Confidential")
    session.commit()
    helpers.login(client, w.volunteer)
    assert client.get(f"/tickets/{t.number}").status_code == 200
    keeper = app.test_client()
    token = admin_support.login(keeper, w.queue_admin)
    revoke = f"/admin/volunteers/{w.volunteer.id}/revoke"
    status, _, page = admin_support.post(keeper, revoke, token, queue_id=str(w.info.id))
    assert "Access revoked." in page
    assert client.get(f"/tickets/{t.number}").status_code == 404
    assert client.get(f"/queues/{w.sub.id}").status_code == 404
    assert "info-en" not in client.get("/").get_data(as_text=True)
    who, detail = last(session, "access_revoked")
    assert who == w.queue_admin.id and detail["target"] == "Alice"


def test_deactivation_takes_effect_on_the_next_request(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    w = admin_support.world(session)
    helpers.login(client, w.volunteer)
    assert client.get("/").status_code == 200
    admin = app.test_client()
    token = admin_support.login(admin, w.admin)
    _, _, page = admin_support.post(admin, f"/admin/volunteers/{w.volunteer.id}/deactivate", token)
    assert "Alice is deactivated." in page
    assert client.get("/").headers["Location"].startswith("/login")
    with client.session_transaction() as sess:
        assert "volunteer_id" not in sess
    assert last(session, "volunteer_deactivated")[0] == w.admin.id


def test_queue_admin_grants_on_their_queues_only(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    token = admin_support.login(client, w.queue_admin)
    grant = f"/admin/volunteers/{w.newcomer.id}/grant"
    page = client.get(f"/admin/volunteers/{w.newcomer.id}").get_data(as_text=True)
    assert "info-en::Wikipedia" in page and ">press<" not in page  # only their queues offered
    assert "Approve" not in page  # approval is for global admins
    status, _, page = admin_support.post(client, grant, token, queue_id=str(w.sub.id), level="ro")
    assert status == 303 and "Access granted: ro." in page
    before = len(events(session, "access_granted"))
    for queue_id in (str(w.press.id), "999999"):
        assert admin_support.post(client, grant, token, queue_id=queue_id, level="rw")[0] == 404
    assert len(events(session, "access_granted")) == before
    assert admin_support.post(client, f"/admin/volunteers/{w.newcomer.id}/approve", token)[0] == 404
    assert client.get("/admin/rules").status_code == 404
    reload(session, w.newcomer)
    assert not w.newcomer.approved


def test_who_has_access_lists_inherited_access(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    admin_support.login(client, w.queue_admin)
    page = client.get("/admin/access").get_data(as_text=True)
    sub = page[page.index('id="queue-' + str(w.sub.id)) :]
    assert "Alice" in sub and "inherited from info-en" in sub
    assert f'id="queue-{w.press.id}"' not in page  # not theirs


def test_public_volunteer_list(app: Flask, client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    for v in (w.admin, w.volunteer, w.newcomer, w.queue_admin):
        v.email = f"{v.username.lower()}@mail.example"
    w.newcomer.public_listing = True  # not approved: never listed
    w.queue_admin.public_listing = True
    w.queue_admin.active = False  # deactivated: never listed
    session.commit()
    volunteer = app.test_client()
    token = admin_support.login(volunteer, w.volunteer)
    _, _, page = admin_support.post(volunteer, "/preferences", token, public_listing="on")
    assert "You are on the public volunteer list." in page
    assert last(session, "public_listing_changed")[0] == w.volunteer.id

    response = client.get("/volunteers")  # no login
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<li>Alice</li>" in page
    for absent in ("Newcomer", "Keeper", "Admiral", "@mail.example", "@"):
        assert absent not in page
    assert client.get("/volunteers.json").get_json() == {"volunteers": ["Alice"]}

    admin_support.post(volunteer, "/preferences", token)
    assert client.get("/volunteers.json").get_json() == {"volunteers": []}


def test_published_news_show_on_the_login_page(client: FlaskClient, session: Session) -> None:
    w = admin_support.world(session)
    w.news.title = "<b>Welcome</b> & hello"
    session.commit()
    page = client.get("/login").get_data(as_text=True)
    assert "&lt;b&gt;Welcome&lt;/b&gt; &amp; hello" in page
    w.news.published = False
    session.commit()
    assert "Welcome" not in client.get("/login").get_data(as_text=True)
