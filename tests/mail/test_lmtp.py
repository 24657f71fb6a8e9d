"""The LMTP listener, spoken to with the standard library's LMTP client."""

from __future__ import annotations

import dataclasses
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.mailservers import free_port
from wikibridge.config import Settings
from wikibridge.db import make_engine, make_sessionmaker
from wikibridge.mail.ingest import Ingestor
from wikibridge.mail.lmtp import (
    LmtpController,
    LmtpHandler,
    add_delivery_headers,
    make_controller,
)
from wikibridge.mail.spool import Spool
from wikibridge.models import Article, Queue, Ticket
from wikibridge.store import queues

REPO = Path(__file__).resolve().parents[2]
DATABASE_DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/wikibridge"
SENDER = "reader@example.net"


def message(subject: str = "A question", to: str = "someone@example.org") -> bytes:
    return (
        f"From: A Reader <{SENDER}>\r\n"
        f"To: {to}\r\n"
        f"Subject: {subject}\r\n"
        "Message-ID: <lmtp-test-1@example.net>\r\n"
        "\r\n"
        "Hello.\r\n"
    ).encode()


def article_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Article)) or 0


Listener = Callable[..., tuple[str, int]]


@pytest.fixture
def start_listener() -> Iterator[Listener]:
    """Start an in-process LMTP listener for an Ingestor on a free port: (host, port)."""
    running: list[tuple[LmtpController, LmtpHandler]] = []

    def start(ingestor: Ingestor, max_message_bytes: int | None = None) -> tuple[str, int]:
        handler = LmtpHandler(ingestor)
        controller = LmtpController(
            handler, hostname="127.0.0.1", port=free_port(), data_size_limit=max_message_bytes
        )
        controller.start()
        running.append((controller, handler))
        return controller.hostname, controller.port

    yield start
    for controller, handler in running:
        controller.stop()
        handler.close()


@pytest.fixture
def listener(
    start_listener: Listener, settings: Settings, session_factory: sessionmaker[Session]
) -> tuple[str, int]:
    return start_listener(Ingestor(settings, session_factory))


@pytest.fixture
def down_listener(start_listener: Listener, settings: Settings) -> Iterator[tuple[str, int]]:
    engine = make_engine(DATABASE_DOWN)
    down = dataclasses.replace(settings, database_url=DATABASE_DOWN)
    yield start_listener(Ingestor(down, make_sessionmaker(engine)))
    engine.dispose()


def deliver(
    address: tuple[str, int], recipients: list[str], raw: bytes
) -> tuple[list[tuple[int, bytes]], int]:
    """One LMTP transaction by hand: the replies after DATA, and the code QUIT got.

    smtplib's sendmail reads a single reply after DATA (it speaks SMTP); LMTP sends one per
    recipient, so the others are read here. Too few replies would time out; too many would
    show up as the answer to QUIT.
    """
    client = smtplib.LMTP(address[0], address[1], timeout=10)
    try:
        code, _ = client.ehlo()  # LHLO
        assert code == 250
        assert client.mail(SENDER)[0] == 250
        for rcpt in recipients:
            assert client.rcpt(rcpt)[0] == 250
        replies = [client.data(raw)]
        replies += [client.getreply() for _ in recipients[1:]]
        quit_code = client.docmd("QUIT")[0]
    finally:
        client.close()
    return replies, quit_code


def test_delivery_is_stored_and_answered_with_the_ticket(
    listener: tuple[str, int], session_factory: sessionmaker[Session]
) -> None:
    client = smtplib.LMTP(*listener, timeout=10)
    refused = client.sendmail(SENDER, ["info-en@example.org"], message())
    client.quit()

    assert refused == {}
    with session_factory() as session:
        article = session.scalars(select(Article)).one()
        ticket = session.get(Ticket, article.ticket_id)
        assert ticket is not None
        assert article.subject == "A question"
    replies, _ = deliver(listener, ["info-en@example.org"], message())
    # The same delivery again (the mail server retrying): recognised, not stored twice.
    assert replies == [(250, f"2.0.0 Ok: already stored as ticket {ticket.number}".encode())]
    assert article_count(session_factory) == 1


def test_every_recipient_gets_a_reply_and_the_message_is_stored_once(
    listener: tuple[str, int], session_factory: sessionmaker[Session]
) -> None:
    recipients = ["info-en@example.org", "press@example.org", "permissions@example.org"]

    replies, quit_code = deliver(listener, recipients, message())

    assert len(replies) == 3
    assert {code for code, _ in replies} == {250}
    assert len({text for _, text in replies}) == 1
    assert replies[0][1].startswith(b"2.0.0 Ok: stored as ticket ")
    assert quit_code == 221  # no reply left over
    assert article_count(session_factory) == 1


