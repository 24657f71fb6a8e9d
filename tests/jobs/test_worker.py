"""The outbox worker against a real SMTP server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.jobs.conftest import EARLIER_ID, INBOUND_ID, REQUESTER, make_worker, queue_reply
from tests.smtpserver import SmtpServer, TlsFiles, free_port
from wikibridge.config import Settings
from wikibridge.jobs.base import JobContext, PermanentJobError
from wikibridge.jobs.worker import Backoff, Worker
from wikibridge.models import AuditEvent, OutboxJob
from wikibridge.store import jobs as store


def job_of(session_factory: sessionmaker[Session], job_id: int | None = None) -> OutboxJob:
    with session_factory() as session:
        stmt = select(OutboxJob).order_by(OutboxJob.id)
        if job_id is not None:
            stmt = stmt.where(OutboxJob.id == job_id)
        return session.scalars(stmt).first()  # type: ignore[return-value]


def audit_actions(session_factory: sessionmaker[Session], ticket_id: int) -> list[str]:
    with session_factory() as session:
        stmt = select(AuditEvent.action).where(AuditEvent.ticket_id == ticket_id)
        return list(session.scalars(stmt.order_by(AuditEvent.id)))


def test_a_queued_reply_arrives(
    settings: Settings, session_factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    reply = queue_reply(session_factory, settings)
    worker = make_worker(settings, session_factory, smtp_server.port)

    assert worker.run_once() == {"done": 1}

    [got] = smtp_server.received
    msg = got.message
    assert got.rcpt_tos == [REQUESTER]
    assert got.mail_from == "permissions@example.org"
    assert msg["From"] == "Wikimedia Commons <permissions@example.org>"
    assert msg["To"] == REQUESTER
    assert msg["Subject"] == f"[Ticket#{reply.number}] Re: Photo of the town hall"
    assert msg["Message-ID"].strip() == f"<{reply.message_id}>"  # may be folded
    assert reply.message_id.endswith("@tickets.example.org")
    assert msg["In-Reply-To"] == f"<{INBOUND_ID}>"
    assert msg["References"] == f"<{EARLIER_ID}> <{INBOUND_ID}>"
    assert msg["Auto-Submitted"] is None
    assert msg["Date"]
    body = msg.get_content()
    assert body.startswith("Dear requester,\n\nThank you, the permission is in order.")
    assert body.endswith("-- \nWikimedia Commons Volunteer Response Team\n")

    job = job_of(session_factory)
    assert (job.state, job.attempts, job.last_error) == ("done", 1, "")
    assert job.finished_at is not None
    assert audit_actions(session_factory, reply.ticket_id) == ["mail_queued", "mail_sent"]
    assert worker.run_once() == {}  # nothing is sent twice
    assert len(smtp_server.received) == 1


def test_retried_while_the_server_is_down_then_sent_once(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    reply = queue_reply(session_factory, settings)
    port = free_port()  # nothing listens here yet
    worker = make_worker(settings, session_factory, port)

    assert worker.run_once() == {"pending": 1}
    job = job_of(session_factory)
    assert (job.state, job.attempts) == ("pending", 1)
    assert "cannot connect to the SMTP server 127.0.0.1" in job.last_error
    assert job.locked_until is None

    assert worker.run_once() == {"pending": 1}
    assert job_of(session_factory).attempts == 2

    server = SmtpServer(port).start()
    try:
        assert worker.run_once() == {"done": 1}
        assert worker.run_once() == {}
    finally:
        server.stop()
    assert len(server.received) == 1
    assert server.received[0].message["Message-ID"].strip() == f"<{reply.message_id}>"
    job = job_of(session_factory)
    assert (job.state, job.attempts, job.last_error) == ("done", 3, "")
    assert audit_actions(session_factory, reply.ticket_id).count("mail_sent") == 1


def test_a_pass_does_not_rerun_what_it_put_back(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    queue_reply(session_factory, settings)
    worker = make_worker(settings, session_factory, free_port(), backoff=Backoff(base=0, cap=0))
    assert worker.run_once() == {"pending": 1}
    assert job_of(session_factory).attempts == 1


def test_permanent_refusal_fails_the_job(
    settings: Settings, session_factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    reply = queue_reply(session_factory, settings)
    smtp_server.collector.refuse_rcpt["*"] = "550 5.1.1 <jane@example.net>: user unknown"
    worker = make_worker(settings, session_factory, smtp_server.port)

    assert worker.run_once() == {"failed": 1}
    job = job_of(session_factory)
    assert (job.state, job.attempts) == ("failed", 1)
    assert "refused every recipient" in job.last_error
    assert "550 5.1.1 <jane@example.net>: user unknown" in job.last_error
    assert job.finished_at is not None
    assert "mail_sent" not in audit_actions(session_factory, reply.ticket_id)
    assert worker.run_once() == {}


def test_gives_up_after_max_attempts(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    queue_reply(session_factory, settings)
    with session_factory.begin() as session:
        session.get(OutboxJob, job_of(session_factory).id).max_attempts = 2  # type: ignore[union-attr]
    worker = make_worker(settings, session_factory, free_port())
    assert worker.run_once() == {"pending": 1}
    assert worker.run_once() == {"failed": 1}
    job = job_of(session_factory)
    assert (job.state, job.attempts) == ("failed", 2)
    assert "cannot connect" in job.last_error


def test_starttls_delivery(
    settings: Settings, session_factory: sessionmaker[Session], tls_files: TlsFiles
) -> None:
    from tests.smtpserver import PASSWORD, USERNAME

    queue_reply(session_factory, settings)
    server = SmtpServer(security="starttls", tls=tls_files, require_auth=True).start()
    try:
        worker = make_worker(
            settings,
            session_factory,
            server.port,
            smtp={"security": "starttls", "username": USERNAME, "password": PASSWORD},
            ssl_context=tls_files.client_context(),
        )
        assert worker.run_once() == {"done": 1}
    finally:
        server.stop()
    assert len(server.received) == 1


def test_auto_reply_header(
    settings: Settings, session_factory: sessionmaker[Session], smtp_server: SmtpServer
) -> None:
    reply = queue_reply(session_factory, settings)
    with session_factory.begin() as session:
        from wikibridge.models import Article

        article = session.get(Article, reply.article_id)
        assert article is not None
        article.flags = ["auto_reply"]
    make_worker(settings, session_factory, smtp_server.port).run_once()
    assert smtp_server.received[0].message["Auto-Submitted"] == "auto-replied"


# -- the loop, with handlers of its own -----------------------------------------------------


def context(settings: Settings, session_factory: sessionmaker[Session]) -> JobContext:
    return JobContext(settings, session_factory)


def enqueue(session_factory: sessionmaker[Session], kind: str, n: int = 1) -> list[int]:
    with session_factory.begin() as session:
        return [store.enqueue(session, kind, {"n": i}).id for i in range(n)]


def test_unknown_kind_fails_with_a_clear_error(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    [job_id] = enqueue(session_factory, "edit_page")
    worker = Worker(context(settings, session_factory), handlers={"noop": lambda c, j: None})
    assert worker.run_once() == {"failed": 1}
    assert job_of(session_factory, job_id).last_error == (
        "unknown job kind 'edit_page' (known: noop)"
    )


def test_bad_payload_and_bugs(settings: Settings, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        bad = store.enqueue(session, "send_mail", {"article": 1}).id
        missing = store.enqueue(session, "send_mail", {"article_id": 999999}).id
        buggy = store.enqueue(session, "buggy", {}).id

    def buggy_handler(ctx: JobContext, job: OutboxJob) -> None:
        raise KeyError("oops")

    from wikibridge.jobs.handlers import default_handlers

    handlers = {**default_handlers(), "buggy": buggy_handler}
    worker = Worker(context(settings, session_factory), handlers=handlers, backoff=Backoff(base=60))
    assert worker.run_once() == {"failed": 2, "pending": 1}
    assert "names no article" in job_of(session_factory, bad).last_error
    assert "article 999999 does not exist" in job_of(session_factory, missing).last_error
    job = job_of(session_factory, buggy)
    assert (job.state, job.last_error) == ("pending", "KeyError: 'oops'")


def test_stop_finishes_the_current_job_and_gives_back_the_rest(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    ids = enqueue(session_factory, "stop", 3)
    ran: list[int] = []
    worker: Worker

    def handler(ctx: JobContext, job: OutboxJob) -> None:
        ran.append(job.id)
        worker.stop()  # as SIGTERM does, in the middle of a job

    worker = Worker(context(settings, session_factory), handlers={"stop": handler}, batch=3)
    assert worker.run_once() == {"done": 1, "released": 2}
    assert ran == ids[:1]
    states = [(job_of(session_factory, i).state, job_of(session_factory, i).attempts) for i in ids]
    assert states == [("done", 1), ("pending", 0), ("pending", 0)]


def test_jobs_are_given_back_when_their_lease_runs_short(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    enqueue(session_factory, "noop", 3)
    worker = Worker(
        context(settings, session_factory),
        handlers={"noop": lambda c, j: None},
        batch=3,
        lease=timedelta(seconds=60),
        job_budget=timedelta(seconds=59, microseconds=999_000),
    )
    # A job starts only with nearly the whole lease left: the rest of each batch goes back and
    # is claimed afresh, and every job still runs once.
    outcomes = worker.run_once()
    assert outcomes["done"] == 3
    with session_factory() as session:
        rows = session.scalars(select(OutboxJob)).all()
        assert [(j.state, j.attempts) for j in rows] == [("done", 1)] * 3


def test_the_record_commits_with_done(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    from wikibridge.store import audit

    [job_id] = enqueue(session_factory, "noop")

    def handler(ctx: JobContext, job: OutboxJob):  # type: ignore[no-untyped-def]
        return lambda session: audit.record(session, "noop_done", job_id=job.id)

    Worker(context(settings, session_factory), handlers={"noop": handler}).run_once()
    with session_factory() as session:
        [event] = session.scalars(select(AuditEvent)).all()
    assert (event.action, event.detail) == ("noop_done", {"job_id": job_id})


def test_permanent_error_from_a_handler(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    [job_id] = enqueue(session_factory, "bad")

    def handler(ctx: JobContext, job: OutboxJob) -> None:
        raise PermanentJobError("the page is protected")

    assert Worker(context(settings, session_factory), handlers={"bad": handler}).run_once() == {
        "failed": 1
    }
    assert job_of(session_factory, job_id).last_error == "the page is protected"


@pytest.mark.parametrize("attempts", [1, 2, 5, 20, 200])
def test_backoff_grows_with_jitter_and_a_cap(attempts: int) -> None:
    backoff = Backoff(base=30, cap=3600)
    full = min(3600, 30 * 2 ** (attempts - 1))
    rng = random.Random(attempts)
    delays = [backoff.delay(attempts, rng).total_seconds() for _ in range(50)]
    assert all(full / 2 <= d <= full for d in delays)
    assert len(set(delays)) > 1


def test_a_failing_record_does_not_undo_done(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    [job_id] = enqueue(session_factory, "noop")

    def handler(ctx: JobContext, job: OutboxJob):  # type: ignore[no-untyped-def]
        def record(session: Session) -> None:
            from wikibridge.store import audit

            audit.record(session, "noop_done")
            session.flush()
            raise RuntimeError("bug in the record")

        return record

    worker = Worker(context(settings, session_factory), handlers={"noop": handler})
    assert worker.run_once() == {"done": 1}
    assert job_of(session_factory, job_id).state == "done"
    with session_factory() as session:
        assert session.scalars(select(AuditEvent)).all() == []
