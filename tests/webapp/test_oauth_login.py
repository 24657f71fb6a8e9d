"""Wiki login end to end, OAuth 1.0a and 2.0, against the test wiki's provider over https."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.oauth_fixtures import (
    CALLBACK,
    approve_on_wiki,
    back_to_app,
    go_to_wiki,
    log_in,
    log_out,
)
from tests.oauth_provider import CONSUMER_KEY, RunningWiki
from webapp.security import CSP
from wikibridge.models import Volunteer
from wikibridge.oauth import PENDING_LOGIN, Sealer
from wikibridge.store import volunteers

from . import helpers


def volunteer_of(session: Session, central_id: int) -> Volunteer | None:
    """Look a volunteer up and end the transaction at once: on SQLite an open one would hold
    the write lock the app's callback needs."""
    session.expire_all()
    found = volunteers.by_central_id(session, central_id)
    session.commit()
    return found


def test_login_page_offers_the_wiki(oauth_client: FlaskClient) -> None:
    page = oauth_client.get("/login").get_data(as_text=True)
    assert "Log in with Test Wiki" in page
    assert "not configured" not in page
    assert "Demo login" not in page


def test_full_login_creates_an_unapproved_volunteer(
    oauth_client: FlaskClient, wiki: RunningWiki, protocol: str, session: Session
) -> None:
    authorize_url = go_to_wiki(oauth_client, "/queues/1?state=all")
    query = parse_qs(urlsplit(authorize_url).query)
    if protocol == "1.0a":
        assert authorize_url.startswith(f"{wiki.script_url}/index.php?")
        assert query["title"] == ["Special:OAuth/authorize"]
        assert query["oauth_consumer_key"] == [CONSUMER_KEY]
    else:
        assert authorize_url.startswith(f"{wiki.script_url}/rest.php/oauth2/authorize?")
        assert query["response_type"] == ["code"]
        assert query["client_id"] == [CONSUMER_KEY]
        assert query["redirect_uri"] == [CALLBACK]
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["state"][0]) >= 32 and len(query["code_challenge"][0]) == 43
        assert "client_secret" not in query

    response = back_to_app(oauth_client, approve_on_wiki(authorize_url))
    assert response.status_code == 302
    assert response.headers["Location"] == "/queues/1?state=all"
    alice = volunteer_of(session, 101)
    assert alice is not None and alice.username == "Alice"
    assert not alice.approved and alice.last_login_at is not None
    with oauth_client.session_transaction() as sess:
        assert sess["volunteer_id"] == alice.id
    # Not approved yet: the waiting page, and nothing else.
    assert oauth_client.get("/queues/1").headers["Location"] == "/waiting"
    assert "Hello Alice" in oauth_client.get("/waiting").get_data(as_text=True)


def test_renamed_account_stays_the_same_volunteer(
    oauth_client: FlaskClient, wiki: RunningWiki, session: Session
) -> None:
    log_in(oauth_client)
    first = volunteer_of(session, 101)
    assert first is not None
    log_out(oauth_client)
    wiki.state.users["Alice"].username = "Alice Renamed"
    assert log_in(oauth_client).status_code == 302
    again = volunteer_of(session, 101)
    assert again is not None and again.id == first.id
    assert again.username == "Alice Renamed"


def test_approved_volunteer_reaches_the_dashboard(
    oauth_client: FlaskClient, wiki: RunningWiki, session: Session
) -> None:
    alice = helpers.volunteer(session, "Alice")
    alice.central_id = 101
    session.commit()
    assert log_in(oauth_client).headers["Location"] == "/"
    assert oauth_client.get("/").status_code == 200


def test_blocked_account_is_refused(
    oauth_client: FlaskClient, wiki: RunningWiki, session: Session
) -> None:
    wiki.state.approve_as = "Vandal"
    response = log_in(oauth_client)
    assert response.status_code == 403
    assert "Your wiki account is blocked" in response.get_data(as_text=True)
    assert volunteer_of(session, 666) is None
    with oauth_client.session_transaction() as sess:
        assert "volunteer_id" not in sess


