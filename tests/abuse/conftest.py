"""Fixtures of the abuse suite: SQLite, for speed (the fuzz and store tests cover PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.databases import DatabaseFactory
from tests.webapp.conftest import app, client  # noqa: F401 - fixtures of the web cases
from tests.webapp.test_actions import site  # noqa: F401
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor
from wikibridge.store import queues


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, databases: DatabaseFactory, tmp_path: Path) -> str:
    return databases.sqlite(tmp_path / "data" / "wikibridge.sqlite3")


@pytest.fixture
def ingestor(settings: Settings, session_factory: sessionmaker[Session]) -> Ingestor:
    return Ingestor(settings, session_factory)


@pytest.fixture
def auto_ack(session_factory: sessionmaker[Session]) -> None:
    """info-en answers every new ticket automatically (what a mail loop would feed on)."""
    with session_factory.begin() as s:
        info = queues.ensure(s, "info-en", "info")
        queues.add_address(s, info, "info-en@example.org", "Wikipedia information team")
        info.auto_ack = True
        info.ack_subject = "We received your message"
        info.ack_body = "Thank you. Your ticket number is {ticket}."


def count(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)
