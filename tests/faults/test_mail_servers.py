"""SMTP down or refusing, and IMAP dropping the connection in the middle of a FETCH: the job is
retried or failed with the server's reason, nothing is sent twice, nothing fetched is lost and
nothing is marked seen or deleted before it is stored.

The IMAP server stopped or the connection shut between two messages: tests/mail/test_imap.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.faults.conftest import show
from tests.faults.proxies import CuttingProxy
from tests.jobs.conftest import make_worker, queue_reply
from tests.mail.test_imap import article_count, deliver
from tests.mailservers import DovecotServer
from tests.smtpserver import SmtpServer, free_port, smtp_server  # noqa: F401 - fixture
from wikibridge.config import Settings
from wikibridge.mail.imap import fetch_mailbox
from wikibridge.mail.ingest import Ingestor
from wikibridge.mail.spool import Spool
from wikibridge.models import OutboxJob


def job(sessions: sessionmaker[Session]) -> OutboxJob:
    with sessions() as s:
        return s.scalars(select(OutboxJob)).one()


# -- SMTP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "reply"),
    [("rcpt", "450 4.2.1 Mailbox busy, try later"), ("data", "451 4.3.0 Queue full")],
)
def test_smtp_refusing_for_now_is_retried_then_sent_once(
    settings: Settings,
    session_factory: sessionmaker[Session],
    smtp_server: SmtpServer,  # noqa: F811
    where: str,
    reply: str,
) -> None:
    queue_reply(session_factory, settings)
    if where == "rcpt":
        smtp_server.collector.refuse_rcpt["*"] = reply
    else:
        smtp_server.collector.refuse_data = reply
    worker = make_worker(settings, session_factory, smtp_server.port)
    show("before", mails=len(smtp_server.received))

    assert worker.run_once() == {"pending": 1}
    refused = job(session_factory)
    show("refused", job=refused.state, error=refused.last_error[:70])
    assert reply in refused.last_error and refused.state == "pending"
    assert smtp_server.received == []

    smtp_server.collector.refuse_rcpt.clear()
    smtp_server.collector.refuse_data = ""
    assert worker.run_once() == {"done": 1}
    assert worker.run_once() == {}
    show("after", job=job(session_factory).state, mails=len(smtp_server.received))
    assert len(smtp_server.received) == 1


def test_smtp_down_is_retried_then_sent_once(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """Nothing listens on the SMTP port: the job waits with the reason; once a server is
    there, the mail goes out once."""
    queue_reply(session_factory, settings)
    port = free_port()
    worker = make_worker(settings, session_factory, port)
    show("before", job=job(session_factory).state, mails=0)

    assert worker.run_once() == {"pending": 1}
    waiting = job(session_factory)
    show("down", job=waiting.state, attempts=waiting.attempts, error=waiting.last_error[:70])
    assert waiting.state == "pending" and waiting.last_error

    server = SmtpServer(port).start()
    try:
        assert worker.run_once() == {"done": 1}
        assert worker.run_once() == {}
        show("after", job=job(session_factory).state, mails=len(server.received))
        assert len(server.received) == 1
    finally:
        server.stop()


def test_smtp_refusing_for_good_fails_with_the_reason_and_sends_nothing(
    settings: Settings,
    session_factory: sessionmaker[Session],
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    queue_reply(session_factory, settings)
    smtp_server.collector.refuse_data = "554 5.7.1 Message rejected as spam"
    worker = make_worker(settings, session_factory, smtp_server.port)
    assert worker.run_once() == {"failed": 1}
    smtp_server.collector.refuse_data = ""
    assert worker.run_once() == {}  # a failed job waits for a person (wikibridge jobs --retry)
    failed = job(session_factory)
    show("after", job=failed.state, mails=len(smtp_server.received), error=failed.last_error)
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert "554 5.7.1 Message rejected as spam" in failed.last_error
    assert smtp_server.received == []


# -- IMAP ---------------------------------------------------------------------------------------


@pytest.fixture
def ingestor(settings: Settings, session_factory: sessionmaker[Session]) -> Ingestor:
    return Ingestor(settings, session_factory)


@pytest.mark.parametrize("delete", [False, True], ids=["mark-seen", "delete"])
def test_imap_connection_cut_inside_a_fetch_loses_and_doubles_nothing(
    dovecot: DovecotServer,
    imap_folder: str,
    ingestor: Ingestor,
    session_factory: sessionmaker[Session],
    delete: bool,
) -> None:
    """A proxy between the fetcher and dovecot cuts the connection 40 bytes into the second
    message's literal: the first is stored and marked, the second neither."""
    uids = deliver(dovecot, imap_folder, 3)
    proxy = CuttingProxy((dovecot.host, dovecot.port))
    proxy.cut_after(b"BODY[] {", occurrence=2, extra=40)
    mailbox = dovecot.mailbox(imap_folder, port=proxy.port, delete=delete)
    show("before", in_mailbox=len(dovecot.uids(imap_folder)), articles=0)

    cut = fetch_mailbox(mailbox, ingestor, timeout=10)

    remaining = "ALL" if delete else "UNSEEN"
    left = len(dovecot.uids(imap_folder, remaining))
    show("cut", stored=cut.stored, error=cut.error[:60], left=left)
    assert proxy.cuts == 1
    assert not cut.ok and cut.error.startswith("IMAP")
    assert cut.stored == 1
    assert dovecot.uids(imap_folder, remaining) == uids[1:]
    assert article_count(session_factory) == 1

    again = fetch_mailbox(mailbox, ingestor, timeout=10)
    proxy.close()

    assert again.ok, again.error
    assert (again.stored, again.duplicate) == (2, 0)
    assert dovecot.uids(imap_folder, remaining) == []
    articles = article_count(session_factory)
    show("after", articles=articles, spooled=len(Spool(ingestor.settings.data_dir).pending()))
    assert articles == 3
    assert Spool(ingestor.settings.data_dir).pending() == []