def test_envelope_recipient_chooses_the_queue(
    listener: tuple[str, int], session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        queue = queues.ensure(session, "permissions-commons", "permissions")
        queues.add_address(session, queue, "permissions-commons@wikimedia.org")

    # Sent as Bcc: the queue's address is only in the envelope.
    replies, _ = deliver(listener, ["permissions-commons@wikimedia.org"], message())

    assert replies[0][0] == 250
    with session_factory() as session:
        ticket = session.scalars(select(Ticket)).one()
        chosen = session.get(Queue, ticket.queue_id)
        assert chosen is not None and chosen.name == "permissions-commons"


def test_database_down_answers_451_to_every_recipient_and_keeps_the_message(
    down_listener: tuple[str, int],
    listener: tuple[str, int],
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    client = smtplib.LMTP(*down_listener, timeout=10)
    with pytest.raises(smtplib.SMTPDataError) as failed:
        client.sendmail(SENDER, ["info-en@example.org"], message())
    client.close()
    assert failed.value.smtp_code == 451
    assert failed.value.smtp_error == b"4.3.0 temporary failure, try again later"

    replies, quit_code = deliver(down_listener, ["a@example.org", "b@example.org"], message())
    assert [code for code, _ in replies] == [451, 451]
    assert quit_code == 221

    spool = Spool(settings.data_dir)
    assert len(spool.pending()) == 2  # one per distinct delivery (the envelope differs)
    assert article_count(session_factory) == 0

    # Recovery: the spool is reprocessed, and the mail server's retry is a duplicate.
    outcomes = Ingestor(settings, session_factory).reprocess()
    assert [o.status for o in outcomes] == ["stored", "stored"]
    replies, _ = deliver(listener, ["a@example.org", "b@example.org"], message())
    assert [code for code, _ in replies] == [250, 250]
    assert replies[0][1].startswith(b"2.0.0 Ok: already stored")
    assert article_count(session_factory) == 2


def test_too_big_message_is_refused_for_every_recipient(
    start_listener: Listener, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    address = start_listener(Ingestor(settings, session_factory), max_message_bytes=2000)
    big = message() + (b"x" * 70 + b"\r\n") * 100

    replies, quit_code = deliver(address, ["a@example.org", "b@example.org"], big)

    assert [code for code, _ in replies] == [552, 552]
    assert quit_code == 221
    assert article_count(session_factory) == 0


def test_lines_starting_with_a_dot_arrive_as_sent(
    listener: tuple[str, int], settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    # smtplib doubles a leading dot; the listener must undouble it, and only a lone dot
    # ends the data.
    body = b"Hello.\r\n.\r\n..two\r\n.signature\r\nEnd.\r\n"
    raw = message().replace(b"Hello.\r\n", body)

    replies, quit_code = deliver(listener, ["info-en@example.org"], raw)

    assert replies[0][0] == 250
    assert quit_code == 221
    with session_factory() as session:
        sha = session.scalars(select(Article.raw_sha256)).one()
    assert sha is not None
    stored = Spool(settings.data_dir).read(sha)
    assert stored.endswith(b"\r\n\r\n" + body)


def test_too_long_line_is_refused_for_every_recipient(
    listener: tuple[str, int], session_factory: sessionmaker[Session]
) -> None:
    raw = message() + b"x" * 1200 + b"\r\n"

    replies, quit_code = deliver(listener, ["a@example.org", "b@example.org"], raw)

    assert [code for code, _ in replies] == [500, 500]
    assert quit_code == 221
    assert article_count(session_factory) == 0


def test_unix_socket(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    handler = LmtpHandler(Ingestor(settings, session_factory))
    with tempfile.TemporaryDirectory(prefix="wb-lmtp-") as tmp:
        path = Path(tmp) / "lmtp.sock"
        controller = make_controller(handler, socket_path=path)
        controller.start()
        try:
            client = smtplib.LMTP(str(path), timeout=10)
            assert client.sendmail(SENDER, ["info-en@example.org"], message()) == {}
            client.quit()
        finally:
            controller.stop()
            handler.close()
    assert article_count(session_factory) == 1


def test_delivery_headers_name_the_envelope() -> None:
    raw = add_delivery_headers(b"Subject: x\r\n\r\nbody\r\n", "s@example.net", ["a@x", "b@x"])
    assert raw.startswith(
        b"Return-Path: <s@example.net>\r\nDelivered-To: a@x\r\nDelivered-To: b@x\r\nSubject: x"
    )
    # A bounce has an empty sender; nothing from the envelope can break a header line.
    assert add_delivery_headers(b"S: x\n\nb\n", None, ["a@x\r\nX-Evil: 1"]).startswith(
        b"Return-Path: <>\nDelivered-To: a@xX-Evil:1\nS: x"
    )


def test_lmtp_command_stops_gracefully_on_sigterm(
    settings_env: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wikibridge", "lmtp", "--port", str(port)],
        cwd=REPO,
        env=dict(settings_env, PYTHONPATH=str(REPO)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the LMTP listener did not start"
                time.sleep(0.1)
        replies, _ = deliver(("127.0.0.1", port), ["info-en@example.org"], message())
        assert replies[0][0] == 250
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "listening on 127.0.0.1:" in stderr
    assert "stopped" in stderr
    assert article_count(session_factory) == 1
