"""Every corpus message, and every CPython email test message, is stored or quarantined with a
reason, on SQLite and on PostgreSQL: none crashes ingest and none is lost."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.mail.mailcorpus import corpus, corpus_files, cpython_email_files
from wikibridge.config import Settings
from wikibridge.mail import ingest as ingest_module
from wikibridge.mail.ingest import Ingestor, Outcome
from wikibridge.mail.parse import ParsedMessage
from wikibridge.models import Article, Attachment
from wikibridge.store import queues


def _inbound_articles(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        stmt = select(func.count()).select_from(Article).where(Article.kind == "inbound")
        return int(session.scalar(stmt) or 0)


def _ingest_all(ingestor: Ingestor, files: list[Path]) -> dict[str, Outcome]:
    return {path.name: ingestor.ingest(path.read_bytes(), source="test") for path in files}


def _check_nothing_lost(
    ingestor: Ingestor,
    session_factory: sessionmaker[Session],
    files: list[Path],
    outcomes: dict[str, Outcome],
) -> Counter[str]:
    for name, outcome in outcomes.items():
        assert outcome.status in ("stored", "quarantined", "duplicate"), name
        if outcome.status == "quarantined":
            assert outcome.reason.strip(), f"{name} quarantined without a reason"
        if outcome.status == "stored":
            assert outcome.article_id is not None and outcome.ticket_number, name
    counts = Counter(o.status for o in outcomes.values())
    assert counts["stored"] + counts["duplicate"] + counts["quarantined"] == len(files)
    assert _inbound_articles(session_factory) == counts["stored"]
    # Nothing is left half-done in the spool, and every quarantined message is on record.
    assert ingestor.spool.pending() == []
    assert ingestor.spool.count("quarantine") == counts["quarantined"]
    for outcome in outcomes.values():
        assert ingestor.spool.raw.get(outcome.sha256)
    return counts


def _with_acknowledging_fallback_queue(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """New tickets get an automatic acknowledgement, so that path sees every message too."""
    with session_factory() as session, session.begin():
        queues.ensure(
            session,
            settings.mail.fallback_queue,
            "system",
            auto_ack=True,
            ack_body="We received your message: {ticket}",
        )


def test_corpus_is_stored_or_quarantined_and_never_lost(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    files = corpus_files()
    assert len(files) >= 45
    _with_acknowledging_fallback_queue(settings, session_factory)
    ingestor = Ingestor(settings, session_factory)

    outcomes = _ingest_all(ingestor, files)
    counts = _check_nothing_lost(ingestor, session_factory, files, outcomes)
    print(f"corpus: {len(files)} files, {dict(counts)}")
    assert counts["duplicate"] == 0  # every file has different bytes
    # Written for this corpus to be stored, not quarantined: a quarantine here is a parser bug.
    assert counts["quarantined"] == 0, {n: o.reason for n, o in outcomes.items() if o.reason}

    with session_factory() as session:
        attachments = int(session.scalar(select(func.count()).select_from(Attachment)) or 0)
    assert attachments >= 20

    again = _ingest_all(ingestor, files)
    assert {o.status for o in again.values()} <= {"duplicate", "quarantined"}
    assert _inbound_articles(session_factory) == counts["stored"]
    for name, outcome in again.items():
        if outcome.status == "duplicate":
            assert outcome.article_id == outcomes[name].article_id, name


def test_cpython_email_test_messages_are_never_lost(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    files = cpython_email_files()
    ingestor = Ingestor(settings, session_factory)

    outcomes = _ingest_all(ingestor, files)
    counts = _check_nothing_lost(ingestor, session_factory, files, outcomes)
    print(
        f"CPython email test data: {len(files)} files, {counts['stored']} stored, "
        f"{counts['quarantined']} quarantined, {counts['duplicate']} duplicates"
    )
    again = _ingest_all(ingestor, files)
    assert {o.status for o in again.values()} <= {"duplicate", "quarantined"}
    assert _inbound_articles(session_factory) == counts["stored"]


def test_a_value_the_database_refuses_is_quarantined_not_retried(
    settings: Settings,
    session_factory: sessionmaker[Session],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A deterministic rejection (here: longer than the column) must not tempfail forever."""
    real_parse = ingest_module.parse_message

    def parse_with_overlong_message_id(raw: bytes) -> ParsedMessage:
        msg = real_parse(raw)
        msg.message_id = "x" * 1500 + "@example.com"  # the column holds 1000 characters
        return msg

    monkeypatch.setattr(ingest_module, "parse_message", parse_with_overlong_message_id)
    ingestor = Ingestor(settings, session_factory)
    outcome = ingestor.ingest(corpus("plain-ascii.eml"), source="test")
    if database_url.startswith("sqlite"):
        assert outcome.status == "stored"  # SQLite does not enforce VARCHAR lengths
        return
    assert outcome.status == "quarantined"
    assert "database rejected it" in outcome.reason
    assert ingestor.spool.count("quarantine") == 1 and ingestor.spool.pending() == []
    assert _inbound_articles(session_factory) == 0
