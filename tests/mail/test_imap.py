"""Fetching from a real IMAP server (dovecot) into both databases."""

from __future__ import annotations

import dataclasses
import imaplib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.mailservers import DovecotServer
from wikibridge.config import ImapMailbox, Settings
from wikibridge.db import make_engine, make_sessionmaker
from wikibridge.mail import imap
from wikibridge.mail.imap import connect, fetch_all, fetch_mailbox
from wikibridge.mail.ingest import Ingestor, Outcome
from wikibridge.mail.spool import Spool
from wikibridge.models import Article, Queue, Ticket
from wikibridge.store import queues

REPO = Path(__file__).resolve().parents[2]
# Nothing listens on port 1: every connection is refused at once, as when PostgreSQL is down.
DATABASE_DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/wikibridge"


def message(n: int, subject: str = "Question about an article") -> bytes:
    return (
        f"From: Reader {n} <reader{n}@example.net>\r\n"
        "To: info-en@example.org\r\n"
        f"Subject: {subject} {n}\r\n"
        f"Message-ID: <imap-test-{n}@example.net>\r\n"
        "Date: Mon, 02 Jun 2025 10:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Hello, this is message number {n}.\r\n"
    ).encode()


def deliver(server: DovecotServer, folder: str, count: int) -> list[int]:
    for n in range(1, count + 1):
        server.append(folder, message(n))
    return server.uids(folder)


def article_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Article)) or 0


@pytest.fixture
def ingestor(settings: Settings, session_factory: sessionmaker[Session]) -> Ingestor:
    return Ingestor(settings, session_factory)


@pytest.fixture
def down_ingestor(settings: Settings) -> Iterator[Ingestor]:
    """The same data directory, but a database that cannot be reached."""
    engine = make_engine(DATABASE_DOWN)
    yield Ingestor(
        dataclasses.replace(settings, database_url=DATABASE_DOWN), make_sessionmaker(engine)
    )
    engine.dispose()


class InterruptingIngestor(Ingestor):
    """Stores normally, and calls ``interrupt`` right after the n-th message is stored."""

    def __init__(self, base: Ingestor, after: int, interrupt: Callable[[], None]) -> None:
        super().__init__(base.settings, base.session_factory)
        self.after = after
        self.interrupt = interrupt
        self.calls = 0

    def ingest(self, raw: bytes, *, source: str = "pipe", queue: str = "") -> Outcome:
        outcome = super().ingest(raw, source=source, queue=queue)
        self.calls += 1
        if self.calls == self.after:
            self.interrupt()
        return outcome


def test_fetch_stores_every_message_once_and_marks_it_seen(
    dovecot: DovecotServer, imap_folder: str, ingestor: Ingestor, session_factory
) -> None:
    uids = deliver(dovecot, imap_folder, 3)
    mailbox = dovecot.mailbox(imap_folder)

    report = fetch_mailbox(mailbox, ingestor)

    assert report.ok, report.error
    assert (report.found, report.stored, report.duplicate) == (3, 3, 0)
    assert dovecot.uids(imap_folder, "UNSEEN") == []
    assert dovecot.uids(imap_folder, "SEEN") == uids  # marked, not deleted
    assert article_count(session_factory) == 3
    assert {o.status for o in report.outcomes} == {"stored"}
    assert Spool(ingestor.settings.data_dir).pending() == []

    again = fetch_mailbox(mailbox, ingestor)
    assert again.ok and (again.found, again.stored) == (0, 0)
    assert article_count(session_factory) == 3


def test_messages_already_seen_are_left_alone(
    dovecot: DovecotServer, imap_folder: str, ingestor: Ingestor, session_factory
) -> None:
    dovecot.append(imap_folder, message(1), seen=True)
    dovecot.append(imap_folder, message(2))

    report = fetch_mailbox(dovecot.mailbox(imap_folder), ingestor)

    assert (report.found, report.stored) == (1, 1)
    assert article_count(session_factory) == 1


def test_delete_removes_messages_after_storing_them(
    dovecot: DovecotServer, imap_folder: str, ingestor: Ingestor, session_factory
) -> None:
    deliver(dovecot, imap_folder, 2)
    dovecot.append(imap_folder, message(3), seen=True)  # read by a person: still ours to store

    report = fetch_mailbox(dovecot.mailbox(imap_folder, delete=True), ingestor)

    assert report.ok, report.error
    assert report.stored == 3
    assert dovecot.uids(imap_folder) == []
    assert article_count(session_factory) == 3


