"""A batch is stored as if its messages had come one by one; the spool journal of a batch
loses nothing when the database fails or the process stops without a checkpoint."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from tests.databases import DatabaseFactory
from tests.mailbuilder import make_mail
from wikibridge.config import Settings
from wikibridge.db import make_engine, make_sessionmaker
from wikibridge.files import sha256_hex
from wikibridge.mail.ingest import Ingestor, TempFail
from wikibridge.models import Article, Attachment, AuditEvent, OutboxJob, Queue, Ticket, utcnow
from wikibridge.store import queues
from wikibridge.tickets.numbers import format_number


def prepare(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        info = queues.ensure(s, "info-en", "info")
        queues.add_address(s, info, "info-en@example.org", "Wikipedia information team")
        info.auto_ack = True  # acknowledgements are written in the middle of a batch
        info.ack_subject = "We received your message"
        info.ack_body = "Your ticket number is {ticket}."
        perm = queues.ensure(s, "permissions-commons", "permissions")
        queues.add_address(s, perm, "permissions@example.org")


def snapshot(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Everything ingest writes, without the clock."""
    with sessions() as s:
        names = {q.id: q.name for q in s.scalars(select(Queue))}
        tickets = {t.id: t for t in s.scalars(select(Ticket))}
        return {
            "tickets": sorted(
                (t.id, t.number, t.title, names[t.queue_id], t.state, t.requester)
                for t in tickets.values()
            ),
            "articles": [
                (a.id, tickets[a.ticket_id].number, a.kind, a.message_id, a.subject, a.flags)
                for a in s.scalars(select(Article).order_by(Article.id))
                if a.kind == "inbound"
            ],
            "replies": [
                (a.id, tickets[a.ticket_id].number, a.in_reply_to, a.to)
                for a in s.scalars(select(Article).order_by(Article.id))
                if a.kind == "outbound"
            ],
            "attachments": [
                (x.article_id, x.blob_sha256, x.filename)
                for x in s.scalars(select(Attachment).order_by(Attachment.id))
            ],
            # As a set: the events of a batch's transaction are not in the order of its
            # messages (those the ORM writes come first, as before the batch code).
            "audit": sorted(
                repr((e.action, e.ticket_id, sorted(e.detail.items())))
                for e in s.scalars(select(AuditEvent))
            ),
            "jobs": [(j.kind, j.ticket_id) for j in s.scalars(select(OutboxJob))],
        }


def number(settings: Settings, counter: int) -> str:
    return format_number(utcnow().date(), settings.system_id, counter)


def batches(settings: Settings) -> list[list[bytes]]:
    jane, bob = "Jane Reader <jane@example.net>", "Bob <bob@example.com>"
    stranger = "Mallory <mallory@example.org>"
    jpeg = b"\xff\xd8 a photo"
    first = make_mail(sender=jane, subject="Birth date", message_id="<m1@example.net>")
    photo = make_mail(
        sender=bob,
        to="permissions@example.org",
        subject="My photo",
        message_id="<m3@example.net>",
        attachments=[("photo.jpg", "image/jpeg", jpeg)],
    )
    one = [
        first,
        make_mail(sender=jane, subject="Re: Birth date", in_reply_to="<m1@example.net>"),
        photo,
        first,  # the same bytes: a duplicate of the first article of this batch
        make_mail(sender=bob, subject="Other bytes", message_id="<m3@example.net>"),
        make_mail(sender=bob, subject="Photo again", attachments=[("p.jpg", "image/jpeg", jpeg)]),
    ]
    two = [
        make_mail(sender=jane, subject=f"Re: [Ticket#{number(settings, 1)}] Birth date"),
        make_mail(sender=stranger, subject=f"[Ticket#{number(settings, 2)}] it is mine"),
        make_mail(
            sender=stranger,
            subject=f"Re: [Ticket#{number(settings, 2)}] My photo",
            references="<m3@example.net>",
        ),
        make_mail(sender=bob, subject="Re: My photo", references="<x@y> <m3@example.net>"),
        photo,  # stored in the batch before
        make_mail(sender=stranger, subject="[Ticket#2000010110000018] no such ticket"),
    ]
    # A subject names a ticket opened earlier in the same batch: stored one by one.
    three = [
        make_mail(sender=bob, subject="A new question", message_id="<m20@example.net>"),
        make_mail(sender=stranger, subject=f"[Ticket#{number(settings, 6)}] guessed"),
        make_mail(sender=bob, subject=f"Re: [Ticket#{number(settings, 6)}] A new question"),
    ]
    return [one, two, three]


@pytest.fixture
def second(
    settings: Settings, databases: DatabaseFactory, tmp_path: Path
) -> tuple[Settings, sessionmaker[Session]]:
    """An empty world like `settings`, on the same kind of database."""
    if settings.database_url.startswith("sqlite"):
        url = databases.sqlite(tmp_path / "b" / "wikibridge.sqlite3")
    else:
        url = databases.postgres()
    other = replace(settings, database_url=url, data_dir=tmp_path / "b")
    return other, make_sessionmaker(make_engine(url))


def test_a_batch_is_stored_as_one_by_one(
    settings: Settings,
    session_factory: sessionmaker[Session],
    second: tuple[Settings, sessionmaker[Session]],
) -> None:
    settings_b, sessions_b = second
    prepare(session_factory)
    prepare(sessions_b)
    batched, single = Ingestor(settings, session_factory), Ingestor(settings_b, sessions_b)
    for i, batch in enumerate(batches(settings)):
        got = batched.ingest_many(batch, source="test")
        want = [single.ingest(raw, source="test") for raw in batch]
        assert [(o.status, o.ticket_number, o.article_id, o.new_ticket) for o in got] == [
            (o.status, o.ticket_number, o.article_id, o.new_ticket) for o in want
        ], f"batch {i}"
    batched.checkpoint()
    mine, theirs = snapshot(session_factory), snapshot(sessions_b)
    assert mine == theirs
    # The cases are there: a follow-up in the batch, a flagged stranger, an acknowledgement.
    flags = [a[5] for a in mine["articles"]]
    assert ["message_id_conflict"] in flags and ["cites_other_ticket"] in flags
    assert mine["replies"] and mine["attachments"]
    assert batched.spool.pending() == [] and not list(batched.spool.journal_dir.iterdir())


