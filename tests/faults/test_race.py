"""Two `wikibridge ingest --mbox` processes and two `wikibridge worker` processes at once on
PostgreSQL: every message stored once, every ticket number unique, every acknowledgement the
ingest queued sent exactly once, no job run twice.

More of each alone: tests/mail/test_ingest_concurrent.py (eight importers, eight pipes) and
tests/jobs/test_claim.py (two claimers in threads, SKIP LOCKED).
"""

from __future__ import annotations

import mailbox
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import ROOT, wikibridge
from tests.faults.conftest import show
from tests.mailbuilder import make_mail
from tests.smtpserver import SmtpServer, smtp_server  # noqa: F401 - fixture
from wikibridge.models import Article, AuditEvent, OutboxJob, Ticket
from wikibridge.store import queues
from wikibridge.tickets.numbers import is_valid

MESSAGES = 60


@pytest.fixture(params=["postgres"])
def database_url(request: pytest.FixtureRequest, databases) -> str:  # type: ignore[no-untyped-def]
    return str(databases.postgres())


def test_two_importers_and_two_workers_race(
    settings_env: dict[str, str],
    session_factory: sessionmaker[Session],
    smtp_server: SmtpServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    with session_factory.begin() as s:
        q = queues.ensure(s, "info-en", "info")
        queues.add_address(s, q, "info-en@example.org", "Wikipedia information team")
        q.auto_ack = True
        q.ack_subject = "We received your message"
        q.ack_body = "Your ticket is {ticket}."
    env = {
        **settings_env,
        "WIKIBRIDGE_SMTP_HOST": "127.0.0.1",
        "WIKIBRIDGE_SMTP_PORT": str(smtp_server.port),
    }
    boxes = []
    for p in range(2):
        path = tmp_path / f"part-{p}.mbox"
        box = mailbox.mbox(path)
        for i in range(p, MESSAGES, 2):
            box.add(make_mail(sender=f"reader{i}@example.net", subject=f"Question {i}"))
        box.close()
        boxes.append(path)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "wikibridge", "worker", "--interval", "0.2"],
            env={**env, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        with ThreadPoolExecutor(2) as pool:
            results = list(
                pool.map(lambda p: wikibridge("ingest", "--mbox", str(p), env=env), boxes)
            )
        for r in results:
            assert r.returncode == 0, r.stderr.decode()[-2000:]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(smtp_server.received) < MESSAGES:
            time.sleep(0.2)
        time.sleep(1)  # would a job run twice, its second mail arrives now
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            _, err = w.communicate(timeout=60)
            assert w.returncode == 0, err.decode()[-2000:]

    with session_factory() as s:
        numbers = list(s.scalars(select(Ticket.number)))
        articles = s.scalar(select(func.count()).select_from(Article))
        jobs = list(s.scalars(select(OutboxJob)))
        sent = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "mail_sent")
        )
    ids = Counter(r.message["Message-ID"] for r in smtp_server.received)
    by_worker = Counter((j.locked_by or "").split(":")[1] for j in jobs if j.locked_by)
    show(
        "after",
        tickets=len(numbers),
        inbound=MESSAGES,
        articles=articles,
        jobs=len(jobs),
        mails=len(smtp_server.received),
        audit_mail_sent=sent,
        jobs_by_worker_pid=dict(by_worker),
    )
    assert len(numbers) == len(set(numbers)) == MESSAGES
    assert all(is_valid(n) for n in numbers)
    assert articles == 2 * MESSAGES  # each message and its acknowledgement
    assert {(j.state, j.attempts) for j in jobs} == {("done", 1)}
    assert len(jobs) == MESSAGES == sent
    assert len(smtp_server.received) == MESSAGES
    assert max(ids.values()) == 1, "a mail was sent twice"
    rcpts = sorted(r.rcpt_tos[0] for r in smtp_server.received)
    assert rcpts == sorted(f"reader{i}@example.net" for i in range(MESSAGES))
