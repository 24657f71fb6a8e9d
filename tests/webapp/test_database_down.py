"""When the database cannot be reached, pages and the API say so with a 503 and a time to
retry, instead of an internal error; once it is back, the same pages work again."""

from __future__ import annotations

import dataclasses
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.webapp.helpers import login, volunteer
from wikibridge.db import make_engine, make_request_sessionmaker, make_sessionmaker
from wikibridge.tickets.numbers import format_number

# Nothing listens on port 1: connecting fails at once, as with a stopped server.
DEAD = "postgresql+psycopg://postgres@127.0.0.1:1/wikibridge"
NUMBER = format_number(date(2024, 1, 1), "10", 1)  # well-formed: the lookup asks the database


def take_database_down(app: Flask) -> None:
    web = app.extensions["wikibridge"]
    engine = make_engine(DEAD, connect_args={"connect_timeout": 2})
    app.extensions["wikibridge"] = dataclasses.replace(
        web,
        engine=engine,
        sessions=make_sessionmaker(engine),
        read_sessions=make_request_sessionmaker(engine),
    )
    app.extensions["wikibridge_up"] = web


def bring_database_back(app: Flask) -> None:
    app.extensions["wikibridge"].engine.dispose()
    app.extensions["wikibridge"] = app.extensions.pop("wikibridge_up")


def test_pages_say_the_database_is_unreachable_and_when_to_retry(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    login(client, volunteer(session))
    session.commit()
    assert client.get("/").status_code == 200
    take_database_down(app)
    try:
        for path in ("/", "/search?q=privacy", f"/verify?number={NUMBER}"):
            response = client.get(path)
            page = response.get_data(as_text=True)
            assert response.status_code == 503, path
            assert response.headers["Retry-After"] == "30"
            assert "Service Unavailable" in page and "cannot be reached" in page
            assert "Traceback" not in page and "psycopg" not in page  # nothing internal shown
        api = client.get("/api/v1/queues", headers={"Authorization": "Bearer wbt_" + "x" * 43})
        assert api.status_code == 503 and api.headers["Retry-After"] == "30"
        assert api.get_json()["error"]["code"] == "service_unavailable"
    finally:
        bring_database_back(app)
    assert client.get("/").status_code == 200


def test_german_pages_say_it_in_german(app: Flask, client: FlaskClient) -> None:
    take_database_down(app)
    try:
        response = client.get(f"/verify?number={NUMBER}", headers={"Accept-Language": "de"})
    finally:
        bring_database_back(app)
    assert response.status_code == 503
    assert "Datenbank" in response.get_data(as_text=True)
