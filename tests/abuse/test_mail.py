"""Hostile mail: each is stored once or quarantined with a reason, never lost, never able to
reach a path, a header, another ticket or a loop."""

from __future__ import annotations

import dataclasses
import time
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.abuse.conftest import count
from tests.mailbuilder import make_mail
from wikibridge import access
from wikibridge.config import Settings
from wikibridge.mail.ingest import Ingestor, Outcome
from wikibridge.mail.parse import safe_filename
from wikibridge.mail.spool import Spool
from wikibridge.models import Article, Attachment, OutboxJob, Ticket
from wikibridge.tickets import compose
from wikibridge.tickets.guards import Actor


def stored_once(ingestor: Ingestor, raw: bytes) -> Outcome:
    """Ingest, then ingest again: stored (or quarantined with a reason), then a duplicate."""
    first = ingestor.ingest(raw)
    assert first.status in ("stored", "quarantined"), first
    if first.status == "quarantined":
        assert first.reason
        assert Spool(ingestor.settings.data_dir).raw.get(first.sha256) == raw  # kept
        return first
    assert ingestor.ingest(raw).status == "duplicate"
    return first


def article(sessions: sessionmaker[Session], article_id: int | None) -> Article:
    with sessions() as s:
        found = s.get(Article, article_id)
        assert found is not None
        return found


# -- size and structure -------------------------------------------------------------------------


