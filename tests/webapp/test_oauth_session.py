"""After a wiki login: sealed tokens, rechecks (revoked, blocked, expired), the rate limit."""

from __future__ import annotations

import dataclasses
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.oauth_fixtures import log_in, log_out
from tests.oauth_provider import RunningWiki
from webapp import create_app
from wikibridge.config import Settings
from wikibridge.oauth import TOKENS, OAuthError, Sealer
from wikibridge.store import oauth_tokens, volunteers


def stored_token(session: Session) -> tuple[int, bytes, str, bool]:
    """The one stored token: id, raw column, protocol, revoked; the transaction ends at once."""
    session.expire_all()
    rows = session.execute(
        text("SELECT id, sealed, protocol, revoked_at FROM oauth_tokens ORDER BY id")
    ).all()
    session.commit()
    token_id, sealed, protocol, revoked_at = rows[-1]
    return token_id, bytes(sealed), protocol, revoked_at is not None


def secrets_given_out(wiki: RunningWiki) -> list[str]:
    state = wiki.state
    return [
        *state.access_tokens,
        *(t["secret"] for t in state.access_tokens.values()),
        *state.bearer_tokens,
        *state.refresh_tokens,
    ]


def recheck_due(client: FlaskClient) -> None:
    with client.session_transaction() as sess:
        sess["oauth_checked"] = time.time() - 24 * 3600


def test_tokens_are_stored_encrypted(
    oauth_app: Flask, oauth_client: FlaskClient, wiki: RunningWiki, protocol: str, session: Session
) -> None:
    log_in(oauth_client)
    _, raw, stored_protocol, revoked = stored_token(session)
    assert stored_protocol == protocol and not revoked
    given = secrets_given_out(wiki)
    assert given
    for secret in given:
        assert secret.encode() not in raw
    opened = Sealer(oauth_app.config["SECRET_KEY"], TOKENS).open(raw)
    assert {v for v in opened.values() if isinstance(v, str)} & set(given)  # the real token
    with pytest.raises(OAuthError):
        Sealer("another-secret-key", TOKENS).open(raw)


def test_a_new_login_revokes_the_older_token(
    oauth_client: FlaskClient, wiki: RunningWiki, session: Session
) -> None:
    log_in(oauth_client)
    first_id, *_ = stored_token(session)
    log_out(oauth_client)
    log_in(oauth_client)
    second_id, *_ = stored_token(session)
    assert second_id != first_id
    alice = volunteers.by_central_id(session, 101)
    assert alice is not None
    current = oauth_tokens.current(session, alice.id)
    session.commit()
    assert current is not None and current.id == second_id


def test_recheck_keeps_a_valid_login(oauth_client: FlaskClient, wiki: RunningWiki) -> None:
    log_in(oauth_client)
    recheck_due(oauth_client)
    assert oauth_client.get("/waiting").status_code == 200
    with oauth_client.session_transaction() as sess:
        assert time.time() - sess["oauth_checked"] < 60


def test_revoked_token_sends_the_volunteer_to_the_login_page(
    oauth_client: FlaskClient, wiki: RunningWiki, session: Session
) -> None:
    log_in(oauth_client)
    wiki.state.revoke_all()  # on the wiki, Special:OAuthManageMyGrants
    recheck_due(oauth_client)
    response = oauth_client.get("/waiting")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/waiting"
    with oauth_client.session_transaction() as sess:
        assert "volunteer_id" not in sess
    assert "no longer accepts" in oauth_client.get("/login").get_data(as_text=True)
    assert stored_token(session)[3]  # revoked here too


def test_account_blocked_after_login_is_logged_out(
    oauth_client: FlaskClient, wiki: RunningWiki
) -> None:
    log_in(oauth_client)
    wiki.state.users["Alice"].blocked = True
    recheck_due(oauth_client)
    response = oauth_client.get("/waiting")
    assert response.status_code == 403
    assert "blocked" in response.get_data(as_text=True)
    with oauth_client.session_transaction() as sess:
        assert "volunteer_id" not in sess


@pytest.mark.parametrize("protocol", ["2.0"])  # 1.0a tokens do not expire
def test_expired_token_is_refreshed(
    oauth_app: Flask, oauth_client: FlaskClient, wiki: RunningWiki, session: Session
) -> None:
    log_in(oauth_client)
    token_id, raw, *_ = stored_token(session)
    sealer = Sealer(oauth_app.config["SECRET_KEY"], TOKENS)
    token = sealer.open(raw)
    token["expires_at"] = time.time() - 60
    session.execute(
        text("UPDATE oauth_tokens SET sealed = :s WHERE id = :i"),
        {"s": sealer.seal(token), "i": token_id},
    )
    session.commit()
    recheck_due(oauth_client)
    assert oauth_client.get("/waiting").status_code == 200
    fresh = sealer.open(stored_token(session)[1])
    assert fresh["access_token"] != token["access_token"]
    assert fresh["access_token"] in wiki.state.bearer_tokens


@pytest.mark.parametrize("protocol", ["1.0a"])  # the identify JWT is OAuth 1.0a's
def test_identify_token_from_another_wiki_is_refused(
    oauth_client: FlaskClient, wiki: RunningWiki, session: Session
) -> None:
    wiki.provider.jwt_claims = {"iss": "https://evil.example"}
    response = log_in(oauth_client)
    assert response.status_code == 502
    assert "issued by another wiki" in response.get_data(as_text=True)
    assert volunteers.by_central_id(session, 101) is None


def test_login_pages_are_rate_limited(oauth_settings: Settings, wiki: RunningWiki) -> None:
    app = create_app(oauth_settings, TESTING=True, LOGIN_RATE_LIMIT=(3, 60))
    try:
        client = app.test_client()
        for _ in range(3):
            assert client.get("/login").status_code == 200
        refused = client.get("/login")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "60"
        assert "Too many login attempts" in refused.get_data(as_text=True)
        assert client.get("/oauth/callback?state=x&code=y").status_code == 429
        assert client.get("/healthz").status_code == 200  # other pages are not counted
        client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        assert client.get("/login").status_code == 200  # per client address
    finally:
        app.extensions["wikibridge"].engine.dispose()


def test_wiki_login_is_absent_without_settings(
    settings: Settings, client: FlaskClient, app: Flask
) -> None:
    assert not settings.oauth.configured
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/oauth/start").status_code == 404
    assert client.get("/oauth/callback").status_code == 404
    assert "Log in with" not in client.get("/login").get_data(as_text=True)


def test_settings_name_the_callback_to_register(settings: Settings) -> None:
    public = dataclasses.replace(settings, public_url="https://tickets.example.org/")
    assert public.oauth_callback_url == "https://tickets.example.org/oauth/callback"
