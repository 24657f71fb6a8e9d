"""Login page, demo login (loopback only), session rotation, logout, the approval gate."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from webapp.demo import DEMO_CENTRAL_ID, SeedResult

from . import helpers


def test_login_page_says_which_settings_wiki_login_needs(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Wiki login is not configured" in page
    for name in ("oauth.wiki_url", "oauth.consumer_key", "oauth.consumer_secret"):
        assert name in page
    assert "WIKIBRIDGE_OAUTH_CONSUMER_KEY" in page
    assert "Demo login" not in page  # not in demo mode
    assert "Demo mode" not in page


def test_pages_need_a_login(client: FlaskClient) -> None:
    response = client.get("/queues/1?state=all")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/queues/1?state%3Dall"


def test_demo_login_from_loopback(demo_client: FlaskClient, demo_seed: SeedResult) -> None:
    page = demo_client.get("/login").get_data(as_text=True)
    assert "Demo login" in page
    assert "Demo mode" in page
    token = helpers.csrf_token(demo_client)
    response = demo_client.post("/login/demo", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with demo_client.session_transaction() as sess:
        assert sess["volunteer_id"] == demo_seed.volunteer_id
    dashboard = demo_client.get("/").get_data(as_text=True)
    assert "Demo Volunteer" in dashboard
    assert "Demo mode" in dashboard  # the banner is on every page
    assert "permissions-commons" in dashboard


def test_demo_login_refused_from_another_address(demo_client: FlaskClient) -> None:
    token = helpers.csrf_token(demo_client)
    demo_client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert "Demo login" not in demo_client.get("/login").get_data(as_text=True)
    response = demo_client.post("/login/demo", data={"csrf_token": token})
    assert response.status_code == 403
    with demo_client.session_transaction() as sess:
        assert "volunteer_id" not in sess


def test_demo_login_refused_through_a_proxy_on_loopback(demo_client: FlaskClient) -> None:
    token = helpers.csrf_token(demo_client)
    response = demo_client.post(
        "/login/demo",
        data={"csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.4"},
    )
    assert response.status_code == 403


def test_demo_login_does_not_exist_outside_demo_mode(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # no page offers a form to take a token from
    assert client.post("/login/demo").status_code == 404


def test_post_without_csrf_token_is_refused(demo_client: FlaskClient) -> None:
    assert demo_client.post("/login/demo").status_code == 400
    with demo_client.session_transaction() as sess:
        assert "volunteer_id" not in sess


def test_login_rotates_the_session(demo_client: FlaskClient) -> None:
    token = helpers.csrf_token(demo_client)
    with demo_client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    demo_client.post("/login/demo", data={"csrf_token": token})
    with demo_client.session_transaction() as sess:
        assert "planted" not in sess
        first_sid = sess["sid"]
    assert helpers.csrf_token(demo_client, "/") != token
    demo_client.post("/login/demo", data={"csrf_token": helpers.csrf_token(demo_client, "/")})
    with demo_client.session_transaction() as sess:
        assert sess["sid"] != first_sid


def test_login_returns_to_a_same_origin_next_only(demo_client: FlaskClient) -> None:
    for target, expected in [
        ("/queues/1?state=all", "/queues/1?state=all"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ]:
        token = helpers.csrf_token(demo_client)
        response = demo_client.post("/login/demo", data={"csrf_token": token, "next": target})
        assert response.headers["Location"] == expected, target
        demo_client.post("/logout", data={"csrf_token": helpers.csrf_token(demo_client, "/")})


def test_logout_ends_the_session(demo_client: FlaskClient) -> None:
    demo_client.post("/login/demo", data={"csrf_token": helpers.csrf_token(demo_client)})
    assert demo_client.get("/").status_code == 200
    response = demo_client.post(
        "/logout", data={"csrf_token": helpers.csrf_token(demo_client, "/")}
    )
    assert response.status_code == 302
    with demo_client.session_transaction() as sess:
        assert "volunteer_id" not in sess
    assert demo_client.get("/").status_code == 302


def test_logout_is_not_a_get(demo_client: FlaskClient) -> None:
    demo_client.post("/login/demo", data={"csrf_token": helpers.csrf_token(demo_client)})
    assert demo_client.get("/logout").status_code == 405
    assert demo_client.get("/").status_code == 200


def test_unapproved_volunteer_sees_only_the_waiting_page(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    q = helpers.queue(session, "info-en")
    newcomer = helpers.volunteer(session, "Newcomer", approved=False)
    from wikibridge.store import volunteers

    volunteers.grant(session, newcomer.id, q.id, "rw")  # a grant alone opens nothing
    t = helpers.ticket(session, q, "Confidential matter")
    session.commit()
    helpers.login(client, newcomer)
    for path in ("/", f"/queues/{q.id}", f"/tickets/{t.number}"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/waiting"
    page = client.get("/waiting").get_data(as_text=True)
    assert "Waiting for approval" in page
    assert "Confidential matter" not in page
    assert "info-en" not in page


def test_approved_volunteer_leaves_the_waiting_page(client: FlaskClient, session: Session) -> None:
    v = helpers.volunteer(session)
    session.commit()
    helpers.login(client, v)
    assert client.get("/waiting").headers["Location"] == "/"


def test_inactive_volunteer_is_logged_out(client: FlaskClient, session: Session) -> None:
    v = helpers.volunteer(session, active=False)
    session.commit()
    helpers.login(client, v)
    assert client.get("/").headers["Location"].startswith("/login")
    with client.session_transaction() as sess:
        assert "volunteer_id" not in sess


def test_demo_volunteer_is_seeded_once(demo_app: Flask, session: Session) -> None:
    from wikibridge.store import volunteers

    demo = volunteers.by_central_id(session, DEMO_CENTRAL_ID)
    assert demo is not None and demo.approved
