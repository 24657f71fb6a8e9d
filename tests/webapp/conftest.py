"""Web app fixtures (flaskr style), on SQLite and on PostgreSQL like every store test."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from webapp import create_app
from webapp.demo import SeedResult, seed
from wikibridge.config import Settings


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings, TESTING=True)
    yield app
    app.extensions["wikibridge"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def demo_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, demo=True)


@pytest.fixture
def demo_seed(demo_settings: Settings, session_factory: sessionmaker[Session]) -> SeedResult:
    return seed(demo_settings, session_factory)


@pytest.fixture
def demo_app(demo_settings: Settings, demo_seed: SeedResult) -> Iterator[Flask]:
    app = create_app(demo_settings, TESTING=True)
    yield app
    app.extensions["wikibridge"].engine.dispose()


@pytest.fixture
def demo_client(demo_app: Flask) -> FlaskClient:
    return demo_app.test_client()
