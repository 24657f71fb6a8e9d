"""A small archive of real mail for the maintenance commands: stored through ingest, so the raw
messages and blobs are on disk as in production."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from tests.mailbuilder import make_mail
from wikibridge.cli import main
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor
from wikibridge.models import Ticket, utcnow
from wikibridge.tickets import states

# One attachment in tickets 0 and 2: one blob, which a purge of one of them must keep.
SHARED = ("logo.png", "image/png", b"\x89PNG\r\n\x1a\nshared logo")


@dataclass
class Archive:
    numbers: list[str]

    def ticket(self, sessions: sessionmaker[Session], i: int) -> Ticket:
        with sessions() as s:
            found = s.query(Ticket).filter_by(number=self.numbers[i]).one()
            s.expunge(found)
            return found


def store_mail(settings: Settings, sessions: sessionmaker[Session], n: int) -> Archive:
    ingestor = Ingestor(settings, sessions)
    numbers = []
    for i in range(n):
        files = [(f"scan-{i}.pdf", "application/pdf", f"%PDF-1.4 scan {i}".encode())]
        if i in (0, 2):
            files.append(SHARED)
        raw = make_mail(
            sender=f"Reader {i} <reader{i}@example.net>",
            subject=f"Permission for photo {i}",
            body=f"I am the photographer of photo {i}.",
            attachments=files,
        )
        outcome = ingestor.ingest(raw)
        assert outcome.status == "stored", outcome
        numbers.append(outcome.ticket_number)
    return Archive(numbers)


def close(
    sessions: sessionmaker[Session],
    numbers: Sequence[str],
    days_ago: int,
    state: str = states.CLOSED_OK,
) -> None:
    when: datetime = utcnow() - timedelta(days=days_ago)
    with sessions.begin() as s:
        for number in numbers:
            ticket = s.query(Ticket).filter_by(number=number).one()
            ticket.state, ticket.closed_at, ticket.updated_at = state, when, when


def run(settings_env: dict[str, str], *args: str) -> Result:
    """The `wikibridge` command in this process (faster than a new one per call)."""
    return CliRunner().invoke(main, list(args), env=settings_env, catch_exceptions=False)


@pytest.fixture
def archive(settings: Settings, session_factory: sessionmaker[Session]) -> Archive:
    return store_mail(settings, session_factory, 10)
