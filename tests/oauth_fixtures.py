"""The test wiki's OAuth provider and an app configured for it, and a browser's trip there.

A pytest plugin of the root conftest, like tests/wiki_fixtures.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.oauth_provider import CONSUMER_KEY, CONSUMER_SECRET, RunningWiki, running_wiki
from tests.oauth_validators import WikiUser
from tests.webapp import helpers
from webapp import create_app
from wikibridge.config import OAuthSettings, Settings

# The app's callback with the default public_url, as registered with the test consumer.
CALLBACK = "http://127.0.0.1:5000/oauth/callback"
ALICE = WikiUser(central_id=101, username="Alice")
VANDAL = WikiUser(central_id=666, username="Vandal", blocked=True)


@pytest.fixture(scope="session")
def wiki_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningWiki]:
    with running_wiki(tmp_path_factory.mktemp("wiki"), CALLBACK) as wiki:
        yield wiki


@pytest.fixture
def wiki(wiki_server: RunningWiki, monkeypatch: pytest.MonkeyPatch) -> RunningWiki:
    """The running wiki, forgetting earlier tests; the app and `requests` trust its certificate."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(wiki_server.ca_file))
    state = wiki_server.state
    for table in (state.request_tokens, state.access_tokens, state.codes, state.bearer_tokens):
        table.clear()
    state.refresh_tokens.clear()
    state.users = {u.username: dataclasses.replace(u) for u in (ALICE, VANDAL)}
    state.approve_as = "Alice"
    wiki_server.provider.jwt_claims = {}
    wiki_server.provider.jwt_key = None
    return wiki_server


@pytest.fixture(params=["1.0a", "2.0"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def oauth_settings(settings: Settings, wiki: RunningWiki, protocol: str) -> Settings:
    assert settings.oauth_callback_url == CALLBACK
    oauth = OAuthSettings(
        wiki_url=f"{wiki.script_url}/index.php",
        consumer_key=CONSUMER_KEY,
        consumer_secret=CONSUMER_SECRET,
        protocol=protocol,
        wiki_name="Test Wiki",
    )
    return dataclasses.replace(settings, oauth=oauth)


@pytest.fixture
def oauth_app(oauth_settings: Settings) -> Iterator[Flask]:
    app = create_app(oauth_settings, TESTING=True)
    yield app
    app.extensions["wikibridge"].engine.dispose()


@pytest.fixture
def oauth_client(oauth_app: Flask) -> FlaskClient:
    return oauth_app.test_client()


def go_to_wiki(client: FlaskClient, next_path: str = "") -> str:
    """Press "Log in with Test Wiki": the authorize URL the browser is sent to."""
    token = helpers.csrf_token(client)
    response = client.post("/oauth/start", data={"csrf_token": token, "next": next_path})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def approve_on_wiki(authorize_url: str) -> str:
    """The browser at the wiki, where the user approves: the callback URL it is sent back to."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    callback = answer.headers["Location"]
    assert callback.startswith(CALLBACK + "?")
    return callback


def back_to_app(client: FlaskClient, callback: str) -> TestResponse:
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def log_in(client: FlaskClient, next_path: str = "") -> TestResponse:
    return back_to_app(client, approve_on_wiki(go_to_wiki(client, next_path)))


def log_out(client: FlaskClient) -> None:
    token = helpers.csrf_token(client, "/waiting")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