def test_a_failed_batch_stays_in_the_spool_and_is_reprocessed(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    prepare(session_factory)
    down = replace(settings, database_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    engine = make_engine(down.database_url, connect_args={"connect_timeout": 2})
    mails = [make_mail(subject=f"Sent while down {i}") for i in range(5)]
    with pytest.raises(TempFail):
        Ingestor(down, make_sessionmaker(engine)).ingest_many(mails, source="lmtp")
    engine.dispose()

    ingestor = Ingestor(settings, session_factory)
    assert ingestor.spool.count("incoming") == 5
    outcomes = ingestor.reprocess()
    assert sorted(o.status for o in outcomes) == ["stored"] * 5
    assert ingestor.spool.pending() == [] and ingestor.spool.count("incoming") == 0
    assert {ingestor.spool.raw.get(o.sha256) for o in outcomes} == set(mails)


def test_files_lost_before_the_checkpoint_are_rewritten(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """A crash after the commit and before the checkpoint: the journal restores them."""
    prepare(session_factory)
    blob = b"%PDF- a permission statement"
    mails = [
        make_mail(subject="With a file", attachments=[("ok.pdf", "application/pdf", blob)]),
        make_mail(subject="Plain"),
    ]
    crashed = Ingestor(settings, session_factory)
    outcomes = crashed.ingest_many(mails, source="lmtp")  # no checkpoint: "the crash"
    for o in outcomes:
        crashed.spool.raw.path(o.sha256).unlink()  # what the power cut took
    crashed.blobs.path(sha256_hex(blob)).unlink()

    after = Ingestor(settings, session_factory)
    assert after.reprocess() == []  # nothing waits: both are stored
    assert [after.spool.raw.get(o.sha256) for o in outcomes] == mails
    assert after.blobs.get(sha256_hex(blob)) == blob
    assert not list(after.spool.journal_dir.iterdir())


def test_acknowledgements_of_a_batch_each_carry_their_own_ticket(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    prepare(session_factory)
    cap = settings.mail.auto_reply_daily_cap
    flood = [make_mail(sender="Ann <ann@example.net>", subject=f"Ann {i}") for i in range(cap + 2)]
    others = [
        make_mail(sender=f"Reader {i} <r{i}@example.net>", subject=f"Question {i}")
        for i in range(5)
    ]
    outcomes = Ingestor(settings, session_factory).ingest_many(others + flood, source="lmtp")
    assert all(o.status == "stored" and o.new_ticket for o in outcomes)
    with session_factory() as s:
        sent = list(s.scalars(select(OutboxJob).order_by(OutboxJob.id)))
        replies = [s.get(Article, j.payload["article_id"]) for j in sent]
        capped = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "auto_reply_capped")))
        numbers = {t.id: t.number for t in s.scalars(select(Ticket))}
    assert len(sent) == 5 + cap and len(capped) == 2
    assert {e.detail["sender"] for e in capped} == {"ann@example.net"}
    for job, reply in zip(sent, replies, strict=True):
        assert reply is not None and reply.kind == "outbound" and reply.flags == ["auto_reply"]
        number = numbers[reply.ticket_id]
        assert job.ticket_id == reply.ticket_id and job.state == "pending"
        assert reply.subject == f"[Ticket#{number}] We received your message"
        assert reply.body_text == f"Your ticket number is {number}."
        assert reply.message_id.startswith(f"{number}.")
        assert reply.sender == "Wikipedia information team <info-en@example.org>"
    # Each answer goes to the sender of its ticket's first message, in reply to it.
    with session_factory() as s:
        for reply in replies:
            assert reply is not None
            first = s.scalars(
                select(Article).where(Article.ticket_id == reply.ticket_id).order_by(Article.id)
            ).first()
            assert first is not None and first.kind == "inbound" and first.id < reply.id
            assert reply.to == first.sender_address and reply.in_reply_to == first.message_id
    assert len({r.message_id for r in replies if r}) == len(replies)


@pytest.mark.parametrize("size", [10, 60])
def test_a_batch_of_new_tickets_takes_the_same_statements_whatever_its_size(
    settings: Settings, session_factory: sessionmaker[Session], size: int
) -> None:
    """Acknowledged or not, a batch is written with a fixed number of statements: a
    statement per message would show up as ingest slowing down with the batch size."""
    prepare(session_factory)
    ingestor = Ingestor(settings, session_factory)
    ingestor.ingest_many([make_mail(subject="warm-up one"), make_mail(subject="warm-up two")])
    engine = session_factory.kw["bind"]
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement[:90].replace("\n", " "))

    mails = [
        make_mail(sender=f"Reader {i} <r{i}@example.net>", subject=f"Question {i}")
        for i in range(size)
    ]
    event.listen(engine, "before_cursor_execute", count)
    try:
        outcomes = ingestor.ingest_many(mails, source="lmtp")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [o.status for o in outcomes] == ["stored"] * size
    with session_factory() as s:
        assert len(list(s.scalars(select(OutboxJob)))) == size + 2
    # SELECTs: known articles, tickets, caps, the queue and its address; INSERTs: number
    # counter, tickets, articles, jobs, the ledger of answers, audit events.
    assert len(statements) <= 16, "\n".join(statements)
