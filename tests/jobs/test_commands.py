"""`wikibridge worker` and `wikibridge jobs` as an operator runs them."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.jobs.conftest import queue_reply
from tests.smtpserver import SmtpServer, free_port
from wikibridge.cli import main
from wikibridge.config import Settings
from wikibridge.models import OutboxJob

ROOT = Path(__file__).resolve().parents[2]


def command_env(settings_env: dict[str, str], smtp_port: int) -> dict[str, str]:
    env = dict(settings_env)
    env.update(
        PYTHONPATH=str(ROOT),
        WIKIBRIDGE_SMTP_HOST="127.0.0.1",
        WIKIBRIDGE_SMTP_PORT=str(smtp_port),
        WIKIBRIDGE_SMTP_TIMEOUT="5",
    )
    return env


def wikibridge(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wikibridge", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def only_job(session_factory: sessionmaker[Session]) -> OutboxJob:
    with session_factory() as session:
        return session.scalars(select(OutboxJob)).one()


def test_worker_once_sends_queued_mail(
    settings: Settings,
    session_factory: sessionmaker[Session],
    settings_env: dict[str, str],
    smtp_server: SmtpServer,
) -> None:
    reply = queue_reply(session_factory, settings)
    result = wikibridge("worker", "--once", env=command_env(settings_env, smtp_server.port))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 job(s) run: 1 done"
    [got] = smtp_server.received
    assert got.message["Subject"] == f"[Ticket#{reply.number}] Re: Photo of the town hall"
    assert only_job(session_factory).state == "done"


def test_jobs_lists_failures_and_retries_them(
    settings: Settings,
    session_factory: sessionmaker[Session],
    settings_env: dict[str, str],
    smtp_server: SmtpServer,
) -> None:
    reply = queue_reply(session_factory, settings)
    smtp_server.collector.refuse_rcpt["*"] = "550 5.1.1 user unknown"
    env = command_env(settings_env, smtp_server.port)
    runner = CliRunner()

    listed = runner.invoke(main, ["jobs"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "send_mail" in listed.output and "pending" in listed.output
    assert reply.number in listed.output

    ran = runner.invoke(main, ["worker", "--once"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "1 job(s) run: 1 failed" in ran.output

    failed = runner.invoke(main, ["jobs", "--failed"], env=env)
    assert failed.exit_code == 0
    assert "failed" in failed.output
    assert "550 5.1.1 user unknown" in failed.output

    job_id = only_job(session_factory).id
    again = runner.invoke(main, ["jobs", "--retry", str(job_id)], env=env)
    assert again.exit_code == 0, again.output
    assert only_job(session_factory).state == "pending"
    assert runner.invoke(main, ["jobs", "--retry", str(job_id)], env=env).exit_code == 1

    smtp_server.collector.refuse_rcpt.clear()
    assert "1 done" in runner.invoke(main, ["worker", "--once"], env=env).output
    assert len(smtp_server.received) == 1
    assert runner.invoke(main, ["jobs", "--failed"], env=env).output.strip() == "no failed jobs"


def test_worker_needs_the_schema(tmp_path: Path, settings_env: dict[str, str]) -> None:
    env = dict(settings_env, WIKIBRIDGE_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 1
    assert "wikibridge db upgrade" in result.output


def test_sigterm_stops_the_worker(settings_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wikibridge", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=command_env(settings_env, free_port()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        seen = ""
        while "started" not in seen and time.monotonic() < deadline:
            if sel.select(timeout=1):
                seen += proc.stderr.readline()
        assert "started" in seen, seen
        time.sleep(0.3)  # at least one poll
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        rest = proc.stderr.read()
        assert "SIGTERM: stopping after the current job" in rest
        assert "stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