def test_delete_without_uidplus_expunges_at_the_end(
    dovecot: DovecotServer,
    imap_folder: str,
    ingestor: Ingestor,
    session_factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A server without UID EXPUNGE (RFC 4315): the messages go with one EXPUNGE at the end.
    monkeypatch.setattr(imap, "_capabilities", lambda conn: {"IMAP4REV1"})
    deliver(dovecot, imap_folder, 2)

    report = fetch_mailbox(dovecot.mailbox(imap_folder, delete=True), ingestor)

    assert report.ok, report.error
    assert report.stored == 2
    assert dovecot.uids(imap_folder) == []
    assert article_count(session_factory) == 2


def test_limit_bounds_one_run(
    dovecot: DovecotServer, imap_folder: str, ingestor: Ingestor, session_factory
) -> None:
    deliver(dovecot, imap_folder, 5)
    mailbox = dovecot.mailbox(imap_folder)

    first = fetch_mailbox(mailbox, ingestor, limit=2)
    assert (first.found, first.stored, first.more) == (5, 2, True)
    assert "3 left for the next run" in first.summary()
    assert len(dovecot.uids(imap_folder, "UNSEEN")) == 3

    second = fetch_mailbox(mailbox, ingestor, limit=2)
    third = fetch_mailbox(mailbox, ingestor, limit=2)
    assert (second.stored, third.stored, third.more) == (2, 1, False)
    assert article_count(session_factory) == 5


def test_mailbox_queue_chooses_the_queue(
    dovecot: DovecotServer, imap_folder: str, ingestor: Ingestor, session_factory
) -> None:
    with session_factory() as session, session.begin():
        queues.ensure(session, "press", "press")
    dovecot.append(imap_folder, message(1))

    report = fetch_mailbox(dovecot.mailbox(imap_folder, queue="press"), ingestor)

    assert report.stored == 1
    with session_factory() as session:
        ticket = session.scalars(select(Ticket)).one()
        queue = session.get(Queue, ticket.queue_id)
        assert queue is not None and queue.name == "press"


def test_database_down_leaves_mail_unseen_until_it_is_stored(
    dovecot: DovecotServer,
    imap_folder: str,
    ingestor: Ingestor,
    down_ingestor: Ingestor,
    session_factory,
) -> None:
    uids = deliver(dovecot, imap_folder, 3)
    mailbox = dovecot.mailbox(imap_folder)

    report = fetch_mailbox(mailbox, down_ingestor)

    assert not report.ok and report.tempfail
    assert report.stored == 0
    assert "will retry" in report.error
    assert dovecot.uids(imap_folder, "UNSEEN") == uids  # nothing marked
    # The message it tried is safe on disk too; the run stopped there.
    assert len(Spool(ingestor.settings.data_dir).pending()) == 1

    recovered = fetch_mailbox(mailbox, ingestor)

    assert recovered.ok, recovered.error
    assert (recovered.stored, recovered.duplicate) == (3, 0)
    assert dovecot.uids(imap_folder, "UNSEEN") == []
    assert article_count(session_factory) == 3
    assert Spool(ingestor.settings.data_dir).pending() == []


def test_connection_dropped_after_a_store_loses_and_doubles_nothing(
    dovecot: DovecotServer, imap_folder: str, ingestor: Ingestor, session_factory
) -> None:
    uids = deliver(dovecot, imap_folder, 3)
    mailbox = dovecot.mailbox(imap_folder)
    connections: list[imaplib.IMAP4] = []

    def recording_connect(box: ImapMailbox, timeout: float) -> imaplib.IMAP4:
        conn = connect(box, timeout)
        connections.append(conn)
        return conn

    def cut() -> None:
        # The second message is stored, but the connection is gone before it is marked.
        connections[-1].sock.shutdown(socket.SHUT_RDWR)

    report = fetch_mailbox(
        mailbox, InterruptingIngestor(ingestor, 2, cut), connector=recording_connect
    )

    assert not report.ok and not report.tempfail
    assert report.error.startswith("IMAP")
    assert report.stored == 2
    assert dovecot.uids(imap_folder, "UNSEEN") == uids[1:]

    again = fetch_mailbox(mailbox, ingestor)

    assert again.ok, again.error
    assert (again.duplicate, again.stored) == (1, 1)
    assert dovecot.uids(imap_folder, "UNSEEN") == []
    assert article_count(session_factory) == 3


def test_server_stopped_mid_fetch_loses_and_doubles_nothing(
    private_dovecot: DovecotServer, ingestor: Ingestor, session_factory
) -> None:
    server = private_dovecot
    server.create_folder("INBOX-test")
    uids = deliver(server, "INBOX-test", 3)
    mailbox = server.mailbox("INBOX-test", delete=True)

    report = fetch_mailbox(mailbox, InterruptingIngestor(ingestor, 1, server.stop))

    assert not report.ok
    assert report.stored == 1
    server.start()
    assert server.uids("INBOX-test") == uids  # nothing deleted

    again = fetch_mailbox(mailbox, ingestor)

    assert again.ok, again.error
    assert (again.duplicate, again.stored) == (1, 2)
    assert server.uids("INBOX-test") == []
    assert article_count(session_factory) == 3


def test_a_failing_mailbox_does_not_stop_the_others(
    dovecot: DovecotServer, imap_folder: str, ingestor: Ingestor, session_factory
) -> None:
    deliver(dovecot, imap_folder, 1)
    wrong_password = dovecot.mailbox(imap_folder, name="wrong", password="not-the-password")
    no_server = dovecot.mailbox(imap_folder, name="closed", port=1)
    no_folder = dovecot.mailbox("no-such-folder", name="missing")
    good = dovecot.mailbox(imap_folder)

    reports = fetch_all([wrong_password, no_server, no_folder, good], ingestor)

    assert [r.ok for r in reports] == [False, False, False, True]
    assert "log in" in reports[0].error
    assert "SELECT" in reports[2].error
    assert reports[3].stored == 1
    assert article_count(session_factory) == 1


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_encrypted_connections(
    dovecot: DovecotServer,
    imap_folder: str,
    ingestor: Ingestor,
    session_factory,
    security: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if dovecot.cafile is None:
        pytest.skip("no openssl to make a test certificate")
    deliver(dovecot, imap_folder, 1)
    mailbox = dovecot.mailbox(imap_folder, security=security)

    # Without trusting the test certificate the connection is refused: it is verified.
    refused = fetch_mailbox(mailbox, ingestor)
    assert not refused.ok and "CERTIFICATE_VERIFY_FAILED" in refused.error

    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cafile))
    report = fetch_mailbox(mailbox, ingestor)
    assert report.ok, report.error
    assert report.stored == 1
    assert article_count(session_factory) == 1


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(env, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "wikibridge", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fetch_mail_command(
    dovecot: DovecotServer,
    imap_folder: str,
    settings_env: dict[str, str],
    session_factory,
    tmp_path: Path,
) -> None:
    deliver(dovecot, imap_folder, 2)
    config = tmp_path / "wikibridge.toml"
    config.write_text(
        f"""
[[imap]]
name = "broken"
host = "{dovecot.host}"
port = {dovecot.port}
security = "plain"
username = "{dovecot.username}"
password = "wrong"

[[imap]]
name = "info"
host = "{dovecot.host}"
port = {dovecot.port}
security = "plain"
username = "{dovecot.username}"
password = "{dovecot.password}"
folder = "{imap_folder}"
"""
    )
    env = dict(settings_env, WIKIBRIDGE_CONFIG=str(config))

    first = _run(env, "fetch-mail")
    assert first.returncode == 1, first.stderr  # "broken" failed ...
    assert "error: broken:" in first.stderr
    assert "info: 2 stored, 0 duplicate, 0 quarantined" in first.stdout  # ... "info" went on
    assert article_count(session_factory) == 2

    second = _run(env, "fetch-mail", "--mailbox", "info", "--limit", "10")
    assert second.returncode == 0, second.stderr
    assert "info: 0 stored" in second.stdout

    unknown = _run(env, "fetch-mail", "--mailbox", "nope")
    assert unknown.returncode != 0
    assert "no [[imap]] mailbox named nope" in unknown.stderr

    unconfigured = _run(settings_env, "fetch-mail")
    assert unconfigured.returncode != 0
    assert "no IMAP mailbox is configured" in unconfigured.stderr
    assert "Traceback" not in unconfigured.stderr


def test_fetch_mail_loop_polls_until_sigterm(
    dovecot: DovecotServer,
    imap_folder: str,
    settings_env: dict[str, str],
    session_factory,
    tmp_path: Path,
) -> None:
    config = tmp_path / "wikibridge.toml"
    config.write_text(
        f"""
[[imap]]
name = "info"
host = "{dovecot.host}"
port = {dovecot.port}
security = "plain"
username = "{dovecot.username}"
password = "{dovecot.password}"
folder = "{imap_folder}"
"""
    )
    env = dict(settings_env, WIKIBRIDGE_CONFIG=str(config), PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "wikibridge", "fetch-mail", "--loop", "--interval", "1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for n in (1, 2):
            dovecot.append(imap_folder, message(n))
            _wait_for(lambda n=n: article_count(session_factory) == n, proc)  # type: ignore[misc]
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "info: 1 stored" in stderr
    assert "fetch-mail: stopped" in stderr
    assert dovecot.uids(imap_folder, "UNSEEN") == []


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
