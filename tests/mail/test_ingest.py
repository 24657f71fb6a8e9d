"""Mail intake on SQLite and PostgreSQL: threading, routing, loops, idempotency."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.mailbuilder import make_mail
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor, Outcome
from wikibridge.models import (
    Article,
    Attachment,
    AuditEvent,
    OutboxJob,
    Queue,
    RoutingRule,
    Ticket,
)
from wikibridge.store import queues
from wikibridge.tickets.numbers import is_valid


@pytest.fixture
def ingestor(settings: Settings, session_factory: sessionmaker[Session]) -> Ingestor:
    with session_factory.begin() as s:
        info = queues.ensure(s, "info-en", "info", signature="-- \nThe volunteer response team")
        queues.add_address(s, info, "info-en@example.org", "Wikipedia information team")
        perm = queues.ensure(s, "permissions-commons", "permissions")
        queues.add_address(s, perm, "permissions@example.org")
    return Ingestor(settings, session_factory)


@pytest.fixture
def q(session_factory: sessionmaker[Session]) -> Callable[..., object]:
    """Run a query in a fresh session: q(lambda s: ...)."""

    def run(fn: Callable[[Session], object]) -> object:
        with session_factory() as s:
            return fn(s)

    return run


def ticket_of(session_factory: sessionmaker[Session], outcome: Outcome) -> Ticket:
    with session_factory() as s:
        return s.scalars(select(Ticket).where(Ticket.number == outcome.ticket_number)).one()


def article(session_factory: sessionmaker[Session], article_id: int | None) -> Article:
    with session_factory() as s:
        a = s.get(Article, article_id)
        assert a is not None
        return a


def count(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_new_mail_opens_a_ticket_in_the_queue_of_its_address(
    ingestor: Ingestor, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    raw = make_mail(attachments=[("scan.pdf", "application/pdf", b"%PDF-1.4 test")])
    outcome = ingestor.ingest(raw)
    assert outcome.status == "stored" and outcome.new_ticket
    assert is_valid(outcome.ticket_number)
    ticket = ticket_of(session_factory, outcome)
    with session_factory() as s:
        assert s.get(Queue, ticket.queue_id).name == "info-en"  # type: ignore[union-attr]
        atts = list(s.scalars(select(Attachment)))
    assert ticket.requester == "jane@example.net" and ticket.state == "new"
    assert ticket.title == "Error in the article about Ada Lovelace"
    a = article(session_factory, outcome.article_id)
    assert a.kind == "inbound" and "birth date" in a.body_text and a.flags == []
    # The raw bytes are kept, content-addressed; nothing is left waiting in the spool.
    assert ingestor.spool.raw.get(outcome.sha256) == raw
    assert ingestor.spool.pending() == []
    assert [(x.filename, x.size) for x in atts] == [("scan.pdf", 13)]
    assert ingestor.blobs.get(atts[0].blob_sha256) == b"%PDF-1.4 test"


def test_same_message_twice_is_one_article(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    raw = make_mail()
    first = ingestor.ingest(raw)
    second = ingestor.ingest(raw)
    assert second.status == "duplicate" and second.article_id == first.article_id
    assert count(session_factory, Article) == 1 and count(session_factory, Ticket) == 1


def test_same_message_id_with_other_bytes_is_kept_and_flagged(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    first = ingestor.ingest(make_mail(message_id="<same@example.net>", body="one"))
    second = ingestor.ingest(make_mail(message_id="<same@example.net>", body="two"))
    assert second.status == "stored" and second.article_id != first.article_id
    assert article(session_factory, second.article_id).flags == ["message_id_conflict"]


def test_follow_up_by_subject_hook_reopens_the_ticket(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    first = ingestor.ingest(make_mail())
    with session_factory.begin() as s:
        s.scalars(select(Ticket)).one().state = "closed successful"
    reply = ingestor.ingest(make_mail(subject=f"Re: [Ticket#{first.ticket_number}] Error"))
    assert reply.ticket_number == first.ticket_number and not reply.new_ticket
    assert ticket_of(session_factory, reply).state == "open"
    assert article(session_factory, reply.article_id).flags == []


def test_follow_up_by_references(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    first = ingestor.ingest(make_mail(message_id="<orig-1@example.net>"))
    reply = ingestor.ingest(
        make_mail(
            subject="Re: Error in the article",
            in_reply_to="<unknown@example.net>",
            references="<orig-1@example.net> <unknown@example.net>",
        )
    )
    assert reply.ticket_number == first.ticket_number
    assert count(session_factory, Ticket) == 1


def test_guessed_number_from_a_stranger_opens_a_ticket_of_its_own(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    first = ingestor.ingest(make_mail())
    forged = ingestor.ingest(
        make_mail(
            sender="Mallory <mallory@example.com>",
            subject=f"[Ticket#{first.ticket_number}] please delete the article",
        )
    )
    assert forged.new_ticket and forged.ticket_number != first.ticket_number
    assert article(session_factory, forged.article_id).flags == ["cites_other_ticket"]
    with session_factory() as s:
        original = s.scalars(select(Ticket).where(Ticket.number == first.ticket_number)).one()
        on_original = s.scalar(
            select(func.count()).select_from(Article).where(Article.ticket_id == original.id)
        )
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert on_original == 1  # the requester's ticket holds only the requester's mail
    assert "cites_other_ticket" in actions


def test_number_from_a_stranger_with_a_matching_reference_is_trusted(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    first = ingestor.ingest(make_mail(message_id="<orig-2@example.net>"))
    cc_reply = ingestor.ingest(
        make_mail(
            sender="Colleague <colleague@example.com>",
            subject=f"Re: [Ticket#{first.ticket_number}] Error",
            in_reply_to="<orig-2@example.net>",
        )
    )
    assert article(session_factory, cc_reply.article_id).flags == []


def test_follow_up_to_a_merged_ticket_lands_on_the_target(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    a = ingestor.ingest(make_mail(subject="First"))
    b = ingestor.ingest(make_mail(subject="Second"))
    with session_factory.begin() as s:
        ta = s.scalars(select(Ticket).where(Ticket.number == a.ticket_number)).one()
        tb = s.scalars(select(Ticket).where(Ticket.number == b.ticket_number)).one()
        ta.merged_into_id, ta.state = tb.id, "merged"
    reply = ingestor.ingest(make_mail(subject=f"Re: [Ticket#{a.ticket_number}] First"))
    assert reply.ticket_number == b.ticket_number


def test_routing_rules_in_order_then_address_then_fallback(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as s:
        press = queues.ensure(s, "press", "press")
        perm = queues.by_name(s, "permissions-commons")
        assert perm is not None
        s.add_all(
            [
                RoutingRule(
                    position=2, field="subject", pattern=r"\binterview\b", queue_id=press.id
                ),
                RoutingRule(
                    position=1,
                    field="header",
                    header_name="X-Tool",
                    pattern="^upload",
                    queue_id=perm.id,
                ),
                RoutingRule(position=3, field="body", pattern="(", queue_id=press.id),  # invalid
            ]
        )

    def queue_name(outcome: Outcome) -> str:
        with session_factory() as s:
            t = s.scalars(select(Ticket).where(Ticket.number == outcome.ticket_number)).one()
            return s.get(Queue, t.queue_id).name  # type: ignore[union-attr]

    interview = ingestor.ingest(make_mail(subject="Interview request", to="x@example.com"))
    tool = ingestor.ingest(
        make_mail(subject="Interview", headers={"X-Tool": "upload-wizard"}, to="x@example.com")
    )
    by_address = ingestor.ingest(make_mail(to="permissions@example.org"))
    nowhere = ingestor.ingest(make_mail(to="someone@example.com"))
    hinted = ingestor.ingest(make_mail(to="someone@example.com", subject="hint"), queue="press")
    assert queue_name(interview) == "press"
    assert queue_name(tool) == "permissions-commons"  # rule 1 comes before rule 2
    assert queue_name(by_address) == "permissions-commons"
    assert queue_name(nowhere) == "Raw"
    assert queue_name(hinted) == "press"


@pytest.mark.parametrize(
    "headers", [{"X-Spam-Flag": "YES"}, {"X-Spam-Score": "12.5"}, {"X-Spam-Level": "*******"}]
)
def test_spam_goes_to_the_spam_queue(
    ingestor: Ingestor, session_factory: sessionmaker[Session], headers: dict[str, str]
) -> None:
    outcome = ingestor.ingest(make_mail(headers=headers))
    with session_factory() as s:
        t = s.scalars(select(Ticket)).one()
        assert s.get(Queue, t.queue_id).name == "Junk"  # type: ignore[union-attr]
    assert "spam" in article(session_factory, outcome.article_id).flags


def test_low_spam_score_is_not_spam(ingestor: Ingestor) -> None:
    outcome = ingestor.ingest(make_mail(headers={"X-Spam-Score": "1.2"}))
    assert outcome.status == "stored"


@pytest.fixture
def auto_ack(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as s:
        info = queues.by_name(s, "info-en")
        assert info is not None
        info.auto_ack = True
        info.ack_subject = "We received your message"
        info.ack_body = "Thank you. Your ticket number is {ticket}."


def test_acknowledgement_goes_through_the_outbox_with_threading(
    ingestor: Ingestor, session_factory: sessionmaker[Session], auto_ack: None
) -> None:
    outcome = ingestor.ingest(make_mail(message_id="<ask-1@example.net>"))
    with session_factory() as s:
        job = s.scalars(select(OutboxJob)).one()
        reply = s.get(Article, job.payload["article_id"])
    assert job.kind == "send_mail" and job.state == "pending"
    assert reply is not None and reply.kind == "outbound"
    assert reply.to == "jane@example.net" and reply.in_reply_to == "ask-1@example.net"
    assert reply.subject == f"[Ticket#{outcome.ticket_number}] We received your message"
    assert outcome.ticket_number in reply.body_text
    assert reply.sender == "Wikipedia information team <info-en@example.org>"


@pytest.mark.parametrize(
    "mail",
    [
        {"headers": {"Auto-Submitted": "auto-replied"}},
        {"headers": {"Precedence": "bulk"}},
        {"headers": {"List-Id": "<wikien-l.lists.example.org>"}},
        {"sender": "MAILER-DAEMON@example.net", "subject": "Undelivered Mail"},
        {"sender": "info-en@example.org"},  # our own address: a loop
        {"sender": "permissions@example.org"},
    ],
)
def test_no_acknowledgement_that_could_loop(
    ingestor: Ingestor,
    session_factory: sessionmaker[Session],
    auto_ack: None,
    mail: dict[str, object],
) -> None:
    outcome = ingestor.ingest(make_mail(**mail))  # type: ignore[arg-type]
    assert outcome.status == "stored"
    assert count(session_factory, OutboxJob) == 0


def test_acknowledgements_are_capped_per_sender_per_day(
    ingestor: Ingestor, session_factory: sessionmaker[Session], auto_ack: None, settings: Settings
) -> None:
    cap = settings.mail.auto_reply_daily_cap
    for i in range(cap + 3):
        ingestor.ingest(make_mail(subject=f"Question {i}"))
    assert count(session_factory, Ticket) == cap + 3
    assert count(session_factory, OutboxJob) == cap
    with session_factory() as s:
        capped = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "auto_reply_capped")
        )
    assert capped == 3


def test_the_same_attachment_is_stored_once(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    photo = ("photo.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 same bytes" * 100)
    ingestor.ingest(make_mail(subject="one", attachments=[photo]))
    ingestor.ingest(make_mail(subject="two", attachments=[photo]))
    with session_factory() as s:
        shas = list(s.scalars(select(Attachment.blob_sha256)))
    assert len(shas) == 2 and len(set(shas)) == 1
    blob_files = [p for p in ingestor.blobs.root.rglob("*") if p.is_file()]
    assert len(blob_files) == 1


def test_oversized_message_is_quarantined_not_dropped(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    from dataclasses import replace

    small = replace(settings, mail=replace(settings.mail, max_message_bytes=1000))
    ingestor = Ingestor(small, session_factory)
    raw = make_mail(body="x" * 5000)
    outcome = ingestor.ingest(raw)
    assert outcome.status == "quarantined" and "exceeds" in outcome.reason
    [entry] = ingestor.spool.quarantined()
    assert entry.sha256 == outcome.sha256 and ingestor.spool.raw.get(entry.sha256) == raw
    assert count(session_factory, Article) == 0


def test_a_batch_is_stored_with_one_commit_and_the_same_outcomes(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    first = make_mail(message_id="<batch-1@example.net>")
    batch = [
        first,
        make_mail(subject="Re: Error", in_reply_to="<batch-1@example.net>"),  # same batch
        first,  # the same bytes again
        make_mail(subject="Another question", sender="other@example.com"),
    ]
    outcomes = ingestor.ingest_many(batch, source="test")
    assert [o.status for o in outcomes] == ["stored", "stored", "duplicate", "stored"]
    assert outcomes[1].ticket_number == outcomes[0].ticket_number
    assert outcomes[3].ticket_number != outcomes[0].ticket_number
    assert count(session_factory, Article) == 3 and count(session_factory, Ticket) == 2
    assert ingestor.spool.pending() == []


def test_language_rule_uses_content_language_or_detection(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as s:
        de = queues.ensure(s, "info-de", "info", language="de")
        s.add(RoutingRule(position=1, field="language", pattern="de", queue_id=de.id))

    def queue_name(outcome: Outcome) -> str:
        with session_factory() as s:
            t = s.scalars(select(Ticket).where(Ticket.number == outcome.ticket_number)).one()
            return s.get(Queue, t.queue_id).name  # type: ignore[union-attr]

    german = ingestor.ingest(
        make_mail(
            subject="Fehler im Artikel",
            body="Guten Tag, in dem Artikel über die Stadt steht ein falsches Datum. "
            "Bitte korrigieren Sie das, vielen Dank für Ihre Hilfe.",
            to="someone@example.com",
        )
    )
    declared = ingestor.ingest(
        make_mail(
            subject="x",
            body="short",
            to="someone@example.com",
            headers={"Content-Language": "de-CH"},
        )
    )
    english = ingestor.ingest(
        make_mail(
            body="Hello, the article about the city has a wrong date in it. "
            "Please correct it, thank you very much for your help.",
            to="someone@example.com",
        )
    )
    assert queue_name(german) == "info-de"
    assert queue_name(declared) == "info-de"
    assert queue_name(english) == "Raw"