def test_callback_with_another_state_is_refused(
    oauth_client: FlaskClient, wiki: RunningWiki, protocol: str, session: Session
) -> None:
    callback = approve_on_wiki(go_to_wiki(oauth_client))
    parts = urlsplit(callback)
    args = {k: v[0] for k, v in parse_qs(parts.query).items()}
    args["state" if protocol == "2.0" else "oauth_token"] = "forged-by-someone-else-0000000"
    response = oauth_client.get(f"{parts.path}?{urlencode(args)}")
    assert response.status_code == 400
    assert "does not belong to the login you started" in response.get_data(as_text=True)
    assert volunteer_of(session, 101) is None
    # The pending login is used up: the genuine answer no longer works either.
    assert back_to_app(oauth_client, callback).status_code == 400


def test_callback_without_a_started_login_is_refused(
    oauth_client: FlaskClient, wiki: RunningWiki
) -> None:
    response = oauth_client.get("/oauth/callback?code=abc&state=def")
    assert response.status_code == 400


@pytest.mark.parametrize("protocol", ["2.0"])  # PKCE is OAuth 2.0's
def test_wrong_pkce_verifier_is_refused(
    oauth_app: Flask, oauth_client: FlaskClient, wiki: RunningWiki, session: Session
) -> None:
    callback = approve_on_wiki(go_to_wiki(oauth_client))
    sealer = Sealer(oauth_app.config["SECRET_KEY"], PENDING_LOGIN)
    with oauth_client.session_transaction() as sess:
        pending = sealer.open(sess["oauth_pending"])
        pending["verifier"] = "x" * 64  # the code is sent with another verifier
        sess["oauth_pending"] = sealer.seal(pending).decode()
    response = back_to_app(oauth_client, callback)
    assert response.status_code == 502
    assert "did not complete the login" in response.get_data(as_text=True)
    assert volunteer_of(session, 101) is None


def test_login_rotates_the_session(oauth_client: FlaskClient, wiki: RunningWiki) -> None:
    token = helpers.csrf_token(oauth_client)
    with oauth_client.session_transaction() as sess:
        sess["planted"] = "by someone else"
        sess["sid"] = "fixated-session-id"
    log_in(oauth_client)
    with oauth_client.session_transaction() as sess:
        assert "planted" not in sess and "oauth_pending" not in sess
        assert sess["sid"] != "fixated-session-id"
        first_sid = sess["sid"]
    assert helpers.csrf_token(oauth_client, "/waiting") != token
    log_out(oauth_client)
    log_in(oauth_client)
    with oauth_client.session_transaction() as sess:
        assert sess["sid"] != first_sid


def test_login_returns_to_a_same_origin_next_only(
    oauth_client: FlaskClient, wiki: RunningWiki
) -> None:
    for target, expected in [("https://evil.example/", "/"), ("//evil.example/x", "/")]:
        assert log_in(oauth_client, target).headers["Location"] == expected
        log_out(oauth_client)


def test_logout_ends_the_session(oauth_client: FlaskClient, wiki: RunningWiki) -> None:
    log_in(oauth_client)
    assert oauth_client.get("/waiting").status_code == 200
    response = oauth_client.post(
        "/logout", data={"csrf_token": helpers.csrf_token(oauth_client, "/waiting")}
    )
    assert response.status_code == 302
    with oauth_client.session_transaction() as sess:
        assert "volunteer_id" not in sess
    assert oauth_client.get("/waiting").headers["Location"].startswith("/login")


def test_start_is_a_post_with_a_csrf_token(oauth_client: FlaskClient, wiki: RunningWiki) -> None:
    assert oauth_client.get("/oauth/start").status_code == 405
    assert oauth_client.post("/oauth/start").status_code == 400


def test_login_page_lets_its_form_lead_to_the_wiki(
    oauth_client: FlaskClient, wiki: RunningWiki
) -> None:
    # Browsers check form-action on the redirect that answers the login button's POST.
    csp = oauth_client.get("/login").headers["Content-Security-Policy"]
    origin = wiki.script_url.removesuffix("/w")
    assert csp == CSP.replace("form-action 'self'", f"form-action 'self' {origin}")
    assert oauth_client.get("/healthz").headers["Content-Security-Policy"] == CSP