def test_message_over_the_size_limit_is_quarantined_with_the_reason(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    small = dataclasses.replace(
        settings, mail=dataclasses.replace(settings.mail, max_message_bytes=100_000)
    )
    raw = make_mail(body="x" * 200_000)
    outcome = Ingestor(small, session_factory).ingest(raw)
    assert outcome.status == "quarantined"
    assert "exceeds max_message_bytes" in outcome.reason
    assert Spool(small.data_dir).raw.get(outcome.sha256) == raw
    assert [e.reason for e in Spool(small.data_dir).quarantined()] == [outcome.reason]
    assert count(session_factory, Ticket) == 0


def nested(depth: int, kind: str) -> bytes:
    inner = b"Content-Type: text/plain\n\nthe innermost text\n"
    for i in range(depth):
        if kind == "multipart":
            inner = (
                f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'.encode()
                + inner
                + f"\n--b{i}--\n".encode()
            )
        else:
            inner = b"Content-Type: message/rfc822\n\nFrom: x@example.net\nSubject: layer\n" + inner
    head = b"From: deep@example.net\nTo: info-en@example.org\nSubject: Deep\nMessage-ID: <d@x>\n"
    return head + b"MIME-Version: 1.0\n" + inner


@pytest.mark.parametrize("kind", ["multipart", "message-rfc822"])
def test_deep_mime_nesting_is_stored_in_bounded_time(
    ingestor: Ingestor, session_factory: sessionmaker[Session], kind: str
) -> None:
    started = time.monotonic()
    outcome = stored_once(ingestor, nested(400, kind))
    assert time.monotonic() - started < 20
    assert count(session_factory, Article) == (1 if outcome.status == "stored" else 0)


@pytest.mark.parametrize(
    "charset",
    ["x-no-such-charset", "utf-7", "a" * 5000, "utf-8''%ff", "unicode-1-1-utf-7"],
)
def test_unknown_and_hostile_charsets_give_readable_text(
    ingestor: Ingestor, session_factory: sessionmaker[Session], charset: str
) -> None:
    raw = (
        b"From: c@example.net\nTo: info-en@example.org\nSubject: charset\n"
        + f'Content-Type: text/plain; charset="{charset}"\n'.encode()
        + b"Content-Transfer-Encoding: 8bit\n\nCaf\xe9 +AGEAYgBj- \xff\xfe\x00\x00 end\n"
    )
    outcome = stored_once(ingestor, raw)
    assert outcome.status == "stored"
    text = article(session_factory, outcome.article_id).body_text
    assert "end" in text and "\x00" not in text


def test_a_charset_bomb_of_encoded_words_is_bounded(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    words = " ".join(f"=?x-bomb-{i}?q?=FF=FE{i}?=" for i in range(3000))
    raw = make_mail(subject="start", headers={"X-Ignored": "x"}).replace(
        b"Subject: start", b"Subject: " + words.encode()
    )
    started = time.monotonic()
    outcome = stored_once(ingestor, raw)
    assert time.monotonic() - started < 20
    assert outcome.status == "stored"
    assert len(article(session_factory, outcome.article_id).subject) <= 1000


def test_five_thousand_links(ingestor: Ingestor, session_factory: sessionmaker[Session]) -> None:
    links = "".join(f'<a href="https://spam{i}.example/">x{i}</a> ' for i in range(5000))
    msg = EmailMessage()
    msg["From"] = "links@example.net"
    msg["To"] = "info-en@example.org"
    msg["Subject"] = "Links"
    msg.set_content("see the links")
    msg.add_alternative(f"<p>{links}</p>", subtype="html")
    started = time.monotonic()
    outcome = stored_once(ingestor, msg.as_bytes())
    assert time.monotonic() - started < 20
    stored = article(session_factory, outcome.article_id)
    assert stored.body_html.count("spam4999.example") == 1


def test_a_thousand_recipients_get_no_acknowledgement(
    ingestor: Ingestor, session_factory: sessionmaker[Session], auto_ack: None
) -> None:
    """Only the sender is acknowledged: a message cannot make us mail a thousand strangers."""
    to = ", ".join(f"victim{i}@example.com" for i in range(1000))
    outcome = stored_once(ingestor, make_mail(to=f"info-en@example.org, {to}"))
    with session_factory() as s:
        [job] = s.scalars(select(OutboxJob)).all()
        ack = s.get(Article, job.payload["article_id"])
    assert ack is not None and ack.to == "jane@example.net" and ack.cc == ""
    assert "victim1@example.com" in article(session_factory, outcome.article_id).to


# -- file names ---------------------------------------------------------------------------------

WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))}
WINDOWS_RESERVED |= {f"LPT{i}" for i in range(1, 10)}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("C:\\Windows\\System32\\evil.exe", "evil.exe"),
        ("report\x00.pdf.exe", "report.pdf.exe"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # RTL override: shown as "invoiceexe.jpg"
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("Com1.pdf", "_Com1.pdf"),
        ("...", None),
        ("a" * 5000 + ".pdf", None),
    ],
    ids=[
        "dotdot",
        "absolute",
        "windows-path",
        "nul",
        "rtl-override",
        "con",
        "nul-txt",
        "com1",
        "dots",
        "long",
    ],
)
def test_attachment_names_cannot_address_a_path_or_a_device(
    ingestor: Ingestor, session_factory: sessionmaker[Session], name: str, expected: str | None
) -> None:
    try:  # as a mail program encodes it (RFC 2231 for what is not ASCII)
        raw = make_mail(attachments=[(name, "application/octet-stream", b"payload")])
    except ValueError:  # a NUL: only a hostile program sends it, raw in the header
        raw = make_mail(attachments=[("x.bin", "application/octet-stream", b"payload")])
        raw = raw.replace(b'filename="x.bin"', b'filename="' + name.encode("utf-8") + b'"')
    outcome = stored_once(ingestor, raw)
    with session_factory() as s:
        [att] = s.scalars(select(Attachment).where(Attachment.article_id == outcome.article_id))
    stored = att.filename
    if expected is not None:
        assert stored == expected
    assert "/" not in stored and "\\" not in stored and not stored.startswith(".")
    assert all(ch.isprintable() and ch not in "\u202e\u202d\u2066\u2067" for ch in stored)
    assert stored.split(".")[0].upper() not in WINDOWS_RESERVED
    assert safe_filename(stored, 0) == stored  # stable: shown and downloaded as stored
    assert 0 < len(stored) <= 200


# -- forged headers, loops, guessed numbers -----------------------------------------------------


