"""Fixtures of the on-wiki action tests: a database wired to the session's test wiki."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.testwiki import TestWiki
from tests.wiki.actions_world import World
from wikibridge.config import Settings


@pytest.fixture
def world(test_wiki: TestWiki, settings: Settings, session_factory: sessionmaker[Session]) -> World:
    """Queues, volunteers and grants on each database, acting on the test wiki."""
    return World.build(test_wiki, settings, session_factory)
