"""The database down (a private PostgreSQL really stopped; SQLite's file made unopenable) during
ingest, during a reply in the web app, and during a worker job: a tempfail or a retry, nothing
lost, nothing half-written, nothing done twice."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.cli import wikibridge
from tests.faults.conftest import show
from tests.jobs.conftest import make_worker, queue_reply
from tests.mailbuilder import make_mail
from tests.pgserver import PrivateServer
from tests.smtpserver import SmtpServer, smtp_server  # noqa: F401 - fixture
from tests.webapp import helpers
from webapp import create_app
from wikibridge.config import Settings
from wikibridge.db import make_engine, make_sessionmaker
from wikibridge.jobs.base import JobContext
from wikibridge.jobs.send_mail import send_mail
from wikibridge.mail.spool import Spool
from wikibridge.models import Article, AuditEvent, OutboxJob
from wikibridge.store import articles as article_store
from wikibridge.store import volunteers


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = {
            model.__tablename__: int(conn.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Article, OutboxJob, AuditEvent)
        }
    engine.dispose()
    return found


def env_for(tmp_path: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKIBRIDGE_")}
    env.update(
        WIKIBRIDGE_DATA_DIR=str(tmp_path / "data"),
        WIKIBRIDGE_DATABASE_URL=url,
        WIKIBRIDGE_SECRET_KEY="test",
    )
    return env


# -- ingest -------------------------------------------------------------------------------------


def check_outage_and_recovery(env: dict[str, str], url: str, stop: object, start: object) -> None:
    raw = make_mail(subject="Sent while the database was down")
    assert wikibridge("db", "upgrade", env=env).returncode == 0
    show("before", **counts(url))
    stop()  # type: ignore[operator]
    result = wikibridge("ingest", env=env, stdin=raw)
    assert result.returncode == 75, result.stderr.decode()
    assert b"temporary failure" in result.stderr
    spool = Spool(Path(env["WIKIBRIDGE_DATA_DIR"]))
    [waiting] = spool.pending()
    assert spool.read(waiting.sha256) == raw
    show("down", exit=result.returncode, spooled=len(spool.pending()))
    status = wikibridge("status", env=env)
    assert status.returncode != 0 and b"cannot reach the database" in status.stderr

    start()  # type: ignore[operator]
    result = wikibridge("spool", "reprocess", env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert b"1 message(s) reprocessed: 1 stored" in result.stdout
    # The mail server's own retry of the same message must not store it a second time.
    again = wikibridge("ingest", env=env, stdin=raw)
    assert again.returncode == 0 and again.stdout.startswith(b"duplicate")
    assert wikibridge("spool", "reprocess", env=env).stdout.startswith(b"0 message(s)")
    after = counts(url)
    show("after", spooled=len(spool.pending()), **after)
    assert after["articles"] == 1
    assert spool.pending() == []
    assert spool.raw.get(waiting.sha256) == raw


def test_ingest_with_sqlite_unopenable(tmp_path: Path) -> None:
    db = tmp_path / "data" / "wikibridge.sqlite3"
    url = f"sqlite:///{db}"
    moved = tmp_path / "moved.sqlite3"

    def stop() -> None:
        # The database file is gone and a directory stands in its place: SQLite cannot open it.
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{db}{suffix}")
            if p.exists():
                p.rename(Path(f"{moved}{suffix}"))
        db.mkdir()

    def start() -> None:
        db.rmdir()
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{moved}{suffix}")
            if p.exists():
                p.rename(Path(f"{db}{suffix}"))

    check_outage_and_recovery(env_for(tmp_path, url), url, stop, start)


def test_ingest_with_postgres_stopped(
    tmp_path: Path, pg_up: PrivateServer, private_url: str
) -> None:
    check_outage_and_recovery(env_for(tmp_path, private_url), private_url, pg_up.stop, pg_up.start)


# -- a reply in the web app ---------------------------------------------------------------------


def test_reply_with_postgres_stopped_fails_cleanly_and_writes_nothing(
    pg_up: PrivateServer, private_settings: Settings
) -> None:
    engine = make_engine(private_settings.database_url)
    with make_sessionmaker(engine).begin() as session:
        queue = helpers.queue(session, "info-en", "info-en@example.org")
        volunteer = helpers.volunteer(session)
        volunteers.grant(session, volunteer.id, queue.id, "rw")
        ticket = helpers.ticket(session, queue, "Wrong birth date")
        article_store.add(
            session,
            Article(
                ticket_id=ticket.id,
                kind="inbound",
                sender="reader@example.net",
                sender_address="reader@example.net",
                subject=ticket.title,
                body_text="Hello.",
                message_id="q1@example.net",
            ),
        )
        number = ticket.number
    engine.dispose()
    app = create_app(private_settings)  # not TESTING: errors become pages, as in production
    client: FlaskClient = app.test_client()
    helpers.login(client, volunteer)
    token = helpers.csrf_token(client, f"/tickets/{number}/reply")
    form = {
        "csrf_token": token,
        "to": "reader@example.net",
        "subject": "Re: Wrong birth date",
        "body": "Thank you, we corrected it.",
        "state": "open",
    }
    before = counts(private_settings.database_url)
    show("before", **before)

    pg_up.stop()
    response = client.post(f"/tickets/{number}/reply", data=form)
    page = response.get_data(as_text=True)
    show("down", status=response.status_code)
    assert response.status_code in (500, 503)
    assert "Traceback" not in page and "psycopg" not in page and "OperationalError" not in page

    pg_up.start()
    assert counts(private_settings.database_url) == before  # nothing half-written
    response = client.post(f"/tickets/{number}/reply", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    after = counts(private_settings.database_url)
    show("after", **after)
    assert after["articles"] == before["articles"] + 1
    assert after["outbox_jobs"] == before["outbox_jobs"] + 1
    app.extensions["wikibridge"].engine.dispose()


# -- a worker job -------------------------------------------------------------------------------


def test_worker_pass_with_postgres_stopped_sends_once_after_restart(
    pg_up: PrivateServer,
    private_settings: Settings,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    engine = make_engine(private_settings.database_url)
    sessions = make_sessionmaker(engine)
    queue_reply(sessions, private_settings)
    worker = make_worker(private_settings, sessions, smtp_server.port)
    show("before", mails=len(smtp_server.received), **counts(private_settings.database_url))

    pg_up.stop()
    with pytest.raises(OperationalError):
        worker.run_once()  # run_forever logs it and polls again; nothing was claimed
    pg_up.start()

    assert worker.run_once() == {"done": 1}
    assert worker.run_once() == {}
    show("after", mails=len(smtp_server.received), **counts(private_settings.database_url))
    assert len(smtp_server.received) == 1
    engine.dispose()


def test_database_lost_inside_a_job_is_retried_after_the_lease_and_sent_once(
    pg_up: PrivateServer,
    private_settings: Settings,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    """The claim is committed, then the server stops before the job reads its article: the
    outcome cannot be written either, so the job stays claimed; after the restart and the end
    of its lease it runs again, and the mail goes out once."""
    engine = make_engine(private_settings.database_url)
    sessions = make_sessionmaker(engine)
    reply = queue_reply(sessions, private_settings)

    def stop_then_send(ctx: JobContext, job: OutboxJob):  # type: ignore[no-untyped-def]
        if not stopped:
            stopped.append(True)
            pg_up.stop()
        return send_mail(ctx, job)

    stopped: list[bool] = []
    lease = dict(lease=timedelta(seconds=2), job_budget=timedelta(seconds=1))
    worker = make_worker(
        private_settings,
        sessions,
        smtp_server.port,
        handlers={"send_mail": stop_then_send},
        **lease,
    )
    show("before", mails=len(smtp_server.received), **counts(private_settings.database_url))
    # The job's outcome is unrecorded; the pass then fails at its next claim (run_forever logs
    # that and polls again).
    with pytest.raises(OperationalError):
        worker.run_once()
    pg_up.start()
    with sessions() as s:
        job = s.scalars(select(OutboxJob)).one()
        assert (job.state, job.attempts) == ("running", 1)  # claimed by a worker that lost it
        assert job.locked_until is not None
        wait = (job.locked_until - job.run_after).total_seconds()
    show("down", mails=len(smtp_server.received), job=job.state)
    assert len(smtp_server.received) == 0

    time.sleep(min(max(wait, 0), 3) + 0.2)  # the lease runs out
    assert worker.run_once() == {"done": 1}
    assert worker.run_once() == {}
    with sessions() as s:
        job = s.scalars(select(OutboxJob)).one()
        assert (job.state, job.attempts) == ("done", 2)
        sent = s.scalars(select(AuditEvent).where(AuditEvent.action == "mail_sent")).all()
    show("after", mails=len(smtp_server.received), job=job.state, audit_mail_sent=len(sent))
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].message["Message-ID"].strip() == f"<{reply.message_id}>"
    assert len(sent) == 1
    engine.dispose()
