"""Scale-out on one PostgreSQL: 3 web workers, 2 job workers and 2 ingest processes at once.

The deployment of the README's "Several hosts" section, on loopback: `wikibridge serve
--workers 3` under HTTP load from wrk (the verify API, and a volunteer's queue page), two
`wikibridge worker` processes sending the queue's automatic acknowledgements to a real SMTP
server, and two `wikibridge ingest --mbox` processes storing mail, all at the same time. Then:
no mail lost, every ticket number unique and valid, every job done once and every
acknowledgement received exactly once, and the web app answered every request.
"""

from __future__ import annotations

import mailbox
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.cli import ROOT
from tests.mailbuilder import make_mail
from tests.smtpserver import SmtpServer, free_port, smtp_server  # noqa: F401
from tests.webapp import helpers
from wikibridge.config import Settings
from wikibridge.models import Article, OutboxJob, Ticket
from wikibridge.store import queues, volunteers
from wikibridge.tickets.numbers import is_valid

pytestmark = pytest.mark.slow

MESSAGES_PER_INGEST = 150
LOAD_SECONDS = 12


@pytest.fixture(params=["postgres"])
def database_url(request: pytest.FixtureRequest, databases) -> str:  # type: ignore[no-untyped-def]
    return str(databases.postgres())


def write_mbox(path: Path, first: int, count: int) -> None:
    box = mailbox.mbox(str(path))
    for i in range(first, first + count):
        box.add(
            make_mail(
                sender=f"Reader {i} <reader{i}@example.net>",
                subject=f"Question {i} about a photo",
                body=f"Hello, message {i}.",
                message_id=f"<scale-{i}@example.net>",
            )
        )
    box.close()


def session_cookie(settings: Settings, volunteer_id: int) -> str:
    """The signed session cookie a finished login would give this volunteer."""
    app = Flask("cookie")
    app.secret_key = settings.secret_key
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    return f"wikibridge_session={serializer.dumps({'volunteer_id': volunteer_id})}"


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "wikibridge", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for_http(port: int, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the web app did not start")


def wrk(url: str, cookie: str | None = None) -> subprocess.Popen[str]:
    binary = shutil.which("wrk")
    assert binary, "wrk is installed by scripts/install-system-deps.sh"
    args = [binary, "-t1", "-c4", f"-d{LOAD_SECONDS}s", "--timeout", "10s", "--latency"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    return subprocess.Popen([*args, url], stdout=subprocess.PIPE, text=True)


def requests_and_errors(report: str) -> tuple[int, int]:
    done = re.search(r"(\d+) requests in", report)
    assert done, report
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    broken = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    errors = int(bad.group(1)) if bad else 0
    if broken:
        errors += sum(int(n) for n in broken.groups())
    return int(done.group(1)), errors


def test_three_web_two_job_two_ingest_processes_share_one_postgresql(
    settings: Settings,
    settings_env: dict[str, str],
    session_factory: sessionmaker[Session],
    smtp_server: SmtpServer,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    with session_factory() as session:
        q = queues.ensure(session, "info-en", "info")
        queues.add_address(session, q, "info-en@example.org")
        q.auto_ack = True
        q.ack_subject = "We received your mail"
        q.ack_body = "Your ticket is {ticket}."
        v = helpers.volunteer(session, "Loader")
        volunteers.grant(session, v.id, q.id, "rw")
        session.commit()
        cited = helpers.ticket(session, q, "Cited on the wiki").number
        session.commit()
        volunteer_id, queue_id = v.id, q.id
    env = {
        **settings_env,
        "PYTHONPATH": str(ROOT),
        "WIKIBRIDGE_SMTP_HOST": "127.0.0.1",
        "WIKIBRIDGE_SMTP_PORT": str(smtp_server.port),
        # One load client from one address: the public lookup limit would refuse it after 60.
        "WIKIBRIDGE_VERIFY_LOOKUPS_PER_MINUTE": "1000000",
    }
    boxes = [tmp_path / f"box{i}.mbox" for i in range(2)]
    for i, box in enumerate(boxes):
        write_mbox(box, i * MESSAGES_PER_INGEST, MESSAGES_PER_INGEST)
    total = 2 * MESSAGES_PER_INGEST
    port = free_port()

    processes: list[subprocess.Popen[bytes]] = []
    try:
        web = start(["serve", "--workers", "3", "--port", str(port)], env, tmp_path / "web.log")
        processes.append(web)
        wait_for_http(port)
        base = f"http://127.0.0.1:{port}"
        for i in range(2):
            processes.append(
                start(["worker", "--interval", "0.2"], env, tmp_path / f"worker{i}.log")
            )
        load = [
            wrk(f"{base}/api/v1/verify/{cited}"),
            wrk(
                f"http://127.0.0.1:{port}/queues/{queue_id}", session_cookie(settings, volunteer_id)
            ),
        ]
        ingests = [
            start(["ingest", "--mbox", str(box)], env, tmp_path / f"ingest{i}.log")
            for i, box in enumerate(boxes)
        ]
        for i, proc in enumerate(ingests):
            assert proc.wait(timeout=240) == 0, (tmp_path / f"ingest{i}.log").read_text()
        reports = [proc.communicate(timeout=LOAD_SECONDS + 30)[0] for proc in load]

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_factory() as session:
                open_jobs = session.scalar(
                    select(func.count()).select_from(OutboxJob).where(OutboxJob.state != "done")
                )
            if open_jobs == 0 and len(smtp_server.received) >= total:
                break
            time.sleep(0.5)
    finally:
        for proc in processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    with session_factory() as session:
        articles = session.scalar(
            select(func.count()).select_from(Article).where(Article.kind == "inbound")
        )
        numbers = list(session.scalars(select(Ticket.number).where(Ticket.number != cited)))
        jobs = list(session.scalars(select(OutboxJob)))
    print(f"articles {articles}, tickets {len(numbers)}, jobs {len(jobs)}, "
          f"mails received {len(smtp_server.received)}")  # fmt: skip
    assert articles == total, "mail lost"
    assert len(numbers) == total and len(set(numbers)) == total
    assert all(is_valid(n) for n in numbers)
    assert len(jobs) == total
    assert {j.state for j in jobs} == {"done"}
    assert all(j.attempts == 1 for j in jobs), "a job ran more than once"
    recipients = Counter(r.rcpt_tos[0] for r in smtp_server.received)
    assert len(smtp_server.received) == total
    assert set(recipients.values()) == {1}, "an acknowledgement was sent twice"
    assert set(recipients) == {f"reader{i}@example.net" for i in range(total)}

    for report in reports:
        done, errors = requests_and_errors(report)
        print(report)
        assert done >= 20 and errors == 0, report