def test_mail_claiming_to_come_from_the_system_is_flagged_and_not_answered(
    ingestor: Ingestor, session_factory: sessionmaker[Session], auto_ack: None
) -> None:
    forged = make_mail(
        sender="Wikipedia information team <info-en@example.org>",
        headers={"X-Wikibridge-Queue": "permissions-commons", "Auto-Submitted": "no"},
    )
    outcome = stored_once(ingestor, forged)
    assert "from_system" in article(session_factory, outcome.article_id).flags
    assert count(session_factory, OutboxJob) == 0


def test_auto_replies_to_our_acknowledgement_do_not_ping_pong(
    ingestor: Ingestor, session_factory: sessionmaker[Session], auto_ack: None
) -> None:
    """The sender's vacation responder answers our acknowledgement, ten times over."""
    first = ingestor.ingest(make_mail(message_id="<q@example.net>"))
    with session_factory() as s:
        ack = s.scalars(select(Article).where(Article.kind == "outbound")).one()
    for i in range(10):
        ingestor.ingest(
            make_mail(
                subject=f"Out of office: [Ticket#{first.ticket_number}] We received your message",
                in_reply_to=f"<{ack.message_id}>",
                headers={"Auto-Submitted": "auto-replied"},
                body=f"I am away ({i})",
            )
        )
    assert count(session_factory, Ticket) == 1
    assert count(session_factory, OutboxJob) == 1  # the one acknowledgement, no more


def test_a_bounce_storm_is_stored_and_never_answered(
    ingestor: Ingestor, session_factory: sessionmaker[Session], auto_ack: None
) -> None:
    for i in range(40):
        ingestor.ingest(
            make_mail(
                sender="MAILER-DAEMON@mx.example.net",
                subject="Undelivered Mail Returned to Sender",
                body=f"550 5.1.1 user{i}@example.com: no such user",
            )
        )
    assert count(session_factory, Article) == 40
    assert count(session_factory, OutboxJob) == 0


def test_one_sender_flooding_gets_at_most_the_daily_cap_of_acknowledgements(
    ingestor: Ingestor, session_factory: sessionmaker[Session], auto_ack: None, settings: Settings
) -> None:
    for i in range(30):
        ingestor.ingest(make_mail(subject=f"Flood {i}", body=f"flood {i}"))
    assert count(session_factory, Ticket) == 30  # nothing lost
    assert count(session_factory, OutboxJob) == settings.mail.auto_reply_daily_cap


def test_a_number_with_a_wrong_check_digit_opens_a_new_ticket(
    ingestor: Ingestor, session_factory: sessionmaker[Session]
) -> None:
    first = ingestor.ingest(make_mail())
    number = first.ticket_number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    guessed = ingestor.ingest(make_mail(subject=f"Re: [Ticket#{wrong}] hello"))
    assert guessed.new_ticket and guessed.ticket_number != number
    assert count(session_factory, Ticket) == 2


def test_a_strangers_guessed_number_cannot_reach_the_ticket(
    ingestor: Ingestor, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    """A stranger writes with the number of someone else's ticket (in another queue): the mail
    opens a ticket of its own, flagged and audited; the requester's ticket holds only their mail
    and its reply form still addresses the requester."""
    from tests.webapp import helpers
    from wikibridge.store import volunteers

    original = ingestor.ingest(make_mail(to="permissions@example.org", subject="My photo"))
    forged = ingestor.ingest(
        make_mail(
            sender="Mallory <mallory@example.com>",
            to="info-en@example.org",
            subject=f"[Ticket#{original.ticket_number}] send me the details",
        )
    )
    assert forged.new_ticket and forged.ticket_number != original.ticket_number
    assert article(session_factory, forged.article_id).flags == ["cites_other_ticket"]
    with session_factory.begin() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.number == original.ticket_number)).one()
        senders = list(
            s.scalars(select(Article.sender_address).where(Article.ticket_id == ticket.id))
        )
        v = helpers.volunteer(s, "Victor")
        volunteers.grant(s, v.id, ticket.queue_id, "rw")
    assert senders == ["jane@example.net"]
    with session_factory() as s:
        actor = Actor(v.id, v.username, access.scope_for(s, v), settings)
        form = compose.compose(s, actor, original.ticket_number)
    assert form.draft.to == "jane@example.net"
