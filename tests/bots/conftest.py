"""Fixtures of the bot tests: a database acting on the session's test wiki, the bot's site."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.bots.world import Desk
from tests.testwiki import BOT, TestWiki, pywikibot_site
from wikibridge.config import Settings


@pytest.fixture
def desk(test_wiki: TestWiki, settings: Settings, session_factory: sessionmaker[Session]) -> Desk:
    """Queues acting on the test wiki, volunteers and their grants, on each database."""
    return Desk.build(test_wiki, settings, session_factory)


@pytest.fixture
def bot_site(test_wiki: TestWiki) -> Any:
    """pywikibot's site for the test wiki, logged in as the bot (this process's one login)."""
    return pywikibot_site(test_wiki, BOT)
